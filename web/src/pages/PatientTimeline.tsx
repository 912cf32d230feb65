import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { api, ApiError } from '../api';
import type { FhirResource } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import type { MessageKey } from '../i18n';
import { Link, useRouteParams } from '../router';
import { useToast } from '../components/Toasts';
import { Dialog } from '../components/Dialog';
import { Field } from '../components/Field';
import {
  ageYears,
  bundleLink,
  bundleResources,
  coded,
  dayOf,
  decodeBase64Text,
  encounterOf,
  get,
  getStr,
  identifierKind,
  linkOffset,
  maskId,
  maskPhone,
  observationCategory,
  observationValues,
  patientGender,
  patientIdentifiers,
  patientName,
  patientPhones,
  patientRegion,
  resourceDate,
  systemName,
  timeOf,
} from '../fhir';
import type { Flag, ValueView } from '../fhir';

/** Upper bound on $everything pages followed (1000 resources each). */
const MAX_PAGES = 20;

type Kind = 'encounter' | 'condition' | 'lab' | 'vitals' | 'medication' | 'procedure' | 'note' | 'other';

const KINDS: Kind[] = ['encounter', 'condition', 'lab', 'vitals', 'medication', 'procedure', 'note', 'other'];

/** The FHIR resource type behind each filter, shown next to its label. */
const KIND_TYPE: Record<Kind, string> = {
  encounter: 'Encounter',
  condition: 'Condition',
  lab: 'Observation',
  vitals: 'Observation',
  medication: 'MedicationRequest',
  procedure: 'Procedure',
  note: 'DocumentReference',
  other: '',
};

/** Stroked 24×24 SVG path per kind (same style as the sidebar icons). */
const KIND_ICON: Record<Kind, string> = {
  encounter: 'M3 21h18M5 21V7l7-4 7 4v14M10 9h4M12 7v4M9 21v-5h6v5',
  condition: 'M9 3h6v4H9zM6 5H5a1 1 0 0 0-1 1v14a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1V6a1 1 0 0 0-1-1h-1M12 11v6M9 14h6',
  lab: 'M9 3h6M10 3v6L4.5 18.5A1.7 1.7 0 0 0 6 21h12a1.7 1.7 0 0 0 1.5-2.5L14 9V3M7 15h10',
  vitals: 'M3 12h4l3-8 4 16 3-8h4',
  medication: 'M10.5 20.5l10-10a4.95 4.95 0 1 0-7-7l-10 10a4.95 4.95 0 1 0 7 7M8.5 8.5l7 7',
  procedure: 'M6 3v7a6 6 0 0 0 12 0V3M6 3H4M18 3h2M12 16v3a2 2 0 0 0 4 0v-1',
  note: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6M8 13h8M8 17h5',
  other: 'M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18M12 8v5M12 16h.01',
};

interface Item {
  key: string;
  kind: Kind;
  date: string | undefined;
  time: number;
  /** One resource, or several vital signs taken at the same moment. */
  resources: FhirResource[];
}

interface Group {
  key: string;
  encounter: FhirResource | null;
  /** Local day (YYYY-MM-DD) for groups of resources without an encounter. */
  day: string | null;
  time: number;
  items: Item[];
}

function kindOf(r: FhirResource): Kind {
  switch (r.resourceType) {
    case 'Encounter':
      return 'encounter';
    case 'Condition':
      return 'condition';
    case 'Observation':
      return observationCategory(r) === 'vital-signs' ? 'vitals' : 'lab';
    case 'MedicationRequest':
    case 'MedicationStatement':
    case 'MedicationAdministration':
      return 'medication';
    case 'Procedure':
      return 'procedure';
    case 'DocumentReference':
      return 'note';
    default:
      return 'other';
  }
}

