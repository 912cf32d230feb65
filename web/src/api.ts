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
  query?: Record<string, string | number | null | undefined>;
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

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
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
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
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

  if (!res.ok) {
    const err = (data && typeof data === 'object' ? data : {}) as {
      code?: unknown;
      message?: unknown;
      request_id?: unknown;
    };
    const requestId =
      typeof err.request_id === 'string' ? err.request_id : res.headers.get('X-Request-Id');
    const apiErr = new ApiError(
      res.status,
      typeof err.code === 'string' ? err.code : `http_${res.status}`,
      typeof err.message === 'string' && err.message ? err.message : '',
      requestId,
    );
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
  health: () => request<{ status: string }>('/healthz'),
};
