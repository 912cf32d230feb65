// Two saved cohorts (or two versions of one) side by side: counts, attrition
// and, where both patient lists are returned, their overlap.
import { useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import { useToast } from '../../components/Toasts';
import { cohortApi } from './api';
import type { CohortRun, SavedCohortSummary } from './api';
import { percent } from './common';

export interface CohortRef {
  id: string;
  version: number;
}

interface Side {
  ref: CohortRef;
  title: string;
  run: CohortRun;
}

/** Ids shown per overlap list before "…and n more". */
const SHOWN_IDS = 50;

function Picker({
  label,
  testId,
  cohorts,
  value,
  onChange,
}: {
  label: string;
  testId: string;
  cohorts: SavedCohortSummary[];
  value: CohortRef | null;
  onChange: (r: CohortRef | null) => void;
}) {
  const { t } = useI18n();
  const toast = useToast();
  const [versions, setVersions] = useState<number[]>([]);
  const id = value?.id ?? '';

  useEffect(() => {
    if (!id) {
      setVersions([]);
      return;
    }
    let cancelled = false;
    cohortApi
      .get(id)
      .then((c) => !cancelled && setVersions(c.versions.map((v) => v.version)))
      .catch((e) => !cancelled && toast.error(e));
    return () => {
      cancelled = true;
    };
  }, [id, toast]);

  return (
    <fieldset className="cohort-picker" data-testid={testId}>
      <legend>{label}</legend>
      <select
        value={id}
        onChange={(e) => {
          const c = cohorts.find((x) => x.id === e.target.value);
          onChange(c ? { id: c.id, version: c.version } : null);
        }}
        aria-label={t('cohorts.cohort')}
        data-testid={`${testId}-cohort`}
        className="cohort-grow"
      >
        <option value="">{t('cohorts.chooseCohort')}</option>
        {cohorts.map((c) => (
          <option key={c.id} value={c.id}>
            {c.title} ({c.id})
          </option>
        ))}
      </select>
      <select
        value={value ? String(value.version) : ''}
        onChange={(e) => value && onChange({ id: value.id, version: Number(e.target.value) })}
        disabled={!value}
        aria-label={t('cohorts.version')}
        data-testid={`${testId}-version`}
      >
        {value && !versions.includes(value.version) && <option value={value.version}>v{value.version}</option>}
        {versions.map((v) => (
          <option key={v} value={v}>
            v{v}
          </option>
        ))}
      </select>
    </fieldset>
  );
}

function IdList({ ids, testId }: { ids: string[]; testId: string }) {
  const { t } = useI18n();
  if (!ids.length) return <span className="muted">{t('common.none')}</span>;
  return (
    <div className="cohort-id-list" data-testid={testId}>
      {ids.slice(0, SHOWN_IDS).map((id) => (
        <code key={id}>{id}</code>
      ))}
      {ids.length > SHOWN_IDS && <span className="muted small">{t('cohorts.andMore', { n: ids.length - SHOWN_IDS })}</span>}
    </div>
  );
}

function Overlap({ a, b }: { a: Side; b: Side }) {
  const { t, lang } = useI18n();
  const nf = new Intl.NumberFormat(lang);
  if (!a.run.patients || !b.run.patients) {
    const why = a.run.patientsWithheld || b.run.patientsWithheld;
    return (
      <div className="notice notice-info" data-testid="cohort-overlap-unavailable">
        {t('cohorts.overlapUnavailable')}
        {why && <div className="small muted">{why}</div>}
      </div>
    );
  }
  const inB = new Set(b.run.patients);
  const inA = new Set(a.run.patients);
  const both = a.run.patients.filter((p) => inB.has(p));
  const onlyA = a.run.patients.filter((p) => !inB.has(p));
  const onlyB = b.run.patients.filter((p) => !inA.has(p));
  const union = onlyA.length + both.length + onlyB.length;
  const hidden = (a.run.patientsHidden ?? 0) + (b.run.patientsHidden ?? 0);
  return (
    <div data-testid="cohort-overlap" data-only-a={onlyA.length} data-both={both.length} data-only-b={onlyB.length}>
      {hidden > 0 && <div className="notice notice-warn small">{t('cohorts.overlapHidden')}</div>}
      <div className="cohort-venn">
        <div className="cohort-venn-part">
          <div className="stat-label">{t('cohorts.onlyA')}</div>
          <div className="stat-value" data-testid="cohort-overlap-only-a">
            {nf.format(onlyA.length)}
          </div>
        </div>
        <div className="cohort-venn-part cohort-venn-both">
          <div className="stat-label">{t('cohorts.both')}</div>
          <div className="stat-value" data-testid="cohort-overlap-both">
            {nf.format(both.length)}
          </div>
          <div className="small muted">{t('cohorts.jaccard', { p: percent(both.length, union) })}</div>
        </div>
        <div className="cohort-venn-part">
          <div className="stat-label">{t('cohorts.onlyB')}</div>
          <div className="stat-value" data-testid="cohort-overlap-only-b">
            {nf.format(onlyB.length)}
          </div>
        </div>
      </div>
      <div className="grid-2 cohort-overlap-lists">
        <div>
          <h3>{t('cohorts.onlyA')}</h3>
          <IdList ids={onlyA} testId="cohort-overlap-list-a" />
        </div>
        <div>
          <h3>{t('cohorts.onlyB')}</h3>
          <IdList ids={onlyB} testId="cohort-overlap-list-b" />
        </div>
      </div>
    </div>
  );
}

function SideBySide({ a, b }: { a: Side; b: Side }) {
  const { t, lang } = useI18n();
  const nf = new Intl.NumberFormat(lang);
  const rows = Math.max(a.run.attrition.length, b.run.attrition.length);
  const name = (s: Side, i: number) => {
    const r = s.run.attrition[i];
    if (!r) return '';
    return i === 0 ? t('cohorts.entryRow') : `${r.exclusion ? `${t('cohorts.excludeBadge')} ` : ''}${r.name}`;
  };
  return (
    <div className="table-wrap">
      <table className="table cohort-attrition" data-testid="cohort-compare-attrition">
        <thead>
          <tr>
            <th>#</th>
            <th>{t('cohorts.ruleA')}</th>
            <th className="num">A</th>
            <th>{t('cohorts.ruleB')}</th>
            <th className="num">B</th>
            <th className="num">B − A</th>
          </tr>
        </thead>
        <tbody>
          {Array.from({ length: rows }, (_, i) => {
            const ra = a.run.attrition[i];
            const rb = b.run.attrition[i];
            return (
              <tr key={i} data-testid="cohort-compare-row" data-a={ra?.patients ?? ''} data-b={rb?.patients ?? ''}>
                <td className="muted">{i}</td>
                <td>{name(a, i)}</td>
                <td className="num">{ra ? nf.format(ra.patients) : ''}</td>
                <td>{name(b, i)}</td>
                <td className="num">{rb ? nf.format(rb.patients) : ''}</td>
                <td className="num">{ra && rb ? (rb.patients - ra.patients > 0 ? '+' : '') + nf.format(rb.patients - ra.patients) : ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function ComparePanel({
  a,
  b,
  setA,
  setB,
  reloadKey,
}: {
  a: CohortRef | null;
  b: CohortRef | null;
  setA: (r: CohortRef | null) => void;
  setB: (r: CohortRef | null) => void;
  reloadKey: number;
}) {
  const { t, lang } = useI18n();
  const toast = useToast();
  const [cohorts, setCohorts] = useState<SavedCohortSummary[]>([]);
  const [result, setResult] = useState<{ a: Side; b: Side } | null>(null);
  const [busy, setBusy] = useState(false);
  const nf = new Intl.NumberFormat(lang);

  useEffect(() => {
    let cancelled = false;
    cohortApi
      .list()
      .then((r) => !cancelled && setCohorts(r.cohorts))
      .catch((e) => !cancelled && toast.error(e));
    return () => {
      cancelled = true;
    };
  }, [toast, reloadKey]);

  const compare = async () => {
    if (!a || !b) return;
    setBusy(true);
    try {
      const [ca, cb, ra, rb] = await Promise.all([
        cohortApi.get(a.id, a.version),
        cohortApi.get(b.id, b.version),
        cohortApi.runSaved(a.id, a.version, true),
        cohortApi.runSaved(b.id, b.version, true),
      ]);
      setResult({ a: { ref: a, title: ca.title, run: ra }, b: { ref: b, title: cb.title, run: rb } });
    } catch (e) {
      toast.error(e);
    } finally {
      setBusy(false);
    }
  };

  const shown = result && a && b && result.a.ref.id === a.id && result.a.ref.version === a.version && result.b.ref.id === b.id && result.b.ref.version === b.version ? result : null;

  return (
    <section className="card" data-testid="cohort-compare">
      <h2>{t('cohorts.compareTitle')}</h2>
      <p className="muted small">{t('cohorts.compareHint')}</p>
      <div className="cohort-pickers">
        <Picker label="A" testId="cohort-compare-a" cohorts={cohorts} value={a} onChange={setA} />
        <Picker label="B" testId="cohort-compare-b" cohorts={cohorts} value={b} onChange={setB} />
        <button type="button" className="btn btn-primary" onClick={() => void compare()} disabled={!a || !b || busy} data-testid="cohort-compare-run">
          {busy ? t('cohorts.running') : t('cohorts.compare')}
        </button>
      </div>
      {shown && (
        <div data-testid="cohort-compare-result">
          <div className="grid-2 cohort-compare-counts">
            {(['a', 'b'] as const).map((k) => {
              const s = shown[k];
              return (
                <div key={k} className="card stat" data-testid={`cohort-compare-count-${k}`} data-count={s.run.count}>
                  <div className="stat-label">
                    {k.toUpperCase()} · {s.title} <code>v{s.ref.version}</code>
                  </div>
                  <div className="stat-value">{nf.format(s.run.count)}</div>
                  <div className="small muted">
                    {t('cohorts.ofPatients', { total: nf.format(s.run.patientsTotal), p: percent(s.run.count, s.run.patientsTotal) })}
                  </div>
                </div>
              );
            })}
          </div>
          <h3>{t('cohorts.attrition')}</h3>
          <SideBySide a={shown.a} b={shown.b} />
          <h3>{t('cohorts.overlap')}</h3>
          <Overlap a={shown.a} b={shown.b} />
        </div>
      )}
    </section>
  );
}