/** Builds the timeline: encounter groups and day groups, newest first. */
function buildGroups(resources: FhirResource[]): Group[] {
  const encounters = new Map<string, FhirResource>();
  for (const r of resources) if (r.resourceType === 'Encounter' && r.id) encounters.set(r.id, r);

  // Vital signs taken together (same encounter, same moment) form one item.
  const items: Item[] = [];
  const vitals = new Map<string, Item>();
  for (const r of resources) {
    if (r.resourceType === 'Patient' || r.resourceType === 'Encounter') continue;
    const kind = kindOf(r);
    const date = resourceDate(r);
    if (kind === 'vitals') {
      const vkey = `${encounterOf(r) ?? ''}|${date ?? ''}`;
      const existing = vitals.get(vkey);
      if (existing) {
        existing.resources.push(r);
        continue;
      }
      const item: Item = { key: `vitals:${vkey}:${r.id}`, kind, date, time: timeOf(date), resources: [r] };
      vitals.set(vkey, item);
      items.push(item);
      continue;
    }
    items.push({ key: `${r.resourceType}/${r.id}`, kind, date, time: timeOf(date), resources: [r] });
  }

  const groups = new Map<string, Group>();
  for (const [id, enc] of encounters) {
    groups.set(`enc:${id}`, { key: `enc:${id}`, encounter: enc, day: null, time: timeOf(resourceDate(enc)), items: [] });
  }
  for (const item of items) {
    const encId = encounterOf(item.resources[0]);
    let group = encId ? groups.get(`enc:${encId}`) : undefined;
    if (!group) {
      const day = dayOf(item.date) || '';
      const key = `day:${day}`;
      group = groups.get(key);
      if (!group) {
        group = { key, encounter: null, day, time: Number.NEGATIVE_INFINITY, items: [] };
        groups.set(key, group);
      }
      group.time = Math.max(group.time, item.time);
    }
    group.items.push(item);
  }
  const list = Array.from(groups.values());
  for (const g of list) {
    g.items.sort((a, b) => b.time - a.time || a.key.localeCompare(b.key));
    if (g.time === Number.NEGATIVE_INFINITY && g.items.length) g.time = g.items[0].time;
  }
  return list.sort((a, b) => b.time - a.time || a.key.localeCompare(b.key));
}

/** Clinical and request statuses with a translation; others are shown as the FHIR code. */
const STATUS_KEYS: Record<string, MessageKey> = {
  active: 'timeline.status.active',
  inactive: 'timeline.status.inactive',
  resolved: 'timeline.status.resolved',
  remission: 'timeline.status.remission',
  recurrence: 'timeline.status.recurrence',
  relapse: 'timeline.status.relapse',
  completed: 'timeline.status.completed',
  stopped: 'timeline.status.stopped',
  cancelled: 'timeline.status.cancelled',
  'on-hold': 'timeline.status.on-hold',
  draft: 'timeline.status.draft',
  'entered-in-error': 'timeline.status.entered-in-error',
  'in-progress': 'timeline.status.in-progress',
  'not-done': 'timeline.status.not-done',
  unknown: 'timeline.status.unknown',
};

function StatusBadge({ status }: { status: string | undefined }) {
  const { t } = useI18n();
  if (!status) return null;
  const cls = status === 'active' || status === 'in-progress' ? 'badge badge-ok' : 'badge badge-muted';
  return (
    <span className={cls} title={status}>
      {STATUS_KEYS[status] ? t(STATUS_KEYS[status]) : status}
    </span>
  );
}

function KindIcon({ kind }: { kind: Kind }) {
  return (
    <span className={`tl-icon tl-icon-${kind}`} aria-hidden="true">
      <svg viewBox="0 0 24 24" className="icon">
        <path d={KIND_ICON[kind]} />
      </svg>
    </span>
  );
}

const FLAG_CLASS: Record<Exclude<Flag, null>, string> = {
  high: 'flag flag-high',
  low: 'flag flag-low',
  abnormal: 'flag flag-abnormal',
  normal: 'flag flag-normal',
};

