import { useCallback, useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { api } from '../api';
import type { AuditRecord, AuditVerify, Outcome } from '../api';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n';
import { useToast } from '../components/Toasts';
import { Drawer } from '../components/Dialog';

const PAGE_SIZE = 50;

/** Known action names, offered as suggestions in the action filter. */
const KNOWN_ACTIONS = [
  'auth.login',
  'auth.logout',
  'user.create',
  'user.update',
  'token.create',
  'token.revoke',
  'audit.read',
  'audit.verify',
  'http.request',
];

interface Filters {
  username: string;
  action: string;
  outcome: '' | Outcome;
  since: string;
  until: string;
  patient: string;
  q: string;
}

const EMPTY: Filters = { username: '', action: '', outcome: '', since: '', until: '', patient: '', q: '' };

/** datetime-local value (local time, no zone) -> ISO 8601 UTC for the API. */
function localToIso(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function toQuery(f: Filters, beforeId: number | null) {
  return {
    username: f.username.trim() || undefined,
    action: f.action.trim() || undefined,
    outcome: f.outcome || undefined,
    since: localToIso(f.since),
    until: localToIso(f.until),
    patient: f.patient.trim() || undefined,
    q: f.q.trim() || undefined,
    limit: PAGE_SIZE,
    before_id: beforeId ?? undefined,
  };
}

function detailText(detail: unknown): string {
  if (detail === null || detail === undefined || detail === '') return '';
  if (typeof detail === 'string') return detail;
  return JSON.stringify(detail);
}

function detailPretty(detail: unknown): string {
  if (typeof detail === 'string') {
    try {
      return JSON.stringify(JSON.parse(detail), null, 2);
    } catch {
      return detail;
    }
  }
  if (detail === null || detail === undefined) return '';
  return JSON.stringify(detail, null, 2);
}

function rolesText(roles: AuditRecord['roles']): string {
  if (!roles) return '';
  return Array.isArray(roles) ? roles.join(', ') : roles;
}

const OUTCOME_KEYS: Record<Outcome, MessageKey> = {
  success: 'audit.outcomeSuccess',
  denied: 'audit.outcomeDenied',
  error: 'audit.outcomeError',
};

function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  const { t } = useI18n();
  const cls = outcome === 'success' ? 'badge-ok' : outcome === 'denied' ? 'badge-warn' : 'badge-bad';
  return <span className={`badge ${cls}`}>{OUTCOME_KEYS[outcome] ? t(OUTCOME_KEYS[outcome]) : outcome}</span>;
}

function RecordDrawer({ record, onClose }: { record: AuditRecord; onClose: () => void }) {
  const { t, formatTime } = useI18n();
  const rows: [MessageKey, string, ReactNode][] = [
    ['audit.field.id', 'id', String(record.id)],
    ['audit.field.ts', 'ts', `${formatTime(record.ts)} (${record.ts})`],
    ['audit.field.request_id', 'request_id', <code>{record.request_id}</code>],
    ['audit.field.username', 'username', record.username || t('common.none')],
    ['audit.field.roles', 'roles', rolesText(record.roles) || t('common.none')],
    ['audit.field.action', 'action', <code>{record.action}</code>],
    ['audit.field.method', 'method', record.method || t('common.none')],
    ['audit.field.path', 'path', <code>{record.path}</code>],
    ['audit.field.status', 'status', String(record.status)],
    ['audit.field.outcome', 'outcome', <OutcomeBadge outcome={record.outcome} />],
    ['audit.field.patient', 'patient', record.patient || t('common.none')],
  ];
  const pretty = detailPretty(record.detail);
  return (
    <Drawer title={t('audit.drawerTitle', { id: record.id })} onClose={onClose} testId="audit-drawer">
      <dl className="kv kv-wide">
        {rows.map(([label, field, value]) => (
          <div key={field} className="kv-row">
            <dt>{t(label)}</dt>
            <dd data-testid={`audit-detail-${field}`}>{value}</dd>
          </div>
        ))}
      </dl>
      <h3>{t('audit.field.detail')}</h3>
      <pre className="code-block" data-testid="audit-detail-detail">
        {pretty || t('common.none')}
      </pre>
      <h3>{t('audit.field.hash')}</h3>
      <pre className="code-block hash" data-testid="audit-detail-hash">
        {record.hash}
      </pre>
      {record.prev_hash && (
        <>
          <h3>{t('audit.field.prev_hash')}</h3>
          <pre className="code-block hash" data-testid="audit-detail-prev_hash">
            {record.prev_hash}
          </pre>
        </>
      )}
    </Drawer>
  );
}

export function AuditPage() {
  const { t, formatTime } = useI18n();
  const toast = useToast();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [records, setRecords] = useState<AuditRecord[] | null>(null);
  const [nextBefore, setNextBefore] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [selected, setSelected] = useState<AuditRecord | null>(null);
  const [verify, setVerify] = useState<AuditVerify | null>(null);
  const [verifying, setVerifying] = useState(false);
  const applied = useRef<Filters>(EMPTY);
  const generation = useRef(0);

  const search = useCallback(
    async (filters: Filters) => {
      const gen = ++generation.current;
      applied.current = filters;
      setLoading(true);
      try {
        const page = await api.audit(toQuery(filters, null));
        if (gen !== generation.current) return;
        setRecords(page.records);
        setNextBefore(page.next_before_id);
      } catch (e) {
        if (gen === generation.current) {
          toast.error(e);
          setRecords((r) => r ?? []);
        }
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [toast],
  );

  useEffect(() => {
    void search(EMPTY);
  }, [search]);

  const loadOlder = async () => {
    if (nextBefore === null) return;
    const gen = generation.current;
    setLoading(true);
    try {
      const page = await api.audit(toQuery(applied.current, nextBefore));
      if (gen !== generation.current) return;
      setRecords((r) => [...(r ?? []), ...page.records]);
      setNextBefore(page.next_before_id);
    } catch (e) {
      toast.error(e);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  const runVerify = async () => {
    setVerifying(true);
    try {
      setVerify(await api.verifyAudit());
    } catch (e) {
      toast.error(e);
    } finally {
      setVerifying(false);
    }
  };

  const set = <K extends keyof Filters>(k: K, v: Filters[K]) => setDraft((d) => ({ ...d, [k]: v }));

  return (
    <div className="page" data-testid="page-audit">
      <div className="page-header">
        <h1>{t('audit.title')}</h1>
        <div className="page-actions">
          <button type="button" className="btn" onClick={() => void runVerify()} disabled={verifying} data-testid="audit-verify">
            {verifying ? t('audit.verifying') : t('audit.verify')}
          </button>
        </div>
      </div>

      {verify && (
        <div
          className={`notice ${verify.ok ? 'notice-ok' : 'notice-bad'}`}
          role="status"
          data-testid="audit-verify-result"
          data-ok={verify.ok ? 'true' : 'false'}
        >
          {verify.ok
            ? t('audit.verifyOk', { n: verify.records })
            : verify.first_bad_id !== null
              ? t('audit.verifyBad', { id: verify.first_bad_id, reason: verify.reason ?? '' })
              : t('audit.verifyBadNoId', { reason: verify.reason ?? '' })}
        </div>
      )}

      <form
        className="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          void search(draft);
        }}
        data-testid="audit-filters"
      >
        <div className="filter">
          <label htmlFor="af-username">{t('audit.username')}</label>
          <input id="af-username" value={draft.username} onChange={(e) => set('username', e.target.value)} data-testid="audit-filter-username" />
        </div>
        <div className="filter">
          <label htmlFor="af-action">{t('audit.action')}</label>
          <input
            id="af-action"
            list="af-action-list"
            value={draft.action}
            onChange={(e) => set('action', e.target.value)}
            data-testid="audit-filter-action"
          />
          <datalist id="af-action-list">
            {KNOWN_ACTIONS.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
        </div>
        <div className="filter">
          <label htmlFor="af-outcome">{t('audit.outcome')}</label>
          <select id="af-outcome" value={draft.outcome} onChange={(e) => set('outcome', e.target.value as Filters['outcome'])} data-testid="audit-filter-outcome">
            <option value="">{t('audit.outcomeAny')}</option>
            <option value="success">{t('audit.outcomeSuccess')}</option>
            <option value="denied">{t('audit.outcomeDenied')}</option>
            <option value="error">{t('audit.outcomeError')}</option>
          </select>
        </div>
        <div className="filter">
          <label htmlFor="af-since">{t('audit.since')}</label>
          <input id="af-since" type="datetime-local" step={1} value={draft.since} onChange={(e) => set('since', e.target.value)} data-testid="audit-filter-since" />
        </div>
        <div className="filter">
          <label htmlFor="af-until">{t('audit.until')}</label>
          <input id="af-until" type="datetime-local" step={1} value={draft.until} onChange={(e) => set('until', e.target.value)} data-testid="audit-filter-until" />
        </div>
        <div className="filter">
          <label htmlFor="af-patient">{t('audit.patient')}</label>
          <input id="af-patient" value={draft.patient} onChange={(e) => set('patient', e.target.value)} data-testid="audit-filter-patient" />
        </div>
        <div className="filter filter-wide">
          <label htmlFor="af-q">{t('audit.q')}</label>
          <input id="af-q" type="search" value={draft.q} onChange={(e) => set('q', e.target.value)} data-testid="audit-filter-q" />
        </div>
        <div className="filter-buttons">
          <button
            type="button"
            className="btn"
            onClick={() => {
              setDraft(EMPTY);
              void search(EMPTY);
            }}
            data-testid="audit-reset"
          >
            {t('audit.reset')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={loading} data-testid="audit-apply">
            {t('audit.apply')}
          </button>
        </div>
      </form>

      <div className="table-wrap card">
        <table className="table table-hover" data-testid="audit-table" aria-busy={loading}>
          <thead>
            <tr>
              <th>#</th>
              <th>{t('audit.time')}</th>
              <th>{t('audit.username')}</th>
              <th>{t('audit.action')}</th>
              <th>{t('audit.outcome')}</th>
              <th>{t('audit.path')}</th>
              <th>{t('audit.status')}</th>
              <th>{t('audit.patient')}</th>
              <th>{t('audit.detail')}</th>
            </tr>
          </thead>
          <tbody>
            {records === null && (
              <tr>
                <td colSpan={9} className="muted center">
                  {t('common.loading')}
                </td>
              </tr>
            )}
            {records?.length === 0 && (
              <tr>
                <td colSpan={9} className="muted center" data-testid="audit-empty">
                  {t('common.empty')}
                </td>
              </tr>
            )}
            {records?.map((r) => (
              <tr
                key={r.id}
                data-testid={`audit-row-${r.id}`}
                data-action={r.action}
                className="clickable"
                tabIndex={0}
                onClick={() => setSelected(r)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    setSelected(r);
                  }
                }}
              >
                <td className="muted">{r.id}</td>
                <td className="nowrap">{formatTime(r.ts)}</td>
                <td>{r.username || <span className="muted">{t('common.none')}</span>}</td>
                <td>
                  <code>{r.action}</code>
                </td>
                <td>
                  <OutcomeBadge outcome={r.outcome} />
                </td>
                <td className="truncate" title={`${r.method} ${r.path}`}>
                  <span className="method">{r.method}</span> {r.path}
                </td>
                <td>{r.status}</td>
                <td>{r.patient || ''}</td>
                <td className="truncate detail-cell" title={detailText(r.detail)}>
                  {detailText(r.detail)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {records && records.length > 0 && (
        <div className="pager">
          <span className="muted" data-testid="audit-count">
            {t('audit.shown', { n: records.length })}
          </span>
          {nextBefore !== null ? (
            <button type="button" className="btn" onClick={() => void loadOlder()} disabled={loading} data-testid="audit-older">
              {t('audit.older')}
            </button>
          ) : (
            <span className="muted" data-testid="audit-no-more">
              {t('audit.noMore')}
            </span>
          )}
        </div>
      )}

      {selected && <RecordDrawer record={selected} onClose={() => setSelected(null)} />}
    </div>
  );
}
