import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api';
import type { FhirResource } from '../api';
import { useI18n } from '../i18n';
import { useRouter } from '../router';
import { useToast } from '../components/Toasts';
import {
  ageYears,
  identifierKind,
  bundleLink,
  bundleResources,
  linkOffset,
  maskId,
  patientGender,
  patientIdentifiers,
  patientName,
} from '../fhir';

const PAGE_SIZE = 20;

interface Criteria {
  name: string;
  identifier: string;
  gender: '' | 'male' | 'female' | 'other' | 'unknown';
  birthdate: string;
}

const EMPTY: Criteria = { name: '', identifier: '', gender: '', birthdate: '' };

interface Results {
  patients: FhirResource[];
  total: number | null;
  offset: number;
  next: string | null;
  previous: string | null;
}

function searchUrl(c: Criteria, offset: number): string {
  const qs = new URLSearchParams();
  if (c.name.trim()) qs.set('name', c.name.trim());
  if (c.identifier.trim()) qs.set('identifier', c.identifier.trim());
  if (c.gender) qs.set('gender', c.gender);
  if (c.birthdate) qs.set('birthdate', c.birthdate);
  qs.set('_count', String(PAGE_SIZE));
  qs.set('_offset', String(offset));
  return `/fhir/Patient?${qs.toString()}`;
}

/** The criteria and offset kept in the address bar, so "back" from a patient restores the list. */
function criteriaFromLocation(): { criteria: Criteria; offset: number } {
  const qs = new URLSearchParams(window.location.search);
  const g = qs.get('gender') ?? '';
  return {
    criteria: {
      name: qs.get('name') ?? '',
      identifier: qs.get('identifier') ?? '',
      gender: g === 'male' || g === 'female' || g === 'other' || g === 'unknown' ? g : '',
      birthdate: qs.get('birthdate') ?? '',
    },
    offset: Math.max(0, Number(qs.get('offset')) || 0),
  };
}

function rememberInLocation(c: Criteria, offset: number) {
  // A search answered after the user opened a patient must not rewrite that URL.
  if (window.location.pathname.replace(/\/+$/, '') !== '/patients') return;
  const qs = new URLSearchParams();
  if (c.name.trim()) qs.set('name', c.name.trim());
  if (c.identifier.trim()) qs.set('identifier', c.identifier.trim());
  if (c.gender) qs.set('gender', c.gender);
  if (c.birthdate) qs.set('birthdate', c.birthdate);
  if (offset) qs.set('offset', String(offset));
  const s = qs.toString();
  window.history.replaceState(null, '', s ? `${window.location.pathname}?${s}` : window.location.pathname);
}