function FlagBadge({ flag }: { flag: Flag }) {
  const { t } = useI18n();
  if (!flag || flag === 'normal') return null;
  return (
    <span className={FLAG_CLASS[flag]} data-testid="lab-flag" data-flag={flag}>
      {t(`timeline.flag.${flag}`)}
    </span>
  );
}

function ValueText({ v }: { v: ValueView }) {
  const cls = v.flag === 'high' ? 'value value-high' : v.flag === 'low' ? 'value value-low' : v.flag === 'abnormal' ? 'value value-abnormal' : 'value';
  return <span className={cls}>{v.text}</span>;
}

function CodeTag({ code, system }: { code?: string; system?: string }) {
  if (!code) return null;
  const name = systemName(system);
  return (
    <code className="code-tag" title={system}>
      {name ? `${name} ` : ''}
      {code}
    </code>
  );
}

function NoteBody({ resource }: { resource: FhirResource }) {
  const { t } = useI18n();
  const attachments = (Array.isArray(resource.content) ? resource.content : []).map((c) => get(c, 'attachment'));
  // Decoded only while the note is open (this component mounts on expand).
  const texts = attachments.map((a) => {
    const data = getStr(a, 'data');
    if (!data) return { ok: false as const, url: getStr(a, 'url') };
    try {
      return { ok: true as const, text: decodeBase64Text(data) };
    } catch {
      return { ok: false as const, url: undefined };
    }
  });
  if (texts.length === 0) return <div className="muted">{t('timeline.noteEmpty')}</div>;
  return (
    <>
      {texts.map((x, i) =>
        x.ok ? (
          <pre key={i} className="note-text" data-testid="note-text" lang="zh-CN">
            {x.text}
          </pre>
        ) : (
          <div key={i} className="muted">
            {x.url ? t('timeline.noteExternal', { url: x.url }) : t('timeline.noteUnreadable')}
          </div>
        ),
      )}
    </>
  );
}

