// Research cohort builder: concept sets from the lake's codes, the entry
// event, inclusion and exclusion rules; a live count and attrition table as
// the criteria change; the criteria JSON and SQL; saved, versioned cohorts
// and their comparison. The REST API is described in docs/cohort.md.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n';
import { useToast } from '../components/Toasts';
import { ConfirmDialog } from '../components/Dialog';
import { cohortApi } from './cohorts/api';
import type { CohortRun } from './cohorts/api';
import { ConceptSetsPanel, EntryPanel, RulesPanel } from './cohorts/Builder';
import { BlockErrorProvider, BlockErrorText, percent } from './cohorts/common';
import type { BlockError } from './cohorts/common';
import { AttritionTable, CriteriaJsonPanel, PatientList, SqlPanel } from './cohorts/Results';
import { SavedPanel } from './cohorts/Saved';
import { ComparePanel } from './cohorts/Compare';
import type { CohortRef } from './cohorts/Compare';
import './cohorts/cohorts.css';
import { DraftError, emptyDraft, fromCriteria, ownerOf, parseCriteriaError, toCriteria } from './cohorts/model';
import type { CohortDraft, JsonObject } from './cohorts/model';

/** Wait after the last edit before running the criteria. */
const RUN_DEBOUNCE_MS = 400;

type Tab = 'build' | 'saved' | 'compare';
type ResultTab = 'attrition' | 'patients' | 'json' | 'sql';

const TAB_KEYS: Record<Tab, MessageKey> = {
  build: 'cohorts.tab.build',
  saved: 'cohorts.tab.saved',
  compare: 'cohorts.tab.compare',
};
const RESULT_TAB_KEYS: Record<ResultTab, MessageKey> = {
  attrition: 'cohorts.attrition',
  patients: 'cohorts.patientList',
  json: 'cohorts.criteriaJson',
  sql: 'cohorts.sql',
};

interface Current {
  id: string;
  version: number;
}

interface RunError {
  key: string;
  status: number;
  message: string;
  path: string | null;
  text: string;
  requestId: string | null;
}

