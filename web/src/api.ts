// Thin client for the HAIP REST API (same origin, cookie session + CSRF header).

export type Role = 'admin' | 'clinician' | 'researcher' | 'annotator' | 'auditor' | 'service';

export const ALL_ROLES: Role[] = ['admin', 'clinician', 'researcher', 'annotator', 'auditor', 'service'];

export interface User {
  id: number;
  username: string;
  display_name: string;
  roles: Role[];
  department: string | null;
  disabled: boolean;
  locked_until: string | null;
  created_at: string;
  last_login_at: string | null;
}

export interface MeResponse extends User {
  csrf_token?: string;
}

export interface LoginResponse {
  token: string;
  csrf_token: string;
  expires_at: string;
  user: User;
}

export interface Token {
  id: number | string;
  name: string;
  username: string;
  kind: 'api' | 'session';
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
}

export interface CreatedToken extends Partial<Token> {
  id: number | string;
  name: string;
  username: string;
  token: string;
  expires_at: string | null;
}

export type Outcome = 'success' | 'denied' | 'error';

export interface AuditRecord {
  id: number;
  ts: string;
  request_id: string;
  username: string | null;
  roles: string[] | string | null;
  action: string;
  method: string;
  path: string;
  status: number;
  outcome: Outcome;
  patient: string | null;
  detail: unknown;
  /** Hash of the previous record in the chain (served by HAIP; optional in the contract). */
  prev_hash?: string | null;
  hash: string;
}

export interface AuditPage {
  records: AuditRecord[];
  next_before_id: number | null;
}

export interface AuditVerify {
  ok: boolean;
  records: number;
  first_bad_id: number | null;
  reason: string | null;
}

export interface SystemInfo {
  version: string;
  commit: string;
  backend: string;
  uptime_s: number;
  started_at: string;
  data_dir: string;
  user_count: number;
  audit_records: number;
}

export interface LakeStats {
  resources: number;
  by_type: Record<string, number>;
}

export interface IngestReport {
  written: number;
  unchanged: number;
  rejected: number;
  by_type: Record<string, number>;
  errors: string[];
  seconds: number;
}

/** A FHIR resource as the console reads it: only resourceType and id are certain. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  [key: string]: unknown;
}

export interface FhirBundle {
  resourceType: 'Bundle';
  type?: string;
  total?: number;
  link?: { relation: string; url: string }[];
  entry?: { fullUrl?: string; resource?: FhirResource }[];
}

export const BREAK_GLASS_HEADER = 'X-HAIP-Break-Glass';

/**
 * Header values must be ISO-8859-1 in fetch, so a reason in Chinese cannot be
 * sent as typed: characters outside printable ASCII (and "%") are
 * percent-encoded as UTF-8, which the audit record keeps as sent.
 */
export function encodeHeaderText(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (c >= 0x20 && c < 0x7f && ch !== '%') out += ch;
    else if (c >= 0xd800 && c <= 0xdfff) out += '%EF%BF%BD'; // lone surrogate: U+FFFD
    else out += encodeURIComponent(ch);
  }
  return out;
}

function breakGlassHeaders(reason?: string | null): Record<string, string> | undefined {
  const r = reason?.trim();
  return r ? { [BREAK_GLASS_HEADER]: encodeHeaderText(r) } : undefined;
}

/** Reduces a (possibly absolute) Bundle link to a path on this origin. */
function sameOriginPath(url: string): string {
  const u = new URL(url, window.location.origin);
  return u.pathname + u.search;
}

/** An error reported by the server (or the network) in the contract's shape. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly requestId: string | null;
  /** The 401 ended the console session; the sign-in page already says so. */
  sessionEnded = false;

  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

const CSRF_KEY = 'haip.csrf';

export function getCsrf(): string | null {
  try {
    return sessionStorage.getItem(CSRF_KEY);
  } catch {
    return null;
  }
}