function ItemBody({ item }: { item: Item }) {
  const { t, formatTime } = useI18n();
  const [open, setOpen] = useState(false);
  const r = item.resources[0];
  switch (item.kind) {
    case 'condition': {
      const c = coded(r.code);
      const status = getStr(r, 'clinicalStatus', 'coding', 0, 'code');
      return (
        <div className="tl-facts">
          <div className="tl-title">
            <CodeTag code={c.code} system={c.system} />
            <span data-testid="condition-display">{c.display ?? t('common.none')}</span>
            <StatusBadge status={status} />
          </div>
          {getStr(r, 'onsetDateTime') && (
            <div className="muted small">{t('timeline.onset', { time: formatTime(getStr(r, 'onsetDateTime')) })}</div>
          )}
        </div>
      );
    }
    case 'lab': {
      const c = coded(r.code);
      const values = observationValues(r);
      return (
        <div className="tl-facts">
          <div className="tl-title">
            <span>{c.display ?? t('common.none')}</span>
            <CodeTag code={c.code} system={c.system} />
          </div>
          <div className="tl-values" data-testid="lab-value">
            {values.length === 0 && <span className="muted">{t('timeline.noValue')}</span>}
            {values.map((v, i) => (
              <span key={i} className="tl-value">
                {v.label && <span className="muted">{v.label} </span>}
                <ValueText v={v} /> <FlagBadge flag={v.flag} />
                {v.range && <span className="muted small"> {t('timeline.range', { range: v.range })}</span>}
              </span>
            ))}
          </div>
        </div>
      );
    }
    case 'vitals': {
      return (
        <div className="tl-facts">
          <div className="tl-values" data-testid="vitals-values">
            {item.resources.map((o) => {
              const c = coded(o.code);
              const values = observationValues(o);
              return (
                <span key={o.id} className="tl-value" title={c.code}>
                  <span className="muted">{c.display} </span>
                  {values.map((v, i) => (
                    <span key={i}>
                      {i > 0 && ' / '}
                      <ValueText v={v} />
                      <FlagBadge flag={v.flag} />
                    </span>
                  ))}
                </span>
              );
            })}
          </div>
        </div>
      );
    }
    case 'medication': {
      const med = coded(r.medicationCodeableConcept);
      const drug = med.display ?? getStr(r, 'medicationReference', 'display') ?? t('common.none');
      const dose = getStr(r, 'dosageInstruction', 0, 'text');
      return (
        <div className="tl-facts">
          <div className="tl-title">
            <span data-testid="medication-name">{drug}</span>
            <CodeTag code={med.code} system={med.system} />
            <StatusBadge status={getStr(r, 'status')} />
          </div>
          {dose && <div className="small">{t('timeline.dose', { dose })}</div>}
        </div>
      );
    }
    case 'procedure': {
      const c = coded(r.code);
      const end = getStr(r, 'performedPeriod', 'end');
      return (
        <div className="tl-facts">
          <div className="tl-title">
            <span>{c.display ?? t('common.none')}</span>
            <CodeTag code={c.code} system={c.system} />
          </div>
          {end && <div className="muted small">{t('timeline.until', { time: formatTime(end) })}</div>}
        </div>
      );
    }
    case 'note': {
      const kind = getStr(r, 'type', 'text') ?? getStr(r, 'type', 'coding', 0, 'display') ?? t('timeline.kind.note');
      const title = getStr(r, 'content', 0, 'attachment', 'title') ?? getStr(r, 'description');
      const author = getStr(r, 'author', 0, 'display');
      return (
        <div className="tl-facts">
          <div className="tl-title">
            <span data-testid="note-kind">{kind}</span>
            {title && title !== kind && <span className="muted">{title}</span>}
            {author && <span className="muted small">{t('timeline.author', { name: author })}</span>}
            <button
              type="button"
              className="btn btn-sm"
              aria-expanded={open}
              onClick={() => setOpen((o) => !o)}
              data-testid="note-toggle"
            >
              {open ? t('timeline.noteHide') : t('timeline.noteShow')}
            </button>
          </div>
          {open && <NoteBody resource={r} />}
        </div>
      );
    }
    default:
      return (
        <div className="tl-facts">
          <div className="tl-title">
            <code>{r.resourceType}</code>
            <span className="muted">{r.id}</span>
          </div>
        </div>
      );
  }
}

function EncounterHeader({ encounter }: { encounter: FhirResource }) {
  const { t, formatTime } = useI18n();
  const cls = getStr(encounter, 'class', 'code');
  const known = cls === 'AMB' || cls === 'IMP' || cls === 'EMER';
  const dept = getStr(encounter, 'serviceProvider', 'display');
  const type = getStr(encounter, 'type', 0, 'text') ?? getStr(encounter, 'type', 0, 'coding', 0, 'display');
  const start = getStr(encounter, 'period', 'start');
  const end = getStr(encounter, 'period', 'end');
  const doctor = getStr(encounter, 'participant', 0, 'individual', 'display');
  const location = getStr(encounter, 'location', 0, 'location', 'display');
  return (
    <div className="tl-encounter" data-testid="timeline-encounter" data-encounter={encounter.id}>
      <KindIcon kind="encounter" />
      <div className="tl-encounter-main">
        <div className="tl-title">
          {cls && (
            <span className={`badge enc-class enc-${known ? cls.toLowerCase() : 'other'}`}>
              {known ? t(`timeline.class.${cls as 'AMB' | 'IMP' | 'EMER'}`) : cls}
            </span>
          )}
          <strong data-testid="encounter-department">{dept ?? t('timeline.noDepartment')}</strong>
          {type && <span className="muted">{type}</span>}
        </div>
        <div className="muted small">
          {start ? formatTime(start) : t('common.none')}
          {end && ` – ${formatTime(end)}`}
          {doctor && ` · ${t('timeline.attending', { name: doctor })}`}
          {location && ` · ${location}`}
        </div>
      </div>
    </div>
  );
}