export function PatientsPage() {
  const { t } = useI18n();
  const toast = useToast();
  const { navigate } = useRouter();
  const initial = useRef(criteriaFromLocation());
  const [draft, setDraft] = useState<Criteria>(initial.current.criteria);
  const [results, setResults] = useState<Results | null>(null);
  const [loading, setLoading] = useState(false);
  const applied = useRef<Criteria>(initial.current.criteria);
  const generation = useRef(0);

  const load = useCallback(
    async (url: string, criteria: Criteria) => {
      const gen = ++generation.current;
      setLoading(true);
      try {
        const bundle = await api.fhirSearch(url);
        if (gen !== generation.current) return;
        const offset = linkOffset(bundleLink(bundle, 'self') ?? url);
        applied.current = criteria;
        rememberInLocation(criteria, offset);
        setResults({
          patients: bundleResources(bundle).filter((r) => r.resourceType === 'Patient'),
          total: typeof bundle.total === 'number' ? bundle.total : null,
          offset,
          next: bundleLink(bundle, 'next'),
          previous: bundleLink(bundle, 'previous'),
        });
      } catch (e) {
        if (gen === generation.current) {
          toast.error(e);
          setResults((r) => r ?? { patients: [], total: null, offset: 0, next: null, previous: null });
        }
      } finally {
        if (gen === generation.current) setLoading(false);
      }
    },
    [toast],
  );

  useEffect(() => {
    void load(searchUrl(initial.current.criteria, initial.current.offset), initial.current.criteria);
  }, [load]);

  const set = <K extends keyof Criteria>(k: K, v: Criteria[K]) => setDraft((d) => ({ ...d, [k]: v }));
  const open = (p: FhirResource) => {
    if (p.id) navigate(`/patients/${encodeURIComponent(p.id)}`);
  };
  const genderLabel = (p: FhirResource) => t(`gender.${patientGender(p)}`);

  const shownFrom = results && results.patients.length ? results.offset + 1 : 0;
  const shownTo = results ? results.offset + results.patients.length : 0;

  return (
    <div className="page" data-testid="page-patients">
      <div className="page-header">
        <div>
          <h1>{t('patients.title')}</h1>
          <div className="muted">{t('patients.subtitle')}</div>
        </div>
      </div>

      <form
        className="card filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load(searchUrl(draft, 0), draft);
        }}
        data-testid="patients-search"
      >
        <div className="filter">
          <label htmlFor="ps-name">{t('patients.name')}</label>
          <input
            id="ps-name"
            type="search"
            value={draft.name}
            placeholder={t('patients.namePlaceholder')}
            onChange={(e) => set('name', e.target.value)}
            data-testid="patients-name"
          />
        </div>
        <div className="filter">
          <label htmlFor="ps-identifier">{t('patients.identifier')}</label>
          <input
            id="ps-identifier"
            type="search"
            value={draft.identifier}
            placeholder={t('patients.identifierPlaceholder')}
            onChange={(e) => set('identifier', e.target.value)}
            data-testid="patients-identifier"
          />
        </div>
        <div className="filter">
          <label htmlFor="ps-gender">{t('patients.gender')}</label>
          <select id="ps-gender" value={draft.gender} onChange={(e) => set('gender', e.target.value as Criteria['gender'])} data-testid="patients-gender">
            <option value="">{t('patients.genderAny')}</option>
            <option value="male">{t('gender.male')}</option>
            <option value="female">{t('gender.female')}</option>
            <option value="other">{t('gender.other')}</option>
            <option value="unknown">{t('gender.unknown')}</option>
          </select>
        </div>
        <div className="filter">
          <label htmlFor="ps-birthdate">{t('patients.birthDate')}</label>
          <input id="ps-birthdate" type="date" value={draft.birthdate} onChange={(e) => set('birthdate', e.target.value)} data-testid="patients-birthdate" />
        </div>
        <div className="filter-buttons">
          <button
            type="button"
            className="btn"
            onClick={() => {
              setDraft(EMPTY);
              void load(searchUrl(EMPTY, 0), EMPTY);
            }}
            data-testid="patients-reset"
          >
            {t('patients.reset')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={loading} data-testid="patients-submit">
            {t('patients.search')}
          </button>
        </div>
      </form>

      <div className="table-wrap card">
        <table className="table table-hover" data-testid="patients-table" aria-busy={loading}>
          <thead>
            <tr>
              <th>{t('patients.name')}</th>
              <th>{t('patients.gender')}</th>
              <th>{t('patients.birthDateAge')}</th>
              <th>{t('patients.identifiers')}</th>
            </tr>
          </thead>
          <tbody>
            {results === null && (
              <tr>
                <td colSpan={4} className="muted center">
                  {t('common.loading')}
                </td>
              </tr>
            )}
            {results?.patients.length === 0 && (
              <tr>
                <td colSpan={4} className="muted center" data-testid="patients-empty">
                  {t('patients.none')}
                </td>
              </tr>
            )}
            {results?.patients.map((p) => {
              const birth = typeof p.birthDate === 'string' ? p.birthDate : undefined;
              const age = ageYears(birth);
              return (
                <tr
                  key={p.id}
                  className="clickable"
                  tabIndex={0}
                  data-testid={`patient-row-${p.id}`}
                  onClick={() => open(p)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' || e.key === ' ') {
                      e.preventDefault();
                      open(p);
                    }
                  }}
                >
                  <td>
                    <span className="patient-name">{patientName(p) || <span className="muted">{t('common.none')}</span>}</span>
                  </td>
                  <td>{genderLabel(p)}</td>
                  <td className="nowrap">
                    {birth ?? t('common.none')}
                    {age !== null && <span className="muted"> · {t('patients.age', { n: age })}</span>}
                  </td>
                  <td>
                    {patientIdentifiers(p).map((i) => (
                      <span key={`${i.system}|${i.value}`} className="ident" title={i.system}>
                        <span className="ident-label">{identifierKind(i.system) ? t(`identifier.${identifierKind(i.system)!}`) : i.label}</span>
                        <code>{maskId(i.value)}</code>
                      </span>
                    ))}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      {results && (results.patients.length > 0 || results.offset > 0) && (
        <div className="pager">
          <span className="muted" data-testid="patients-count">
            {results.total !== null
              ? t('patients.range', { from: shownFrom, to: shownTo, total: results.total })
              : t('patients.rangeNoTotal', { from: shownFrom, to: shownTo })}
          </span>
          <div className="page-actions">
            <button
              type="button"
              className="btn"
              disabled={!results.previous || loading}
              onClick={() => results.previous && void load(results.previous, applied.current)}
              data-testid="patients-prev"
            >
              {t('patients.prev')}
            </button>
            <button
              type="button"
              className="btn"
              disabled={!results.next || loading}
              onClick={() => results.next && void load(results.next, applied.current)}
              data-testid="patients-next"
            >
              {t('patients.next')}
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