export function CohortsPage() {
  const { t, lang } = useI18n();
  const toast = useToast();
  const { hasAnyRole } = useAuth();
  const nf = new Intl.NumberFormat(lang);

  const [tab, setTab] = useState<Tab>('build');
  const [resultTab, setResultTab] = useState<ResultTab>('attrition');
  const [draft, setDraft] = useState<CohortDraft>(emptyDraft);
  const [current, setCurrent] = useState<Current | null>(null);
  const [savedText, setSavedText] = useState<string | null>(null);
  const [withPatients, setWithPatients] = useState(true);
  const [run, setRun] = useState<{ key: string; result: CohortRun } | null>(null);
  const [runError, setRunError] = useState<RunError | null>(null);
  const [saving, setSaving] = useState(false);
  const [titleError, setTitleError] = useState(false);
  const [confirm, setConfirm] = useState<{ message: string; action: () => void } | null>(null);
  const [compareA, setCompareA] = useState<CohortRef | null>(null);
  const [compareB, setCompareB] = useState<CohortRef | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  const generation = useRef(0);

  const built = useMemo(() => toCriteria(draft), [draft]);
  const criteriaText = useMemo(() => JSON.stringify(built.criteria), [built]);
  const runKey = `${withPatients ? 'p' : 'n'}|${criteriaText}`;
  const dirty = savedText === null ? draft.conceptSets.length > 0 || draft.inclusion.length > 0 || draft.exclusion.length > 0 : savedText !== criteriaText;
  const canListPatients = hasAnyRole(['admin', 'clinician']);

  const update = useCallback((fn: (d: CohortDraft) => CohortDraft) => setDraft(fn), []);

  /** A 400 about the criteria goes next to the block it names; anything else to a toast too. */
  const reportError = useCallback(
    (e: unknown, key: string) => {
      if (e instanceof ApiError) {
        if (e.status !== 400) toast.error(e);
        const { path, text } = parseCriteriaError(e.message || t('error.unexpected', { status: e.status }));
        setRunError({ key, status: e.status, message: e.message, path, text, requestId: e.requestId });
      } else {
        toast.error(e);
        setRunError({ key, status: 0, message: String(e), path: null, text: String(e), requestId: null });
      }
    },
    [toast, t],
  );

  // Live count: run the criteria a moment after the last change.
  useEffect(() => {
    const gen = ++generation.current;
    const key = runKey;
    const criteria = JSON.parse(criteriaText) as JsonObject;
    const h = window.setTimeout(async () => {
      try {
        const result = await cohortApi.run(criteria, withPatients);
        if (gen !== generation.current) return;
        setRun({ key, result });
        setRunError(null);
      } catch (e) {
        if (gen !== generation.current) return;
        reportError(e, key);
      }
    }, RUN_DEBOUNCE_MS);
    return () => window.clearTimeout(h);
  }, [runKey, criteriaText, withPatients, reportError]);

  const errorNow = runError && runError.key === runKey ? runError : null;
  const resultNow = run && run.key === runKey && !errorNow ? run.result : null;
  const state = errorNow ? 'error' : resultNow ? 'ok' : 'running';
  const shownResult = run?.result ?? null;

  const blockError: BlockError | null = useMemo(
    () => (errorNow ? { uid: errorNow.path ? ownerOf(built.owners, errorNow.path) : null, path: errorNow.path, text: errorNow.text } : null),
    [errorNow, built],
  );

  const guard = (message: string, action: () => void) => {
    if (dirty) setConfirm({ message, action });
    else action();
  };

  const startNew = () =>
    guard(t('cohorts.discardConfirm'), () => {
      setDraft(emptyDraft());
      setCurrent(null);
      setSavedText(null);
      setTitleError(false);
      setTab('build');
    });

  const loadVersion = (id: string, version: number) =>
    guard(t('cohorts.discardConfirm'), async () => {
      try {
        const c = await cohortApi.get(id, version);
        const next = fromCriteria(c.criteria);
        setDraft(next);
        setCurrent({ id: c.id, version: c.version });
        setSavedText(JSON.stringify(toCriteria(next).criteria));
        setTitleError(false);
        setTab('build');
        toast.success(t('cohorts.loaded', { title: c.title, version: c.version }));
      } catch (e) {
        if (e instanceof DraftError) toast.error(new Error(t('cohorts.cannotShow', { message: e.message })));
        else toast.error(e);
      }
    });

  const save = async (mode: 'new' | 'version') => {
    if (!draft.title.trim()) {
      setTitleError(true);
      document.getElementById('cohort-title')?.focus();
      return;
    }
    setSaving(true);
    const text = criteriaText;
    try {
      const criteria = JSON.parse(text) as JsonObject;
      const saved = mode === 'version' && current ? await cohortApi.saveVersion(current.id, criteria) : await cohortApi.create(criteria);
      setCurrent({ id: saved.id, version: saved.version });
      setSavedText(text);
      setReloadKey((k) => k + 1);
      toast.success(t('cohorts.saved', { title: saved.title, version: saved.version }));
    } catch (e) {
      reportError(e, runKey);
      if (e instanceof ApiError && e.status === 400) toast.error(e, t('cohorts.saveFailed'));
    } finally {
      setSaving(false);
    }
  };

  const importJson = (json: unknown): string | null => {
    try {
      const next = fromCriteria(json);
      setDraft(next);
      return null;
    } catch (e) {
      return t('cohorts.cannotShow', { message: e instanceof Error ? e.message : String(e) });
    }
  };

  const openCompare = (id: string, a: number, b: number) => {
    setCompareA({ id, version: a });
    setCompareB({ id, version: b });
    setTab('compare');
  };

  const switchTab = (next: Tab) => {
    // Opening "compare" for a cohort with several versions offers its last two.
    if (next === 'compare' && current && current.version > 1 && !compareA && !compareB) {
      setCompareA({ id: current.id, version: current.version - 1 });
      setCompareB({ id: current.id, version: current.version });
    }
    setTab(next);
  };

  const entryCount = shownResult?.attrition[0]?.patients ?? 0;

  return (
    <div className="page cohort-page" data-testid="page-cohorts">
      <div className="page-header">
        <div>
          <h1>{t('cohorts.pageTitle')}</h1>
          <div className="muted">{t('cohorts.subtitle')}</div>
        </div>
        <div className="page-actions">
          {current && (
            <span className="badge badge-muted" data-testid="cohort-current" data-id={current.id} data-version={current.version}>
              {current.id} · v{current.version}
            </span>
          )}
          {dirty && current && (
            <span className="badge badge-warn" data-testid="cohort-dirty">
              {t('cohorts.unsaved')}
            </span>
          )}
          <button type="button" className="btn" onClick={startNew} data-testid="cohort-new">
            {t('cohorts.new')}
          </button>
          {current ? (
            <>
              <button type="button" className="btn" onClick={() => void save('new')} disabled={saving} data-testid="cohort-save-as-new">
                {t('cohorts.saveAsNew')}
              </button>
              <button type="button" className="btn btn-primary" onClick={() => void save('version')} disabled={saving} data-testid="cohort-save-version">
                {t('cohorts.saveVersion')}
              </button>
            </>
          ) : (
            <button type="button" className="btn btn-primary" onClick={() => void save('new')} disabled={saving} data-testid="cohort-save">
              {t('cohorts.save')}
            </button>
          )}
        </div>
      </div>

      <div className="cohort-tabs" role="tablist">
        {(['build', 'saved', 'compare'] as const).map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            aria-selected={tab === k}
            className={`cohort-tab${tab === k ? ' active' : ''}`}
            onClick={() => switchTab(k)}
            data-testid={`cohort-tab-${k}`}
          >
            {t(TAB_KEYS[k])}
          </button>
        ))}
      </div>

      {tab === 'saved' && <SavedPanel currentId={current?.id ?? null} reloadKey={reloadKey} onLoad={loadVersion} onCompare={openCompare} />}
      {tab === 'compare' && <ComparePanel a={compareA} b={compareB} setA={setCompareA} setB={setCompareB} reloadKey={reloadKey} />}

      {tab === 'build' && (
        <BlockErrorProvider value={blockError}>
          <div className="cohort-layout">
            <div className="cohort-form" data-testid="cohort-form">
              {errorNow && (
                <div className="notice notice-bad cohort-error" data-testid="cohort-error" data-path={errorNow.path ?? ''} role="alert">
                  <strong>{t(errorNow.status === 400 ? 'cohorts.criteriaError' : 'cohorts.runError')}</strong>{' '}
                  {errorNow.path && <code>{errorNow.path}</code>} {errorNow.text}
                  {errorNow.requestId && (
                    <div className="small muted">
                      {t('common.requestId')}: <code>{errorNow.requestId}</code>
                    </div>
                  )}
                </div>
              )}
              <section className="card cohort-card">
                <label htmlFor="cohort-title" className="cohort-field-label">
                  {t('cohorts.title')}
                </label>
                <input
                  id="cohort-title"
                  value={draft.title}
                  onChange={(e) => {
                    setTitleError(false);
                    setDraft((d) => ({ ...d, title: e.target.value }));
                  }}
                  placeholder={t('cohorts.titlePlaceholder')}
                  className={`cohort-title-input${titleError ? ' cohort-input-invalid' : ''}`}
                  data-testid="cohort-title"
                />
                {titleError && <div className="field-error">{t('cohorts.titleRequired')}</div>}
                <BlockErrorText uid="title" />
                <textarea
                  value={draft.description}
                  onChange={(e) => setDraft((d) => ({ ...d, description: e.target.value }))}
                  placeholder={t('cohorts.descriptionPlaceholder')}
                  aria-label={t('cohorts.description')}
                  className="cohort-description"
                  data-testid="cohort-description"
                />
              </section>
              <ConceptSetsPanel draft={draft} update={update} />
              <EntryPanel draft={draft} update={update} />
              <RulesPanel section="inclusion" draft={draft} update={update} />
              <RulesPanel section="exclusion" draft={draft} update={update} />
            </div>

            <div className="cohort-side">
              <section className="card cohort-results" data-testid="cohort-results" data-state={state}>
                <div className="cohort-inline cohort-spread">
                  <div>
                    <div className="stat-label">{t('cohorts.count')}</div>
                    <div className={`cohort-count${state !== 'ok' ? ' stale' : ''}`} data-testid="cohort-count" data-count={resultNow?.count ?? ''}>
                      {shownResult ? nf.format(shownResult.count) : '…'}
                    </div>
                    {shownResult && (
                      <div className="small muted">
                        {t('cohorts.ofPatients', {
                          total: nf.format(shownResult.patientsTotal),
                          p: percent(shownResult.count, shownResult.patientsTotal),
                        })}{' '}
                        · {t('cohorts.elapsed', { ms: shownResult.elapsedMs.toFixed(1) })}
                      </div>
                    )}
                  </div>
                  <div className="cohort-status">
                    <span className={`badge ${state === 'ok' ? 'badge-ok' : state === 'error' ? 'badge-bad' : 'badge-muted'}`} data-testid="cohort-state">
                      {t(state === 'ok' ? 'cohorts.stateOk' : state === 'error' ? 'cohorts.stateError' : 'cohorts.stateRunning')}
                    </span>
                    <label className="checkbox small" title={canListPatients ? undefined : t('cohorts.patientsResearcherHint')}>
                      <input type="checkbox" checked={withPatients} onChange={(e) => setWithPatients(e.target.checked)} data-testid="cohort-with-patients" />
                      {t('cohorts.listPatients')}
                    </label>
                  </div>
                </div>

                <div className="cohort-subtabs" role="tablist">
                  {(['attrition', 'patients', 'json', 'sql'] as const).map((k) => (
                    <button
                      key={k}
                      type="button"
                      role="tab"
                      aria-selected={resultTab === k}
                      className={`cohort-subtab${resultTab === k ? ' active' : ''}`}
                      onClick={() => setResultTab(k)}
                      data-testid={`cohort-result-tab-${k}`}
                    >
                      {t(RESULT_TAB_KEYS[k])}
                      {k === 'patients' && resultNow?.patients ? ` (${nf.format(resultNow.patients.length)})` : ''}
                    </button>
                  ))}
                </div>

                {resultTab === 'attrition' &&
                  (shownResult ? (
                    <>
                      <AttritionTable rows={shownResult.attrition} />
                      {entryCount > 0 && <div className="small muted cohort-note">{t('cohorts.attritionHint')}</div>}
                    </>
                  ) : (
                    <div className="muted">{state === 'error' ? t('cohorts.fixErrors') : t('common.loading')}</div>
                  ))}
                {resultTab === 'patients' && (shownResult ? <PatientList run={shownResult} /> : <div className="muted">{t('common.loading')}</div>)}
                {resultTab === 'json' && <CriteriaJsonPanel criteria={built.criteria} onImport={importJson} />}
                {resultTab === 'sql' && <SqlPanel criteria={built.criteria} criteriaKey={criteriaText} />}
              </section>
            </div>
          </div>
        </BlockErrorProvider>
      )}

      {confirm && (
        <ConfirmDialog
          title={t('cohorts.discardTitle')}
          message={confirm.message}
          confirmLabel={t('cohorts.discard')}
          danger
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            const action = confirm.action;
            setConfirm(null);
            action();
          }}
        />
      )}
    </div>
  );
}