function BreakGlassDialog({ onCancel, onConfirm }: { onCancel: () => void; onConfirm: (reason: string) => void }) {
  const { t } = useI18n();
  const [reason, setReason] = useState('');
  const [touched, setTouched] = useState(false);
  const error = reason.trim().length < 2 ? t('breakGlass.reasonRequired') : null;
  const submit = () => {
    setTouched(true);
    if (!error) onConfirm(reason.trim());
  };
  return (
    <Dialog
      title={t('breakGlass.title')}
      onClose={onCancel}
      onSubmit={submit}
      testId="break-glass-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onCancel}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-danger" data-testid="break-glass-submit">
            {t('breakGlass.confirm')}
          </button>
        </>
      }
    >
      <div className="notice notice-warn">{t('breakGlass.warning')}</div>
      <Field label={t('breakGlass.reason')} htmlFor="bg-reason" hint={t('breakGlass.reasonHint')} error={touched ? error : null}>
        <textarea
          id="bg-reason"
          rows={3}
          maxLength={500}
          value={reason}
          onChange={(e) => setReason(e.target.value)}
          data-testid="break-glass-reason"
        />
      </Field>
    </Dialog>
  );
}

type LoadState =
  | { status: 'loading' }
  | { status: 'denied'; error: ApiError }
  | { status: 'error'; error: unknown }
  | { status: 'ready'; patient: FhirResource | null; resources: FhirResource[] };

