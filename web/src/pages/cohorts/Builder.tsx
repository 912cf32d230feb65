// The criteria form: concept sets with code search, the entry event, and the
// inclusion and exclusion rules (nested groups included).
import { useEffect, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { useI18n } from '../../i18n';
import type { MessageKey } from '../../i18n';
import { useToast } from '../../components/Toasts';
import { cohortApi } from './api';
import type { CodeHit } from './api';
import { BlockErrorText, useBlockError } from './common';
import {
  COUNT_OPS,
  DOMAINS,
  GENDERS,
  GROUP_MODES,
  KNOWN_SYSTEMS,
  OCCURRENCES,
  conceptSetKey,
  newEvent,
  newRule,
  newUid,
  replaceRule,
  summarize,
  systemLabel,
  usedSetKeys,
} from './model';
import type {
  CohortDraft,
  ConceptItem,
  ConceptSetDraft,
  CountOp,
  Domain,
  EventDraft,
  Gender,
  GroupMode,
  HighOp,
  LowOp,
  NamedRuleDraft,
  Occurrence,
  RuleDraft,
  RuleKind,
  Section,
} from './model';

export type Update = (fn: (d: CohortDraft) => CohortDraft) => void;

const DOMAIN_KEYS: Record<Domain, MessageKey> = {
  condition: 'cohorts.domain.condition',
  observation: 'cohorts.domain.observation',
  medication: 'cohorts.domain.medication',
  procedure: 'cohorts.domain.procedure',
  encounter: 'cohorts.domain.encounter',
};
const OCCURRENCE_KEYS: Record<Occurrence, MessageKey> = {
  first: 'cohorts.occurrence.first',
  all: 'cohorts.occurrence.all',
  last: 'cohorts.occurrence.last',
};
const COUNT_KEYS: Record<CountOp, MessageKey> = {
  atLeast: 'cohorts.count.atLeast',
  atMost: 'cohorts.count.atMost',
  exactly: 'cohorts.count.exactly',
};
const GROUP_KEYS: Record<GroupMode, MessageKey> = {
  all: 'cohorts.group.all',
  any: 'cohorts.group.any',
  not: 'cohorts.group.not',
  atLeast: 'cohorts.group.atLeast',
};
const KIND_KEYS: Record<RuleKind, MessageKey> = {
  event: 'cohorts.kind.event',
  age: 'cohorts.kind.age',
  gender: 'cohorts.kind.gender',
  group: 'cohorts.kind.group',
};
const GENDER_KEYS: Record<Gender, MessageKey> = {
  male: 'gender.male',
  female: 'gender.female',
  other: 'gender.other',
  unknown: 'gender.unknown',
};

export function domainLabel(t: (k: MessageKey) => string, d: string): string {
  return d in DOMAIN_KEYS ? t(DOMAIN_KEYS[d as Domain]) : d;
}

// ---------------------------------------------------------------- concept sets

function CodeSearch({
  sets,
  target,
  setTarget,
  onAdd,
}: {
  sets: ConceptSetDraft[];
  target: string;
  setTarget: (key: string) => void;
  onAdd: (items: ConceptItem[], domain: Domain | undefined) => void;
}) {
  const { t, lang } = useI18n();
  const toast = useToast();
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<CodeHit[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [descendants, setDescendants] = useState(true);
  const [manualSystem, setManualSystem] = useState(KNOWN_SYSTEMS[0].uri);
  const [manualCode, setManualCode] = useState('');
  const generation = useRef(0);
  const nf = new Intl.NumberFormat(lang);

  const search = async (text: string) => {
    const gen = ++generation.current;
    setLoading(true);
    try {
      const res = await cohortApi.codes(text.trim());
      if (gen === generation.current) setHits(res.codes);
    } catch (e) {
      if (gen === generation.current) toast.error(e);
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  // Searches as the user types (debounced); the button searches at once.
  useEffect(() => {
    const h = window.setTimeout(() => void search(q), 300);
    return () => window.clearTimeout(h);
  }, [q]);

  const canAdd = sets.some((s) => s.key === target);
  const add = (list: CodeHit[]) => {
    const domains = new Set(list.map((h) => h.domain));
    onAdd(
      list.map((h) => ({ system: h.system, code: h.code, display: h.display, descendants })),
      domains.size === 1 ? list[0].domain : undefined,
    );
  };
  const addManual = () => {
    const code = manualCode.trim();
    if (!code || !canAdd) return;
    onAdd([{ system: manualSystem.trim(), code, display: '', descendants }], undefined);
    setManualCode('');
  };

  return (
    <div className="cohort-search" data-testid="cohort-code-search">
      <div className="cohort-inline">
        <input
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && void search(q)}
          placeholder={t('cohorts.searchPlaceholder')}
          aria-label={t('cohorts.searchCodes')}
          data-testid="cohort-code-q"
          className="cohort-grow"
        />
        <button type="button" className="btn" onClick={() => void search(q)} disabled={loading} data-testid="cohort-code-submit">
          {t('cohorts.search')}
        </button>
      </div>
      <div className="cohort-inline cohort-search-target">
        <label className="cohort-label-inline">
          {t('cohorts.addTo')}
          <select value={target} onChange={(e) => setTarget(e.target.value)} data-testid="cohort-code-target" disabled={!sets.length}>
            {!sets.length && <option value="">{t('cohorts.noSetsYet')}</option>}
            {sets.map((s) => (
              <option key={s.uid} value={s.key}>
                {s.name || s.key}
              </option>
            ))}
          </select>
        </label>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={descendants}
            onChange={(e) => setDescendants(e.target.checked)}
            data-testid="cohort-code-descendants"
          />
          {t('cohorts.includeDescendants')}
        </label>
        {hits && hits.length > 1 && q.trim() && (
          <button type="button" className="btn btn-sm" disabled={!canAdd} onClick={() => add(hits)} data-testid="cohort-code-add-all">
            {t('cohorts.addAll', { n: hits.length })}
          </button>
        )}
      </div>
      <div className="table-wrap cohort-search-results">
        <table className="table" data-testid="cohort-code-results">
          <thead>
            <tr>
              <th>{t('cohorts.domain')}</th>
              <th>{t('cohorts.code')}</th>
              <th>{t('cohorts.display')}</th>
              <th className="num">{t('cohorts.patients')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {hits?.map((h) => (
              <tr key={`${h.system}|${h.code}|${h.domain}`} data-testid="cohort-code-row" data-code={h.code} data-system={h.system} data-domain={h.domain}>
                <td className="nowrap">{domainLabel(t, h.domain)}</td>
                <td className="nowrap">
                  <code>{h.code}</code> <span className="muted small">{systemLabel(h.system)}</span>
                </td>
                <td>{h.display}</td>
                <td className="num">{nf.format(h.patients)}</td>
                <td className="col-actions">
                  <button type="button" className="btn btn-sm" disabled={!canAdd} onClick={() => add([h])} data-testid="cohort-code-add">
                    {t('cohorts.add')}
                  </button>
                </td>
              </tr>
            ))}
            {hits && hits.length === 0 && (
              <tr>
                <td colSpan={5} className="muted center">
                  {t('cohorts.noCodes')}
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <div className="cohort-inline cohort-manual">
        <span className="muted small">{t('cohorts.manualCode')}</span>
        <input
          list="cohort-systems"
          value={manualSystem}
          onChange={(e) => setManualSystem(e.target.value)}
          aria-label={t('cohorts.system')}
          data-testid="cohort-manual-system"
          className="cohort-grow"
        />
        <datalist id="cohort-systems">
          {KNOWN_SYSTEMS.map((s) => (
            <option key={s.uri} value={s.uri}>
              {s.label}
            </option>
          ))}
        </datalist>
        <input
          value={manualCode}
          onChange={(e) => setManualCode(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && addManual()}
          placeholder={t('cohorts.code')}
          aria-label={t('cohorts.code')}
          data-testid="cohort-manual-code"
          className="cohort-narrow"
        />
        <button type="button" className="btn btn-sm" onClick={addManual} disabled={!canAdd || !manualCode.trim()} data-testid="cohort-manual-add">
          {t('cohorts.add')}
        </button>
      </div>
    </div>
  );
}

function ConceptSetCard({
  set,
  onChange,
  onRemove,
}: {
  set: ConceptSetDraft;
  onChange: (s: ConceptSetDraft) => void;
  onRemove: () => void;
}) {
  const { t } = useI18n();
  const err = useBlockError(set.uid);
  return (
    <div className={`cohort-set${err ? ' cohort-invalid' : ''}`} data-testid={`cohort-set-${set.key}`} data-key={set.key}>
      <div className="cohort-inline">
        <input
          value={set.name}
          onChange={(e) => onChange({ ...set, name: e.target.value })}
          aria-label={t('cohorts.setName')}
          data-testid="cohort-set-name-input"
          className="cohort-grow"
        />
        <code className="muted" title={t('cohorts.setKeyHint')}>
          {set.key}
        </code>
        <button type="button" className="btn btn-sm btn-ghost" onClick={onRemove} data-testid="cohort-set-remove">
          {t('cohorts.remove')}
        </button>
      </div>
      <BlockErrorText uid={set.uid} />
      {set.items.length === 0 ? (
        <div className="muted small cohort-set-empty">{t('cohorts.setEmpty')}</div>
      ) : (
        <ul className="cohort-items">
          {set.items.map((it, i) => (
            <li key={`${it.system}|${it.code}`} data-testid="cohort-set-item" data-code={it.code}>
              <code>{it.code}</code>
              <span className="muted small">{systemLabel(it.system)}</span>
              <span className="cohort-grow truncate" title={it.display}>
                {it.display}
              </span>
              <label className="checkbox small" title={t('cohorts.descendantsHint')}>
                <input
                  type="checkbox"
                  checked={it.descendants}
                  onChange={(e) =>
                    onChange({ ...set, items: set.items.map((x, j) => (j === i ? { ...x, descendants: e.target.checked } : x)) })
                  }
                  data-testid="cohort-item-descendants"
                />
                {t('cohorts.descendants')}
              </label>
              <button
                type="button"
                className="icon-btn"
                aria-label={t('cohorts.remove')}
                onClick={() => onChange({ ...set, items: set.items.filter((_, j) => j !== i) })}
                data-testid="cohort-item-remove"
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ConceptSetsPanel({ draft, update }: { draft: CohortDraft; update: Update }) {
  const { t } = useI18n();
  const toast = useToast();
  const [name, setName] = useState('');
  const [target, setTarget] = useState('');
  const sets = draft.conceptSets;

  // Keep the search's target on an existing set.
  useEffect(() => {
    if (!sets.some((s) => s.key === target)) setTarget(sets.length ? sets[sets.length - 1].key : '');
  }, [sets, target]);

  const create = () => {
    const n = name.trim();
    if (!n) return;
    const key = conceptSetKey(n, sets.map((s) => s.key));
    update((d) => ({ ...d, conceptSets: [...d.conceptSets, { uid: newUid(), key, name: n, items: [] }] }));
    setTarget(key);
    setName('');
  };

  const addItems = (items: ConceptItem[], domain: Domain | undefined) => {
    update((d) => ({
      ...d,
      conceptSets: d.conceptSets.map((s) => {
        if (s.key !== target) return s;
        const fresh = items.filter((it) => !s.items.some((x) => x.system === it.system && x.code === it.code));
        const hint = s.items.length === 0 ? domain : s.domain === domain ? domain : undefined;
        return { ...s, items: [...s.items, ...fresh], domain: hint };
      }),
    }));
  };

  const remove = (s: ConceptSetDraft) => {
    if (usedSetKeys(draft).has(s.key)) {
      toast.info(t('cohorts.setInUse', { name: s.name || s.key }));
      return;
    }
    update((d) => ({ ...d, conceptSets: d.conceptSets.filter((x) => x.uid !== s.uid) }));
  };

  return (
    <section className="card cohort-card" data-testid="cohort-sets">
      <h2>{t('cohorts.conceptSets')}</h2>
      <p className="muted small">{t('cohorts.conceptSetsHint')}</p>
      <div className="cohort-inline">
        <input
          value={name}
          onChange={(e) => setName(e.target.value)}
          onKeyDown={(e) => e.key === 'Enter' && create()}
          placeholder={t('cohorts.newSetPlaceholder')}
          aria-label={t('cohorts.setName')}
          data-testid="cohort-set-name"
          className="cohort-grow"
        />
        <button type="button" className="btn" onClick={create} disabled={!name.trim()} data-testid="cohort-set-create">
          {t('cohorts.newSet')}
        </button>
      </div>
      <div className="cohort-sets">
        {sets.map((s) => (
          <ConceptSetCard
            key={s.uid}
            set={s}
            onChange={(next) => update((d) => ({ ...d, conceptSets: d.conceptSets.map((x) => (x.uid === s.uid ? next : x)) }))}
            onRemove={() => remove(s)}
          />
        ))}
      </div>
      <h3>{t('cohorts.searchCodes')}</h3>
      <CodeSearch sets={sets} target={target} setTarget={setTarget} onAdd={addItems} />
    </section>
  );
}

// ---------------------------------------------------------------- events

function EventEditor({
  event,
  sets,
  onChange,
}: {
  event: EventDraft;
  sets: ConceptSetDraft[];
  onChange: (e: EventDraft) => void;
}) {
  const { t } = useI18n();
  const set = (patch: Partial<EventDraft>) => onChange({ ...event, ...patch });
  const chooseSet = (key: string) => {
    // A set filled from the search knows its codes' domain: take it.
    const hint = sets.find((s) => s.key === key)?.domain;
    set(hint ? { conceptSet: key, domain: hint } : { conceptSet: key });
  };
  const dangling = event.conceptSet && !sets.some((s) => s.key === event.conceptSet);
  return (
    <div className="cohort-event" data-testid="cohort-event">
      <div className="cohort-inline">
        <select
          value={event.domain}
          onChange={(e) => set({ domain: e.target.value as Domain })}
          aria-label={t('cohorts.domain')}
          data-testid="cohort-event-domain"
        >
          {DOMAINS.map((d) => (
            <option key={d} value={d}>
              {t(DOMAIN_KEYS[d])}
            </option>
          ))}
        </select>
        <select
          value={event.conceptSet}
          onChange={(e) => chooseSet(e.target.value)}
          aria-label={t('cohorts.conceptSet')}
          data-testid="cohort-event-set"
          className="cohort-grow"
        >
          <option value="">{t('cohorts.anyCode')}</option>
          {sets.map((s) => (
            <option key={s.uid} value={s.key}>
              {s.name || s.key}
            </option>
          ))}
          {dangling && <option value={event.conceptSet}>{event.conceptSet}</option>}
        </select>
      </div>
      {event.domain === 'observation' && (
        <div className="cohort-inline cohort-sub">
          <span className="muted small">{t('cohorts.value')}</span>
          <select value={event.lowOp} onChange={(e) => set({ lowOp: e.target.value as LowOp })} aria-label={t('cohorts.lowerBound')}>
            <option value="gte">≥</option>
            <option value="gt">&gt;</option>
          </select>
          <input
            type="number"
            value={event.low}
            onChange={(e) => set({ low: e.target.value })}
            className="cohort-num"
            aria-label={t('cohorts.lowerBound')}
            data-testid="cohort-value-low"
          />
          <select value={event.highOp} onChange={(e) => set({ highOp: e.target.value as HighOp })} aria-label={t('cohorts.upperBound')}>
            <option value="lte">≤</option>
            <option value="lt">&lt;</option>
          </select>
          <input
            type="number"
            value={event.high}
            onChange={(e) => set({ high: e.target.value })}
            className="cohort-num"
            aria-label={t('cohorts.upperBound')}
            data-testid="cohort-value-high"
          />
          <span className="muted small">=</span>
          <input
            type="number"
            value={event.eq}
            onChange={(e) => set({ eq: e.target.value })}
            className="cohort-num"
            aria-label={t('cohorts.equals')}
            data-testid="cohort-value-eq"
          />
          <input
            value={event.unit}
            onChange={(e) => set({ unit: e.target.value })}
            placeholder={t('cohorts.unit')}
            aria-label={t('cohorts.unit')}
            className="cohort-narrow"
            data-testid="cohort-value-unit"
          />
        </div>
      )}
      {event.domain === 'encounter' && (
        <div className="cohort-inline cohort-sub">
          <input
            value={event.classes}
            onChange={(e) => set({ classes: e.target.value })}
            placeholder={t('cohorts.classPlaceholder')}
            aria-label={t('cohorts.class')}
            data-testid="cohort-event-class"
            className="cohort-grow"
          />
          <input
            value={event.departments}
            onChange={(e) => set({ departments: e.target.value })}
            placeholder={t('cohorts.departmentPlaceholder')}
            aria-label={t('cohorts.department')}
            data-testid="cohort-event-department"
            className="cohort-grow"
          />
        </div>
      )}
      <BlockErrorText uid={event.uid} />
    </div>
  );
}

export function EntryPanel({ draft, update }: { draft: CohortDraft; update: Update }) {
  const { t } = useI18n();
  const entry = draft.entry;
  const err = useBlockError('entry');
  const setEntry = (patch: Partial<CohortDraft['entry']>) => update((d) => ({ ...d, entry: { ...d.entry, ...patch } }));
  return (
    <section className={`card cohort-card${err ? ' cohort-invalid' : ''}`} data-testid="cohort-entry">
      <h2>{t('cohorts.entry')}</h2>
      <p className="muted small">{t('cohorts.entryHint')}</p>
      {entry.events.map((e, i) => (
        <div key={e.uid} className="cohort-entry-event">
          {i > 0 && <div className="cohort-or">{t('cohorts.or')}</div>}
          <div className="cohort-inline cohort-top">
            <EventEditor
              event={e}
              sets={draft.conceptSets}
              onChange={(next) =>
                update((d) => ({ ...d, entry: { ...d.entry, events: d.entry.events.map((x) => (x.uid === e.uid ? next : x)) } }))
              }
            />
            {entry.events.length > 1 && (
              <button
                type="button"
                className="icon-btn"
                aria-label={t('cohorts.remove')}
                onClick={() => setEntry({ events: entry.events.filter((x) => x.uid !== e.uid) })}
                data-testid="cohort-entry-remove"
              >
                ×
              </button>
            )}
          </div>
        </div>
      ))}
      <button type="button" className="btn btn-sm btn-ghost" onClick={() => setEntry({ events: [...entry.events, newEvent()] })} data-testid="cohort-entry-add">
        + {t('cohorts.addEntryEvent')}
      </button>
      <div className="cohort-grid">
        <label className="filter">
          <span>{t('cohorts.occurrence')}</span>
          <select value={entry.occurrence} onChange={(e) => setEntry({ occurrence: e.target.value as Occurrence })} data-testid="cohort-entry-occurrence">
            {OCCURRENCES.map((o) => (
              <option key={o} value={o}>
                {t(OCCURRENCE_KEYS[o])}
              </option>
            ))}
          </select>
        </label>
        <label className="filter">
          <span>{t('cohorts.from')}</span>
          <input type="date" value={entry.from} onChange={(e) => setEntry({ from: e.target.value })} data-testid="cohort-entry-from" />
        </label>
        <label className="filter">
          <span>{t('cohorts.to')}</span>
          <input type="date" value={entry.to} onChange={(e) => setEntry({ to: e.target.value })} data-testid="cohort-entry-to" />
        </label>
      </div>
      <BlockErrorText uid="entry" />
    </section>
  );
}

// ---------------------------------------------------------------- rules

function AddRuleButtons({ onAdd }: { onAdd: (kind: RuleKind) => void }) {
  const { t } = useI18n();
  return (
    <div className="cohort-add-rule">
      {(['event', 'age', 'gender', 'group'] as const).map((k) => (
        <button key={k} type="button" className="btn btn-ghost btn-sm" onClick={() => onAdd(k)} data-testid={`cohort-add-${k}`}>
          + {t(KIND_KEYS[k])}
        </button>
      ))}
    </div>
  );
}

function RuleEditor({
  rule,
  sets,
  onChange,
  onRemove,
}: {
  rule: RuleDraft;
  sets: ConceptSetDraft[];
  onChange: (r: RuleDraft) => void;
  onRemove?: () => void;
}) {
  const { t } = useI18n();
  const err = useBlockError(rule.uid);
  let body: ReactNode;
  switch (rule.kind) {
    case 'event':
      body = (
        <>
          <EventEditor event={rule.event} sets={sets} onChange={(event) => onChange({ ...rule, event })} />
          <div className="cohort-inline cohort-sub">
            <span className="muted small">{t('cohorts.window')}</span>
            <input
              type="number"
              value={rule.windowStart}
              onChange={(e) => onChange({ ...rule, windowStart: e.target.value })}
              placeholder={t('cohorts.unbounded')}
              className="cohort-num"
              aria-label={t('cohorts.windowStart')}
              data-testid="cohort-window-start"
            />
            <span className="muted small">…</span>
            <input
              type="number"
              value={rule.windowEnd}
              onChange={(e) => onChange({ ...rule, windowEnd: e.target.value })}
              placeholder={t('cohorts.unbounded')}
              className="cohort-num"
              aria-label={t('cohorts.windowEnd')}
              data-testid="cohort-window-end"
            />
            <span className="muted small">{t('cohorts.days')}</span>
            <select
              value={rule.countOp}
              onChange={(e) => onChange({ ...rule, countOp: e.target.value as CountOp })}
              aria-label={t('cohorts.eventCount')}
              data-testid="cohort-count-op"
            >
              {COUNT_OPS.map((c) => (
                <option key={c} value={c}>
                  {t(COUNT_KEYS[c])}
                </option>
              ))}
            </select>
            <input
              type="number"
              min={0}
              value={rule.countN}
              onChange={(e) => onChange({ ...rule, countN: e.target.value })}
              className="cohort-num"
              aria-label={t('cohorts.eventCount')}
              data-testid="cohort-count-n"
            />
            <span className="muted small">{t('cohorts.times')}</span>
          </div>
        </>
      );
      break;
    case 'age':
      body = (
        <div className="cohort-inline">
          <select value={rule.lowOp} onChange={(e) => onChange({ ...rule, lowOp: e.target.value as LowOp })} aria-label={t('cohorts.lowerBound')} data-testid="cohort-age-low-op">
            <option value="gte">≥</option>
            <option value="gt">&gt;</option>
          </select>
          <input
            type="number"
            min={0}
            value={rule.low}
            onChange={(e) => onChange({ ...rule, low: e.target.value })}
            className="cohort-num"
            aria-label={t('cohorts.ageFrom')}
            data-testid="cohort-age-low"
          />
          <select value={rule.highOp} onChange={(e) => onChange({ ...rule, highOp: e.target.value as HighOp })} aria-label={t('cohorts.upperBound')} data-testid="cohort-age-high-op">
            <option value="lt">&lt;</option>
            <option value="lte">≤</option>
          </select>
          <input
            type="number"
            min={0}
            value={rule.high}
            onChange={(e) => onChange({ ...rule, high: e.target.value })}
            className="cohort-num"
            aria-label={t('cohorts.ageTo')}
            data-testid="cohort-age-high"
          />
          <span className="muted small">{t('cohorts.ageHint')}</span>
        </div>
      );
      break;
    case 'gender':
      body = (
        <div className="cohort-inline">
          {GENDERS.map((g) => (
            <label key={g} className="checkbox">
              <input
                type="checkbox"
                checked={rule.genders.includes(g)}
                onChange={(e) =>
                  onChange({
                    ...rule,
                    genders: e.target.checked ? GENDERS.filter((x) => x === g || rule.genders.includes(x)) : rule.genders.filter((x) => x !== g),
                  })
                }
                data-testid={`cohort-gender-${g}`}
              />
              {t(GENDER_KEYS[g])}
            </label>
          ))}
        </div>
      );
      break;
    case 'group':
      body = (
        <>
          <div className="cohort-inline">
            <select value={rule.mode} onChange={(e) => onChange({ ...rule, mode: e.target.value as GroupMode })} aria-label={t('cohorts.groupMode')} data-testid="cohort-group-mode">
              {GROUP_MODES.map((m) => (
                <option key={m} value={m}>
                  {t(GROUP_KEYS[m])}
                </option>
              ))}
            </select>
            {rule.mode === 'atLeast' && (
              <input
                type="number"
                min={0}
                value={rule.n}
                onChange={(e) => onChange({ ...rule, n: e.target.value })}
                className="cohort-num"
                aria-label={t('cohorts.groupN')}
                data-testid="cohort-group-n"
              />
            )}
            <span className="muted small">{t(rule.mode === 'not' ? 'cohorts.groupNotHint' : 'cohorts.groupHint')}</span>
          </div>
          <div className="cohort-children">
            {rule.children.map((c) => (
              <RuleEditor
                key={c.uid}
                rule={c}
                sets={sets}
                onChange={(next) => onChange(replaceRule(rule, c.uid, next))}
                onRemove={() => onChange({ ...rule, children: rule.children.filter((x) => x.uid !== c.uid) })}
              />
            ))}
            <AddRuleButtons onAdd={(k) => onChange({ ...rule, children: [...rule.children, newRule(k)] })} />
          </div>
        </>
      );
      break;
  }
  return (
    <div className={`cohort-rule cohort-rule-${rule.kind}${err ? ' cohort-invalid' : ''}`} data-testid="cohort-rule" data-kind={rule.kind}>
      <div className="cohort-rule-head">
        <span className="badge badge-muted">{t(KIND_KEYS[rule.kind])}</span>
        {onRemove && (
          <button type="button" className="icon-btn" aria-label={t('cohorts.remove')} onClick={onRemove} data-testid="cohort-rule-remove">
            ×
          </button>
        )}
      </div>
      {body}
      <BlockErrorText uid={rule.uid} />
    </div>
  );
}

function NamedRuleCard({
  nr,
  index,
  count,
  sets,
  onChange,
  onRemove,
  onMove,
}: {
  nr: NamedRuleDraft;
  index: number;
  count: number;
  sets: ConceptSetDraft[];
  onChange: (nr: NamedRuleDraft) => void;
  onRemove: () => void;
  onMove: (delta: number) => void;
}) {
  const { t } = useI18n();
  const err = useBlockError(nr.uid);
  return (
    <div className={`cohort-named${err ? ' cohort-invalid' : ''}`} data-testid="cohort-named-rule" data-index={index}>
      <div className="cohort-inline">
        <span className="cohort-index">{index + 1}</span>
        <input
          value={nr.name}
          onChange={(e) => onChange({ ...nr, name: e.target.value })}
          placeholder={summarize(nr.rule, sets)}
          aria-label={t('cohorts.ruleName')}
          data-testid="cohort-rule-name"
          className="cohort-grow"
        />
        <button type="button" className="btn btn-sm btn-ghost" disabled={index === 0} onClick={() => onMove(-1)} aria-label={t('cohorts.moveUp')} title={t('cohorts.moveUp')}>
          ↑
        </button>
        <button type="button" className="btn btn-sm btn-ghost" disabled={index === count - 1} onClick={() => onMove(1)} aria-label={t('cohorts.moveDown')} title={t('cohorts.moveDown')}>
          ↓
        </button>
        <button type="button" className="btn btn-sm btn-ghost" onClick={onRemove} data-testid="cohort-named-remove">
          {t('cohorts.remove')}
        </button>
      </div>
      <BlockErrorText uid={nr.uid} />
      <RuleEditor rule={nr.rule} sets={sets} onChange={(rule) => onChange({ ...nr, rule })} />
    </div>
  );
}

export function RulesPanel({ section, draft, update }: { section: Section; draft: CohortDraft; update: Update }) {
  const { t } = useI18n();
  const rules = draft[section];
  const setRules = (fn: (list: NamedRuleDraft[]) => NamedRuleDraft[]) => update((d) => ({ ...d, [section]: fn(d[section]) }));
  const move = (i: number, delta: number) =>
    setRules((list) => {
      const j = i + delta;
      if (j < 0 || j >= list.length) return list;
      const next = [...list];
      [next[i], next[j]] = [next[j], next[i]];
      return next;
    });
  return (
    <section className={`card cohort-card cohort-${section}`} data-testid={`cohort-${section}`}>
      <h2>{t(section === 'inclusion' ? 'cohorts.inclusion' : 'cohorts.exclusion')}</h2>
      <p className="muted small">{t(section === 'inclusion' ? 'cohorts.inclusionHint' : 'cohorts.exclusionHint')}</p>
      {rules.map((nr, i) => (
        <NamedRuleCard
          key={nr.uid}
          nr={nr}
          index={i}
          count={rules.length}
          sets={draft.conceptSets}
          onChange={(next) => setRules((list) => list.map((x) => (x.uid === nr.uid ? next : x)))}
          onRemove={() => setRules((list) => list.filter((x) => x.uid !== nr.uid))}
          onMove={(delta) => move(i, delta)}
        />
      ))}
      {rules.length === 0 && <div className="muted small cohort-none">{t('cohorts.noRules')}</div>}
      <AddRuleButtons onAdd={(k) => setRules((list) => [...list, { uid: newUid(), name: '', rule: newRule(k) }])} />
    </section>
  );
}
