import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from '../api';
import type { IngestReport, LakeStats } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n';
import { useToast } from '../components/Toasts';

/** The server refuses request bodies above 16 MiB. */
const MAX_UPLOAD_BYTES = 16 * 1024 * 1024;
/** Errors shown per file; the rest are counted. */
const SHOWN_ERRORS = 5;
const ACCEPT = '.ndjson,.json,.gz,application/json,application/fhir+json,application/x-ndjson,application/gzip';

/** Translated names of the resource types the demo hospital holds; others show their FHIR name. */
const TYPE_KEYS: Record<string, MessageKey> = {
  Patient: 'lake.type.Patient',
  Encounter: 'lake.type.Encounter',
  Condition: 'lake.type.Condition',
  Observation: 'lake.type.Observation',
  MedicationRequest: 'lake.type.MedicationRequest',
  Procedure: 'lake.type.Procedure',
  DocumentReference: 'lake.type.DocumentReference',
  Practitioner: 'lake.type.Practitioner',
  Organization: 'lake.type.Organization',
  Location: 'lake.type.Location',
};

type UploadStatus = 'pending' | 'uploading' | 'done' | 'rejected' | 'failed';

interface Upload {
  key: string;
  file: File;
  status: UploadStatus;
  report?: IngestReport;
  error?: string;
  requestId?: string | null;
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function acceptable(name: string): boolean {
  return /\.(ndjson|json|gz)$/i.test(name);
}

function UploadPanel({ onUploaded }: { onUploaded: () => void }) {
  const { t, lang } = useI18n();
  const toast = useToast();
  const [uploads, setUploads] = useState<Upload[]>([]);
  const [running, setRunning] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const seq = useRef(0);
  const nf = new Intl.NumberFormat(lang);

  const update = (key: string, patch: Partial<Upload>) =>
    setUploads((list) => list.map((u) => (u.key === key ? { ...u, ...patch } : u)));

  const choose = (files: FileList | null) => {
    if (!files) return;
    const picked = Array.from(files).filter((f) => acceptable(f.name));
    if (picked.length < files.length) toast.info(t('lake.skippedFiles', { n: files.length - picked.length }));
    setUploads((list) => [
      ...list.filter((u) => u.status !== 'pending'),
      ...picked.map((file) => ({ key: `f${++seq.current}`, file, status: 'pending' as const })),
    ]);
    if (input.current) input.current.value = '';
  };

  const start = async () => {
    const queue = uploads.filter((u) => u.status === 'pending');
    if (queue.length === 0 || running) return;
    setRunning(true);
    let anyWritten = false;
    // One file at a time: the lake writes in transactions, and per-file
    // answers stay attributable.
    for (const u of queue) {
      if (u.file.size > MAX_UPLOAD_BYTES) {
        update(u.key, { status: 'failed', error: t('lake.tooLarge', { max: formatBytes(MAX_UPLOAD_BYTES) }) });
        continue;
      }
      update(u.key, { status: 'uploading' });
      try {
        const report = await api.lakeIngest(u.file);
        if (report.written > 0) anyWritten = true;
        update(u.key, { status: report.rejected > 0 ? 'rejected' : 'done', report });
      } catch (e) {
        if (e instanceof ApiError) {
          toast.error(e, u.file.name);
          update(u.key, { status: 'failed', error: e.message || t('error.unexpected', { status: e.status }), requestId: e.requestId });
          if (e.sessionEnded) break;
        } else {
          update(u.key, { status: 'failed', error: e instanceof Error ? e.message : String(e) });
        }
      }
    }
    setRunning(false);
    if (anyWritten) onUploaded();
  };

  const pending = uploads.filter((u) => u.status === 'pending').length;

  const statusBadge = (u: Upload) => {
    switch (u.status) {
      case 'pending':
        return <span className="badge badge-muted">{t('lake.statusPending')}</span>;
      case 'uploading':
        return <span className="badge badge-muted">{t('lake.statusUploading')}</span>;
      case 'done':
        return <span className="badge badge-ok">{t('lake.statusDone')}</span>;
      case 'rejected':
        return <span className="badge badge-warn">{t('lake.statusRejected')}</span>;
      case 'failed':
        return <span className="badge badge-bad">{t('lake.statusFailed')}</span>;
    }
  };

  return (
    <div className="card" data-testid="lake-upload">
      <h2>{t('lake.uploadTitle')}</h2>
      <p className="muted">{t('lake.uploadHint')}</p>
      <div className="upload-row">
        <input
          ref={input}
          type="file"
          multiple
          accept={ACCEPT}
          onChange={(e) => choose(e.target.files)}
          disabled={running}
          data-testid="lake-file-input"
          aria-label={t('lake.chooseFiles')}
        />
        <button type="button" className="btn btn-primary" onClick={() => void start()} disabled={running || pending === 0} data-testid="lake-upload-start">
          {running ? t('lake.uploading') : t('lake.upload', { n: pending })}
        </button>
        {uploads.length > 0 && !running && (
          <button type="button" className="btn btn-ghost" onClick={() => setUploads([])} data-testid="lake-upload-clear">
            {t('lake.clearList')}
          </button>
        )}
      </div>

      {uploads.length > 0 && (
        <div className="table-wrap upload-table">
          <table className="table" data-testid="lake-upload-table">
            <thead>
              <tr>
                <th>{t('lake.file')}</th>
                <th>{t('lake.size')}</th>
                <th>{t('lake.status')}</th>
                <th className="num">{t('lake.written')}</th>
                <th className="num">{t('lake.unchanged')}</th>
                <th className="num">{t('lake.rejected')}</th>
                <th>{t('lake.details')}</th>
              </tr>
            </thead>
            <tbody>
              {uploads.map((u) => (
                <tr key={u.key} data-testid="lake-upload-row" data-file={u.file.name} data-status={u.status}>
                  <td className="truncate" title={u.file.name}>
                    {u.file.name}
                  </td>
                  <td className="nowrap">{formatBytes(u.file.size)}</td>
                  <td>{statusBadge(u)}</td>
                  <td className="num" data-testid="lake-upload-written">
                    {u.report ? nf.format(u.report.written) : ''}
                  </td>
                  <td className="num" data-testid="lake-upload-unchanged">
                    {u.report ? nf.format(u.report.unchanged) : ''}
                  </td>
                  <td className={`num${u.report?.rejected ? ' text-bad' : ''}`} data-testid="lake-upload-rejected">
                    {u.report ? nf.format(u.report.rejected) : ''}
                  </td>
                  <td className="upload-details">
                    {u.report && (
                      <>
                        <div className="muted small">
                          {t('lake.seconds', { s: u.report.seconds.toFixed(2) })}
                          {Object.keys(u.report.by_type).length > 0 &&
                            ` · ${Object.entries(u.report.by_type)
                              .map(([k, v]) => `${k} ${nf.format(v)}`)
                              .join(', ')}`}
                        </div>
                        {u.report.errors.length > 0 && (
                          <ul className="error-list" data-testid="lake-upload-errors">
                            {u.report.errors.slice(0, SHOWN_ERRORS).map((e, i) => (
                              <li key={i}>
                                <code>{e}</code>
                              </li>
                            ))}
                            {u.report.errors.length > SHOWN_ERRORS && (
                              <li className="muted">{t('lake.moreErrors', { n: u.report.errors.length - SHOWN_ERRORS })}</li>
                            )}
                          </ul>
                        )}
                      </>
                    )}
                    {u.error && (
                      <div className="text-bad small">
                        {u.error}
                        {u.requestId && (
                          <span className="muted">
                            {' '}
                            · {t('common.requestId')}: <code>{u.requestId}</code>
                          </span>
                        )}
                      </div>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

export function LakePage() {
  const { t, lang } = useI18n();
  const toast = useToast();
  const { hasAnyRole } = useAuth();
  const [stats, setStats] = useState<LakeStats | null>(null);
  const [loading, setLoading] = useState(true);
  const nf = new Intl.NumberFormat(lang);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setStats(await api.lakeStats());
    } catch (e) {
      toast.error(e);
    } finally {
      setLoading(false);
    }
  }, [toast]);

  useEffect(() => {
    void load();
  }, [load]);

  const types = stats ? Object.entries(stats.by_type).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])) : [];
  const canUpload = hasAnyRole(['admin', 'service']);

  return (
    <div className="page" data-testid="page-lake">
      <div className="page-header">
        <div>
          <h1>{t('lake.title')}</h1>
          <div className="muted">{t('lake.subtitle')}</div>
        </div>
        <div className="page-actions">
          <button type="button" className="btn" onClick={() => void load()} disabled={loading} data-testid="lake-refresh">
            {t('common.refresh')}
          </button>
        </div>
      </div>

      <div className="cards">
        <div className="card stat stat-total">
          <div className="stat-label">{t('lake.total')}</div>
          <div className="stat-value" data-testid="lake-total">
            {stats ? nf.format(stats.resources) : <span className="muted">{loading ? t('common.loading') : t('common.none')}</span>}
          </div>
        </div>
        {types.map(([type, n]) => (
          <div key={type} className="card stat" data-testid={`lake-type-${type}`}>
            <div className="stat-label">
              {TYPE_KEYS[type] ? t(TYPE_KEYS[type]) : type}
              <code className="muted stat-code">{type}</code>
            </div>
            <div className="stat-value" data-testid={`lake-count-${type}`}>
              {nf.format(n)}
            </div>
          </div>
        ))}
      </div>
      {stats && types.length === 0 && (
        <div className="notice notice-info" data-testid="lake-empty">
          {t('lake.empty')}
        </div>
      )}

      {canUpload && <UploadPanel onUploaded={() => void load()} />}
    </div>
  );
}