export function PatientTimelinePage() {
  const { id = '' } = useRouteParams();
  const { t, lang } = useI18n();
  const toast = useToast();
  const { hasAnyRole } = useAuth();
  const [state, setState] = useState<LoadState>({ status: 'loading' });
  const [breakGlass, setBreakGlass] = useState<string | null>(null);
  const [askReason, setAskReason] = useState(false);
  const [hidden, setHidden] = useState<Set<Kind>>(new Set());
  const generation = useRef(0);

  const load = useCallback(
    async (reason: string | null) => {
      const gen = ++generation.current;
      setState({ status: 'loading' });
      try {
        const resources: FhirResource[] = [];
        let offset = 0;
        for (let page = 0; page < MAX_PAGES; page++) {
          const bundle = await api.patientEverything(id, reason, offset);
          if (gen !== generation.current) return;
          resources.push(...bundleResources(bundle));
          const next = bundleLink(bundle, 'next');
          if (!next) break;
          const nextOffset = linkOffset(next);
          if (nextOffset <= offset) break;
          offset = nextOffset;
        }
        const patient = resources.find((r) => r.resourceType === 'Patient' && r.id === id) ?? null;
        // The 403 that led to break-glass no longer applies.
        if (reason) toast.clear();
        setState({ status: 'ready', patient, resources });
      } catch (e) {
        if (gen !== generation.current) return;
        toast.error(e);
        if (e instanceof ApiError && e.status === 403) setState({ status: 'denied', error: e });
        else setState({ status: 'error', error: e });
      }
    },
    [id, toast],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  const groups = useMemo(() => (state.status === 'ready' ? buildGroups(state.resources) : []), [state]);
  const counts = useMemo(() => {
    const c: Record<Kind, number> = { encounter: 0, condition: 0, lab: 0, vitals: 0, medication: 0, procedure: 0, note: 0, other: 0 };
    if (state.status === 'ready') {
      for (const r of state.resources) if (r.resourceType !== 'Patient') c[kindOf(r)] += 1;
    }
    return c;
  }, [state]);

  const timeFmt = useMemo(() => new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hour12: false }), [lang]);
  const dayFmt = useMemo(
    () => new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'long', day: 'numeric', weekday: 'short' }),
    [lang],
  );
  const formatDay = (day: string) => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
    return m ? dayFmt.format(new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : day || t('timeline.undated');
  };
  const formatClock = (iso: string | undefined) => {
    if (!iso) return '';
    if (/^\d{4}(-\d{2}){0,2}$/.test(iso)) return '';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? '' : timeFmt.format(d);
  };

  const canBreakGlass = hasAnyRole(['clinician']);
  const toggle = (k: Kind) =>
    setHidden((h) => {
      const next = new Set(h);
      if (next.has(k)) next.delete(k);
      else next.add(k);
      return next;
    });

  const back = (
    <Link to="/patients" className="btn btn-ghost" data-testid="timeline-back">
      ← {t('timeline.back')}
    </Link>
  );

  if (state.status === 'loading') {
    return (
      <div className="page" data-testid="page-patient">
        <div className="page-header">{back}</div>
        <div className="card muted">{t('common.loading')}</div>
      </div>
    );
  }

  if (state.status === 'denied' || state.status === 'error') {
    const err = state.error;
    const message = err instanceof ApiError ? err.message || t('error.unexpected', { status: err.status }) : String(err);
    const requestId = err instanceof ApiError ? err.requestId : null;
    return (
      <div className="page" data-testid="page-patient">
        <div className="page-header">{back}</div>
        <div className={`card access-card ${state.status === 'denied' ? 'access-denied' : ''}`} data-testid={state.status === 'denied' ? 'timeline-denied' : 'timeline-error'}>
          <h2>{state.status === 'denied' ? t('timeline.deniedTitle') : t('timeline.errorTitle')}</h2>
          <p>{message}</p>
          {requestId && (
            <p className="muted small">
              {t('common.requestId')}: <code>{requestId}</code>
            </p>
          )}
          {state.status === 'denied' && canBreakGlass && (
            <>
              <p className="muted">{t('breakGlass.explain')}</p>
              <button type="button" className="btn btn-danger" onClick={() => setAskReason(true)} data-testid="break-glass-open">
                {t('breakGlass.open')}
              </button>
            </>
          )}
          {state.status === 'error' && (
            <button type="button" className="btn" onClick={() => void load(breakGlass)}>
              {t('common.refresh')}
            </button>
          )}
        </div>
        {askReason && (
          <BreakGlassDialog
            onCancel={() => setAskReason(false)}
            onConfirm={(reason) => {
              setAskReason(false);
              setBreakGlass(reason);
              void load(reason);
            }}
          />
        )}
      </div>
    );
  }

  const patient = state.patient;
  const birth = patient && typeof patient.birthDate === 'string' ? patient.birthDate : undefined;
  const age = ageYears(birth);
  const visibleGroups = groups
    .map((g) => ({ ...g, items: g.items.filter((i) => !hidden.has(i.kind)) }))
    .filter((g) => g.items.length > 0 || (g.encounter && !hidden.has('encounter')));
  const presentKinds = KINDS.filter((k) => counts[k] > 0);

  return (
    <div className="page" data-testid="page-patient">
      <div className="page-header">{back}</div>

      {breakGlass && (
        <div className="notice notice-bad" role="status" data-testid="break-glass-active">
          {t('breakGlass.active', { reason: breakGlass })}
        </div>
      )}

      <div className="card patient-card" data-testid="patient-header">
        {patient ? (
          <>
            <div className="patient-card-top">
              <span className="avatar avatar-lg" aria-hidden="true">
                {patientName(patient).slice(0, 1) || '?'}
              </span>
              <div>
                <h1 data-testid="patient-name">{patientName(patient) || t('common.none')}</h1>
                <div className="patient-facts">
                  <span>{t(`gender.${patientGender(patient)}`)}</span>
                  {age !== null && <span>{t('patients.age', { n: age })}</span>}
                  {birth && <span>{t('timeline.born', { date: birth })}</span>}
                  {patient.deceasedBoolean === true || typeof patient.deceasedDateTime === 'string' ? (
                    <span className="badge badge-muted">{t('timeline.deceased')}</span>
                  ) : null}
                </div>
              </div>
            </div>
            <dl className="kv patient-kv">
              {patientIdentifiers(patient).map((i) => (
                <div key={`${i.system}|${i.value}`} className="kv-row">
                  <dt>{identifierKind(i.system) ? t(`identifier.${identifierKind(i.system)!}`) : i.label || t('timeline.identifier')}</dt>
                  <dd>
                    <code data-testid="patient-identifier">{maskId(i.value)}</code>
                  </dd>
                </div>
              ))}
              {patientPhones(patient).map((p) => (
                <div key={p} className="kv-row">
                  <dt>{t('timeline.phone')}</dt>
                  <dd>
                    <code data-testid="patient-phone">{maskPhone(p)}</code>
                  </dd>
                </div>
              ))}
              {patientRegion(patient) && (
                <div className="kv-row">
                  <dt>{t('timeline.region')}</dt>
                  <dd>{patientRegion(patient)}</dd>
                </div>
              )}
              {getStr(patient, 'managingOrganization', 'display') && (
                <div className="kv-row">
                  <dt>{t('timeline.organization')}</dt>
                  <dd>{getStr(patient, 'managingOrganization', 'display')}</dd>
                </div>
              )}
            </dl>
          </>
        ) : (
          <div className="muted">{t('timeline.noPatient', { id })}</div>
        )}
      </div>

      <div className="tl-filters" role="group" aria-label={t('timeline.filters')} data-testid="timeline-filters">
        <span className="muted">{t('timeline.filters')}</span>
        {presentKinds.map((k) => (
          <label key={k} className={`tl-filter${hidden.has(k) ? '' : ' on'}`}>
            <input type="checkbox" checked={!hidden.has(k)} onChange={() => toggle(k)} data-testid={`timeline-filter-${k}`} />
            <span>{t(`timeline.kind.${k}` as MessageKey)}</span>
            <span className="tl-filter-count">{counts[k]}</span>
            {KIND_TYPE[k] && <code className="muted">{KIND_TYPE[k]}</code>}
          </label>
        ))}
        {hidden.size > 0 && (
          <button type="button" className="btn btn-sm btn-ghost" onClick={() => setHidden(new Set())}>
            {t('timeline.showAll')}
          </button>
        )}
      </div>

      {visibleGroups.length === 0 && (
        <div className="card muted center" data-testid="timeline-empty">
          {t('timeline.empty')}
        </div>
      )}

      <div className="timeline" data-testid="timeline">
        {visibleGroups.map((g) => {
          let lastDay = '';
          const multiDay = new Set(g.items.map((i) => dayOf(i.date))).size > 1;
          const heading: ReactNode = g.encounter ? (
            <EncounterHeader encounter={g.encounter} />
          ) : (
            <div className="tl-day-header" data-testid="timeline-day">
              {formatDay(g.day ?? '')}
            </div>
          );
          return (
            <section key={g.key} className="tl-group card" data-testid="timeline-group">
              {heading}
              {g.items.length > 0 && (
                <ol className="tl-items">
                  {g.items.map((item) => {
                    const day = dayOf(item.date);
                    const showDay = g.encounter && multiDay && day !== lastDay;
                    lastDay = day;
                    return (
                      <li key={item.key} className="tl-item-wrap">
                        {showDay && <div className="tl-subday">{formatDay(day)}</div>}
                        <div className={`tl-item tl-${item.kind}`} data-testid="timeline-item" data-kind={item.kind}>
                          <div className="tl-time" title={item.date}>
                            {g.encounter ? formatClock(item.date) : formatClock(item.date) || formatDay(day)}
                          </div>
                          <KindIcon kind={item.kind} />
                          <span className={`badge tl-badge tl-badge-${item.kind}`}>{t(`timeline.kind.${item.kind}` as MessageKey)}</span>
                          <ItemBody item={item} />
                        </div>
                      </li>
                    );
                  })}
                </ol>
              )}
            </section>
          );
        })}
      </div>
    </div>
  );
}
