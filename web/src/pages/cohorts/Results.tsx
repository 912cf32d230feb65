// What the server says about the criteria being built: the live count and
// attrition, the patients (where the role allows), the criteria JSON and the
// equivalent SQL.
import { useEffect, useRef, useState } from 'react';
import { useAuth } from '../../auth';
import { useI18n } from '../../i18n';
import { Link } from '../../router';
import { useToast } from '../../components/Toasts';
import { Dialog } from '../../components/Dialog';
import { ApiError } from '../../api';
import { cohortApi } from './api';
import type { AttritionRow, CohortRun, CohortSql, SqlDialect } from './api';
import { copyToClipboard, percent } from './common';
import type { JsonObject } from './model';

/** Patient ids shown before "show all". */
const SHOWN_PATIENTS = 100;

export function AttritionTable({ rows, testId = 'cohort-attrition' }: { rows: AttritionRow[]; testId?: string }) {
  const { t, lang } = useI18n();
  const nf = new Intl.NumberFormat(lang);
  const entry = rows[0]?.patients ?? 0;
  return (
    <div className="table-wrap">
      <table className="table cohort-attrition" data-testid={testId}>
        <thead>
          <tr>
            <th>#</th>
            <th>{t('cohorts.rule')}</th>
            <th className="num">{t('cohorts.remaining')}</th>
            <th className="num">{t('cohorts.passedAlone')}</th>
            <th>{t('cohorts.ofEntry')}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-testid="cohort-attrition-row" data-patients={r.patients} data-passed-alone={r.passedAlone} data-name={r.name}>
              <td className="muted">{i}</td>
              <td>
                {i === 0 ? (
                  <strong>{t('cohorts.entryRow')}</strong>
                ) : (
                  <>
                    {r.exclusion && <span className="badge badge-warn">{t('cohorts.excludeBadge')}</span>} {r.name}
                  </>
                )}
              </td>
              <td className="num">{nf.format(r.patients)}</td>
              <td className="num">{i === 0 ? '' : nf.format(r.passedAlone)}</td>
              <td className="cohort-bar-cell">
                <div className="cohort-bar" aria-hidden="true">
                  <div style={{ width: entry ? `${(100 * r.patients) / entry}%` : '0' }} />
                </div>
                <span className="small muted">{percent(r.patients, entry)}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function PatientList({ run }: { run: CohortRun }) {
  const { t, lang } = useI18n();
  const { hasAnyRole } = useAuth();
  const [all, setAll] = useState(false);
  const nf = new Intl.NumberFormat(lang);
  if (run.patientsWithheld) {
    return (
      <div className="notice notice-info" data-testid="cohort-patients-withheld">
        {t('cohorts.patientsWithheld')}
        <div className="small muted">{run.patientsWithheld}</div>
      </div>
    );
  }
  if (!run.patients) return <div className="muted small">{t('cohorts.patientsOff')}</div>;
  const canOpen = hasAnyRole(['admin', 'clinician', 'service']);
  const shown = all ? run.patients : run.patients.slice(0, SHOWN_PATIENTS);
  return (
    <div data-testid="cohort-patients" data-count={run.patients.length}>
      {!!run.patientsHidden && (
        <div className="notice notice-warn" data-testid="cohort-patients-hidden">
          {t('cohorts.patientsHidden', { n: nf.format(run.patientsHidden) })}
        </div>
      )}
      <div className="muted small">{t('cohorts.patientsListed', { n: nf.format(run.patients.length) })}</div>
      <ul className="cohort-patient-list">
        {shown.map((id) => (
          <li key={id} data-testid="cohort-patient">
            {canOpen ? <Link to={`/patients/${encodeURIComponent(id)}`}>{id}</Link> : <code>{id}</code>}
          </li>
        ))}
      </ul>
      {run.patients.length > shown.length && (
        <button type="button" className="btn btn-sm" onClick={() => setAll(true)} data-testid="cohort-patients-all">
          {t('cohorts.showAllPatients', { n: nf.format(run.patients.length) })}
        </button>
      )}
    </div>
  );
}

function CopyButton({ text, testId }: { text: string; testId: string }) {
  const { t } = useI18n();
  const toast = useToast();
  return (
    <button
      type="button"
      className="btn btn-sm"
      onClick={async () => (await copyToClipboard(text)) ? toast.success(t('common.copied')) : toast.info(t('common.copyFailed'))}
      data-testid={testId}
    >
      {t('common.copy')}
    </button>
  );
}

/** Validates pasted JSON with the server, then hands it to the builder. */
function ImportDialog({ initial, onClose, onImport }: { initial: string; onClose: () => void; onImport: (json: unknown) => string | null }) {
  const { t } = useI18n();
  const [text, setText] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      setError(t('cohorts.jsonInvalid', { message: e instanceof Error ? e.message : String(e) }));
      return;
    }
    setBusy(true);
    try {
      // The SQL route parses the criteria strictly without running them.
      await cohortApi.sql(parsed as JsonObject, 'postgresql');
      const problem = onImport(parsed);
      if (problem) setError(problem);
      else onClose();
    } catch (e) {
      setError(e instanceof ApiError ? e.message || t('error.unexpected', { status: e.status }) : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      title={t('cohorts.editJson')}
      onClose={onClose}
      wide
      testId="cohort-json-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="button" className="btn btn-primary" onClick={() => void submit()} disabled={busy} data-testid="cohort-json-apply">
            {t('cohorts.applyJson')}
          </button>
        </>
      }
    >
      <p className="muted small">{t('cohorts.editJsonHint')}</p>
      <textarea
        className="cohort-json-input"
        value={text}
        onChange={(e) => setText(e.target.value)}
        spellCheck={false}
        data-testid="cohort-json-input"
        aria-label={t('cohorts.criteriaJson')}
      />
      {error && (
        <div className="field-error" data-testid="cohort-json-error" role="alert">
          {error}
        </div>
      )}
    </Dialog>
  );
}

export function CriteriaJsonPanel({ criteria, onImport }: { criteria: JsonObject; onImport: (json: unknown) => string | null }) {
  const { t } = useI18n();
  const [editing, setEditing] = useState(false);
  const text = JSON.stringify(criteria, null, 2);
  return (
    <div data-testid="cohort-json-panel">
      <div className="cohort-inline cohort-panel-actions">
        <CopyButton text={text} testId="cohort-json-copy" />
        <button type="button" className="btn btn-sm" onClick={() => setEditing(true)} data-testid="cohort-json-edit">
          {t('cohorts.editJson')}
        </button>
      </div>
      <pre className="code-block cohort-code" data-testid="cohort-json">
        {text}
      </pre>
      {editing && <ImportDialog initial={text} onClose={() => setEditing(false)} onImport={onImport} />}
    </div>
  );
}

export function SqlPanel({ criteria, criteriaKey }: { criteria: JsonObject; criteriaKey: string }) {
  const { t } = useI18n();
  const [dialect, setDialect] = useState<SqlDialect>('postgresql');
  const [sql, setSql] = useState<{ key: string; value: CohortSql } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);
  const key = `${dialect}|${criteriaKey}`;

  useEffect(() => {
    const gen = ++generation.current;
    const h = window.setTimeout(async () => {
      try {
        const value = await cohortApi.sql(criteria, dialect);
        if (gen !== generation.current) return;
        setSql({ key, value });
        setError(null);
      } catch (e) {
        if (gen !== generation.current) return;
        setError(e instanceof ApiError ? e.message || t('error.unexpected', { status: e.status }) : String(e));
      }
    }, 300);
    return () => window.clearTimeout(h);
    // criteriaKey stands for criteria (its JSON text).
  }, [key]);

  const current = sql && sql.key === key ? sql.value : null;
  return (
    <div data-testid="cohort-sql-panel" data-state={error ? 'error' : current ? 'ok' : 'loading'}>
      <div className="cohort-inline cohort-panel-actions">
        <label className="cohort-label-inline">
          {t('cohorts.dialect')}
          <select value={dialect} onChange={(e) => setDialect(e.target.value as SqlDialect)} data-testid="cohort-sql-dialect">
            <option value="postgresql">PostgreSQL</option>
            <option value="sqlite">SQLite</option>
          </select>
        </label>
        {current && <CopyButton text={`${current.attrition}\n\n${current.patients}`} testId="cohort-sql-copy" />}
      </div>
      {error && <div className="notice notice-bad small">{error}</div>}
      {!current && !error && <div className="muted">{t('common.loading')}</div>}
      {current && (
        <>
          <h3>{t('cohorts.sqlAttrition')}</h3>
          <pre className="code-block cohort-code" data-testid="cohort-sql-attrition">
            {current.attrition}
          </pre>
          <h3>{t('cohorts.sqlPatients')}</h3>
          <pre className="code-block cohort-code" data-testid="cohort-sql-patients">
            {current.patients}
          </pre>
        </>
      )}
    </div>
  );
}