export function setCsrf(token: string | null): void {
  try {
    if (token) sessionStorage.setItem(CSRF_KEY, token);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch {
    // sessionStorage unavailable: the token lives only until reload, and
    // GET /api/auth/me hands it out again.
  }
}

type UnauthorizedHandler = () => void;
let onUnauthorized: UnauthorizedHandler | null = null;

/** Called when an authenticated request answers 401 (session expired or revoked). */
export function setUnauthorizedHandler(h: UnauthorizedHandler | null): void {
  onUnauthorized = h;
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  /** Sent as-is instead of JSON (file uploads); set Content-Type in `headers`. */
  rawBody?: Blob | ArrayBuffer | string;
  query?: Record<string, string | number | null | undefined>;
  /** Extra request headers (e.g. X-HAIP-Break-Glass, Content-Encoding). */
  headers?: Record<string, string>;
  /** Non-2xx statuses whose JSON body is a normal answer (ingest's 422). */
  okStatuses?: number[];
  /** Do not treat a 401 as "session ended" (login and the initial /me probe). */
  noSessionRedirect?: boolean;
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    qs.set(k, String(v));
  }
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

interface OperationOutcomeIssue {
  severity?: string;
  code?: string;
  diagnostics?: string;
  expression?: string[];
}

/**
 * Builds the ApiError for a failed response: the REST API answers
 * {code, message, request_id}, the FHIR API an OperationOutcome whose id is
 * the request ID.
 */
function errorFromBody(res: Response, data: unknown): ApiError {
  const obj = (data && typeof data === 'object' ? data : {}) as Record<string, unknown>;
  const headerId = res.headers.get('X-Request-Id');
  if (obj.resourceType === 'OperationOutcome') {
    const issues = (Array.isArray(obj.issue) ? obj.issue : []) as OperationOutcomeIssue[];
    const message = issues
      .map((i) => {
        const text = i.diagnostics || i.code || '';
        return i.expression?.length ? `${text} (${i.expression.join(', ')})` : text;
      })
      .filter(Boolean)
      .join('; ');
    return new ApiError(
      res.status,
      issues[0]?.code || `http_${res.status}`,
      message,
      typeof obj.id === 'string' ? obj.id : headerId,
    );
  }
  return new ApiError(
    res.status,
    typeof obj.code === 'string' ? obj.code : `http_${res.status}`,
    typeof obj.message === 'string' && obj.message ? obj.message : '',
    typeof obj.request_id === 'string' ? obj.request_id : headerId,
  );
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  Object.assign(headers, opts.headers);
  if (method !== 'GET') {
    const csrf = getCsrf();
    if (csrf) headers['X-CSRF-Token'] = csrf;
  }

  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      credentials: 'same-origin',
      body: opts.rawBody !== undefined ? opts.rawBody : opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
  } catch (e) {
    throw new ApiError(0, 'network_error', e instanceof Error ? e.message : String(e), null);
  }

  if (res.status === 204) return undefined as T;

  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }

  if (!res.ok && !(opts.okStatuses?.includes(res.status) && data !== undefined)) {
    const apiErr = errorFromBody(res, data);
    if (res.status === 401 && !opts.noSessionRedirect && onUnauthorized) {
      apiErr.sessionEnded = true;
      onUnauthorized();
    }
    throw apiErr;
  }

  if (data === undefined) {
    throw new ApiError(res.status, 'bad_response', '', res.headers.get('X-Request-Id'));
  }
  return data as T;
}

export const api = {
  login: (username: string, password: string) =>
    request<LoginResponse>('/api/auth/login', {
      method: 'POST',
      body: { username, password },
      noSessionRedirect: true,
    }),
  logout: () => request<void>('/api/auth/logout', { method: 'POST', noSessionRedirect: true }),
  me: () => request<MeResponse>('/api/auth/me', { noSessionRedirect: true }),

  listUsers: () => request<{ users: User[] }>('/api/users'),
  createUser: (body: {
    username: string;
    password: string;
    display_name: string;
    roles: Role[];
    department: string | null;
  }) => request<User>('/api/users', { method: 'POST', body }),
  updateUser: (
    username: string,
    body: Partial<{
      display_name: string;
      roles: Role[];
      department: string | null;
      disabled: boolean;
      password: string;
    }>,
  ) => request<User>(`/api/users/${encodeURIComponent(username)}`, { method: 'PATCH', body }),

  listTokens: () => request<{ tokens: Token[] }>('/api/tokens'),
  createToken: (body: { name: string; username?: string; ttl?: string }) =>
    request<CreatedToken>('/api/tokens', { method: 'POST', body }),
  revokeToken: (id: number | string) =>
    request<void>(`/api/tokens/${encodeURIComponent(String(id))}`, { method: 'DELETE' }),

  audit: (query: Record<string, string | number | null | undefined>) =>
    request<AuditPage>('/api/audit', { query }),
  verifyAudit: () => request<AuditVerify>('/api/audit/verify'),

  systemInfo: () => request<SystemInfo>('/api/system/info'),

  lakeStats: () => request<LakeStats>('/api/lake/stats'),
  /** Sends one file as-is; a .gz file is sent compressed with Content-Encoding: gzip. */
  lakeIngest: (file: File) => {
    const lower = file.name.toLowerCase();
    const gz = lower.endsWith('.gz');
    const inner = gz ? lower.slice(0, -3) : lower;
    const headers: Record<string, string> = {
      'Content-Type': inner.endsWith('.json') ? 'application/fhir+json' : 'application/fhir+ndjson',
    };
    if (gz) headers['Content-Encoding'] = 'gzip';
    return request<IngestReport>('/api/lake/ingest', {
      method: 'POST',
      query: { name: file.name },
      rawBody: file,
      headers,
      okStatuses: [422],
    });
  },

  /** A FHIR search; `url` is either a path with query or a Bundle link URL. */
  fhirSearch: (url: string, breakGlass?: string | null) =>
    request<FhirBundle>(sameOriginPath(url), { headers: breakGlassHeaders(breakGlass) }),
  patientEverything: (id: string, breakGlass?: string | null, offset = 0) =>
    request<FhirBundle>(`/fhir/Patient/${encodeURIComponent(id)}/$everything`, {
      query: { _count: 1000, _offset: offset || undefined },
      headers: breakGlassHeaders(breakGlass),
    }),
  health: () => request<{ status: string }>('/healthz'),
};
