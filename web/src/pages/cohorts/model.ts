// The cohort builder's editable form of criteria (docs/cohort.md), and its
// conversion to and from the criteria JSON the server checks and runs.
//
// Numbers are kept as the text the user typed, so a half-typed value does not
// disappear; the JSON carries them as numbers when they parse, else as the
// text, and the server's 400 names the element path, which pathOwners() maps
// back to the block that holds it.

export const DOMAINS = ['condition', 'observation', 'medication', 'procedure', 'encounter'] as const;
export type Domain = (typeof DOMAINS)[number];

export const GENDERS = ['male', 'female', 'other', 'unknown'] as const;
export type Gender = (typeof GENDERS)[number];

export const OCCURRENCES = ['first', 'all', 'last'] as const;
export type Occurrence = (typeof OCCURRENCES)[number];

export const COUNT_OPS = ['atLeast', 'atMost', 'exactly'] as const;
export type CountOp = (typeof COUNT_OPS)[number];

export const GROUP_MODES = ['all', 'any', 'not', 'atLeast'] as const;
export type GroupMode = (typeof GROUP_MODES)[number];

export type LowOp = 'gt' | 'gte';
export type HighOp = 'lt' | 'lte';

/** Code systems offered when a code is typed by hand (any URI is accepted). */
export const KNOWN_SYSTEMS: { uri: string; label: string }[] = [
  { uri: 'http://hl7.org/fhir/sid/icd-10', label: 'ICD-10' },
  { uri: 'http://hl7.org/fhir/sid/icd-9-cm', label: 'ICD-9-CM' },
  { uri: 'http://loinc.org', label: 'LOINC' },
  { uri: 'http://www.whocc.no/atc', label: 'ATC' },
  { uri: 'http://snomed.info/sct', label: 'SNOMED CT' },
  { uri: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', label: 'ActCode' },
];

/** A short name for a code system URI (the URI itself when unknown). */
export function systemLabel(uri: string): string {
  return KNOWN_SYSTEMS.find((s) => s.uri === uri)?.label ?? uri;
}

export interface ConceptItem {
  system: string;
  code: string;
  display: string;
  descendants: boolean;
}

export interface ConceptSetDraft {
  uid: string;
  /** The key rules refer to (`conceptSet`); fixed once created. */
  key: string;
  name: string;
  items: ConceptItem[];
  /** Domain of the codes added from the search, if they share one (not saved). */
  domain?: Domain;
}

export interface EventDraft {
  uid: string;
  domain: Domain;
  /** Concept set key; '' = any code of the domain. */
  conceptSet: string;
  lowOp: LowOp;
  low: string;
  highOp: HighOp;
  high: string;
  eq: string;
  unit: string;
  /** Encounter classes, comma-separated (IMP, AMB, EMER). */
  classes: string;
  /** Departments (Organization id or name), comma-separated. */
  departments: string;
}

export type RuleDraft =
  | {
      uid: string;
      kind: 'event';
      event: EventDraft;
      windowStart: string;
      windowEnd: string;
      countOp: CountOp;
      countN: string;
    }
  | { uid: string; kind: 'age'; lowOp: LowOp; low: string; highOp: HighOp; high: string }
  | { uid: string; kind: 'gender'; genders: Gender[] }
  | { uid: string; kind: 'group'; mode: GroupMode; n: string; children: RuleDraft[] };

export type RuleKind = RuleDraft['kind'];

export interface NamedRuleDraft {
  uid: string;
  name: string;
  rule: RuleDraft;
}

export interface EntryDraft {
  events: EventDraft[];
  occurrence: Occurrence;
  from: string;
  to: string;
}

export interface CohortDraft {
  title: string;
  description: string;
  conceptSets: ConceptSetDraft[];
  entry: EntryDraft;
  inclusion: NamedRuleDraft[];
  exclusion: NamedRuleDraft[];
}

export type Section = 'inclusion' | 'exclusion';

// ---------------------------------------------------------------- creation

let uidCounter = 0;
export const newUid = (): string => `u${++uidCounter}`;

export function newEvent(domain: Domain = 'condition', conceptSet = ''): EventDraft {
  return {
    uid: newUid(),
    domain,
    conceptSet,
    lowOp: 'gte',
    low: '',
    highOp: 'lte',
    high: '',
    eq: '',
    unit: '',
    classes: '',
    departments: '',
  };
}

export function newRule(kind: RuleKind): RuleDraft {
  switch (kind) {
    case 'event':
      return { uid: newUid(), kind, event: newEvent(), windowStart: '', windowEnd: '', countOp: 'atLeast', countN: '1' };
    case 'age':
      return { uid: newUid(), kind, lowOp: 'gte', low: '', highOp: 'lt', high: '' };
    case 'gender':
      return { uid: newUid(), kind, genders: [] };
    case 'group':
      return { uid: newUid(), kind, mode: 'all', n: '1', children: [] };
  }
}

export function emptyDraft(): CohortDraft {
  return {
    title: '',
    description: '',
    conceptSets: [],
    entry: { events: [newEvent()], occurrence: 'first', from: '', to: '' },
    inclusion: [],
    exclusion: [],
  };
}

/**
 * A concept set key from its name: lower-case ASCII letters, digits and "_";
 * `set<n>` when the name has none (e.g. a Chinese name); unique among `taken`.
 */
export function conceptSetKey(name: string, taken: readonly string[]): string {
  let base = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  if (!base) {
    let n = taken.length + 1;
    while (taken.includes(`set${n}`)) n++;
    return `set${n}`;
  }
  if (!taken.includes(base)) return base;
  let n = 2;
  while (taken.includes(`${base}_${n}`)) n++;
  base = `${base}_${n}`;
  return base;
}

// ---------------------------------------------------------------- to JSON

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** A typed number: the number when it parses, else the text (the server names the bad element). */
function numberOrText(s: string): Json | undefined {
  const v = s.trim();
  if (!v) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : v;
}

function list(s: string): string[] {
  return s
    .split(/[,，;；]/)
    .map((x) => x.trim())
    .filter(Boolean);
}

/** Collects, while writing JSON, which block owns which criteria path. */
class PathMap {
  readonly owners: [string, string][] = [];
  add(path: string, uid: string) {
    this.owners.push([path, uid]);
  }
}

function eventJson(e: EventDraft, path: string, paths: PathMap): JsonObject {
  paths.add(path, e.uid);
  const out: JsonObject = { domain: e.domain };
  if (e.conceptSet) out.conceptSet = e.conceptSet;
  if (e.domain === 'observation') {
    const value: JsonObject = {};
    const low = numberOrText(e.low);
    const high = numberOrText(e.high);
    const eq = numberOrText(e.eq);
    if (low !== undefined) value[e.lowOp] = low;
    if (high !== undefined) value[e.highOp] = high;
    if (eq !== undefined) value.eq = eq;
    if (e.unit.trim()) value.unit = e.unit.trim();
    if (Object.keys(value).length) out.value = value;
  }
  if (e.domain === 'encounter') {
    const classes = list(e.classes);
    const departments = list(e.departments);
    if (classes.length) out.class = classes;
    if (departments.length) out.department = departments;
  }
  return out;
}

function ruleJson(r: RuleDraft, path: string, paths: PathMap): JsonObject {
  paths.add(path, r.uid);
  switch (r.kind) {
    case 'event': {
      const out: JsonObject = { event: eventJson(r.event, `${path}.event`, paths) };
      const start = numberOrText(r.windowStart);
      const end = numberOrText(r.windowEnd);
      if (start !== undefined || end !== undefined) {
        const w: JsonObject = {};
        if (start !== undefined) w.start = start;
        if (end !== undefined) w.end = end;
        out.window = w;
      }
      const n = numberOrText(r.countN);
      // "at least 1" is the default; leave it out so hand-written and built criteria read alike.
      if (n !== undefined && !(r.countOp === 'atLeast' && n === 1)) out.count = { [r.countOp]: n };
      return out;
    }
    case 'age': {
      const age: JsonObject = {};
      const low = numberOrText(r.low);
      const high = numberOrText(r.high);
      if (low !== undefined) age[r.lowOp] = low;
      if (high !== undefined) age[r.highOp] = high;
      return { age };
    }
    case 'gender':
      return { gender: [...r.genders] };
    case 'group': {
      if (r.mode === 'not') {
        if (r.children.length === 1) return { not: ruleJson(r.children[0], `${path}.not`, paths) };
        return { not: { all: r.children.map((c, i) => ruleJson(c, `${path}.not.all[${i}]`, paths)) } };
      }
      if (r.mode === 'atLeast') {
        return {
          atLeast: numberOrText(r.n) ?? '',
          of: r.children.map((c, i) => ruleJson(c, `${path}.of[${i}]`, paths)),
        };
      }
      return { [r.mode]: r.children.map((c, i) => ruleJson(c, `${path}.${r.mode}[${i}]`, paths)) };
    }
  }
}

export interface Built {
  criteria: JsonObject;
  /** [criteria path, block uid], in writing order. */
  owners: [string, string][];
}

/** The criteria JSON for a draft; an unnamed rule is named by its summary. */
export function toCriteria(d: CohortDraft): Built {
  const paths = new PathMap();
  const out: JsonObject = {};
  paths.add('title', 'title');
  if (d.title.trim()) out.title = d.title.trim();
  if (d.description.trim()) out.description = d.description.trim();
  if (d.conceptSets.length) {
    const sets: JsonObject = {};
    for (const s of d.conceptSets) {
      paths.add(`conceptSets.${s.key}`, s.uid);
      const set: JsonObject = {};
      if (s.name.trim()) set.name = s.name.trim();
      set.items = s.items.map((it) => {
        const item: JsonObject = { system: it.system, code: it.code };
        if (it.display) item.display = it.display;
        if (it.descendants) item.descendants = true;
        return item;
      });
      sets[s.key] = set;
    }
    out.conceptSets = sets;
  }
  paths.add('entry', 'entry');
  const entry: JsonObject = { events: d.entry.events.map((e, i) => eventJson(e, `entry.events[${i}]`, paths)) };
  if (d.entry.occurrence !== 'first') entry.occurrence = d.entry.occurrence;
  if (d.entry.from) entry.from = d.entry.from;
  if (d.entry.to) entry.to = d.entry.to;
  out.entry = entry;
  for (const section of ['inclusion', 'exclusion'] as const) {
    if (!d[section].length) continue;
    out[section] = d[section].map((nr, i) => {
      const path = `${section}[${i}]`;
      paths.add(path, nr.uid);
      return { name: nr.name.trim() || summarize(nr.rule, d.conceptSets), rule: ruleJson(nr.rule, `${path}.rule`, paths) };
    });
  }
  return { criteria: out, owners: paths.owners };
}

/**
 * The block that owns a criteria path from a server error: the longest
 * registered path that is the error path or a prefix of it ending at "." or
 * "[".
 */
export function ownerOf(owners: [string, string][], errorPath: string): string | null {
  let best: [string, string] | null = null;
  for (const o of owners) {
    const [p] = o;
    const hit =
      errorPath === p || errorPath.startsWith(`${p}.`) || errorPath.startsWith(`${p}[`);
    if (hit && (!best || p.length > best[0].length)) best = o;
  }
  return best ? best[1] : null;
}

/** Splits a server message "criteria: PATH: text" into path and text. */
export function parseCriteriaError(message: string): { path: string | null; text: string } {
  const m = /^criteria: (.+?): (.*)$/s.exec(message);
  if (!m) return { path: null, text: message };
  return { path: m[1], text: m[2] };
}

// ---------------------------------------------------------------- summaries

const OP_SIGNS: Record<string, string> = { gt: '>', gte: '≥', lt: '<', lte: '≤', eq: '=' };

function setLabel(key: string, sets: ConceptSetDraft[]): string {
  const s = sets.find((x) => x.key === key);
  return s?.name.trim() || key;
}

function eventSummary(e: EventDraft, sets: ConceptSetDraft[]): string {
  const parts = [e.conceptSet ? `${e.domain} ${setLabel(e.conceptSet, sets)}` : `${e.domain} (any)`];
  if (e.domain === 'observation') {
    const unit = e.unit.trim() ? ` ${e.unit.trim()}` : '';
    if (e.low.trim()) parts.push(`${OP_SIGNS[e.lowOp]} ${e.low.trim()}${unit}`);
    if (e.high.trim()) parts.push(`${OP_SIGNS[e.highOp]} ${e.high.trim()}${unit}`);
    if (e.eq.trim()) parts.push(`= ${e.eq.trim()}${unit}`);
    if (!e.low.trim() && !e.high.trim() && !e.eq.trim() && unit) parts.push(`in${unit}`);
  }
  if (e.domain === 'encounter') {
    if (list(e.classes).length) parts.push(list(e.classes).join('/'));
    if (list(e.departments).length) parts.push(list(e.departments).join('/'));
  }
  return parts.join(' ');
}

/** A one-line, language-neutral description of a rule (used as its default name). */
export function summarize(r: RuleDraft, sets: ConceptSetDraft[]): string {
  let s: string;
  switch (r.kind) {
    case 'event': {
      s = eventSummary(r.event, sets);
      const a = r.windowStart.trim();
      const b = r.windowEnd.trim();
      if (a || b) s += ` in [${a || '-∞'}, ${b || '+∞'}] d`;
      const n = r.countN.trim() || '1';
      if (!(r.countOp === 'atLeast' && n === '1')) s += ` ${r.countOp === 'atLeast' ? '≥' : r.countOp === 'atMost' ? '≤' : '='} ${n}×`;
      break;
    }
    case 'age': {
      const bounds = [];
      if (r.low.trim()) bounds.push(`${OP_SIGNS[r.lowOp]} ${r.low.trim()}`);
      if (r.high.trim()) bounds.push(`${OP_SIGNS[r.highOp]} ${r.high.trim()}`);
      s = `age ${bounds.join(', ') || '?'}`;
      break;
    }
    case 'gender':
      s = `gender ${r.genders.join('/') || '?'}`;
      break;
    case 'group': {
      const inner = r.children.map((c) => summarize(c, sets)).join('; ');
      const head = r.mode === 'atLeast' ? `at least ${r.n.trim() || '?'} of` : r.mode;
      s = `${head} (${inner})`;
      break;
    }
  }
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

// ---------------------------------------------------------------- from JSON

/** Thrown when JSON cannot be shown in the builder; names the element. */
export class DraftError extends Error {}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) throw new DraftError(`${path}: must be an object`);
  return v;
}

function arr(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw new DraftError(`${path}: must be an array`);
  return v;
}

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

function strings(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

function eventFrom(v: unknown, path: string): EventDraft {
  const j = obj(v, path);
  const domain = j.domain as Domain;
  if (!DOMAINS.includes(domain)) throw new DraftError(`${path}.domain: must be one of ${DOMAINS.join(', ')}`);
  const e = newEvent(domain, text(j.conceptSet));
  if (j.value !== undefined) {
    const val = obj(j.value, `${path}.value`);
    if (val.gte !== undefined) e.low = text(val.gte);
    else if (val.gt !== undefined) {
      e.lowOp = 'gt';
      e.low = text(val.gt);
    }
    if (val.lte !== undefined) e.high = text(val.lte);
    else if (val.lt !== undefined) {
      e.highOp = 'lt';
      e.high = text(val.lt);
    }
    e.eq = text(val.eq);
    e.unit = text(val.unit);
  }
  e.classes = strings(j.class).join(', ');
  e.departments = strings(j.department).join(', ');
  return e;
}

function ruleFrom(v: unknown, path: string): RuleDraft {
  const j = obj(v, path);
  if (j.event !== undefined) {
    const r = newRule('event') as Extract<RuleDraft, { kind: 'event' }>;
    r.event = eventFrom(j.event, `${path}.event`);
    if (j.window !== undefined) {
      const w = obj(j.window, `${path}.window`);
      r.windowStart = text(w.start);
      r.windowEnd = text(w.end);
    }
    if (j.count !== undefined) {
      const c = obj(j.count, `${path}.count`);
      const op = COUNT_OPS.find((k) => c[k] !== undefined);
      if (!op) throw new DraftError(`${path}.count: needs atLeast, atMost or exactly`);
      r.countOp = op;
      r.countN = text(c[op]);
    }
    return r;
  }
  if (j.age !== undefined) {
    const a = obj(j.age, `${path}.age`);
    const r = newRule('age') as Extract<RuleDraft, { kind: 'age' }>;
    if (a.gte !== undefined) r.low = text(a.gte);
    else if (a.gt !== undefined) {
      r.lowOp = 'gt';
      r.low = text(a.gt);
    }
    if (a.lt !== undefined) r.high = text(a.lt);
    else if (a.lte !== undefined) {
      r.highOp = 'lte';
      r.high = text(a.lte);
    }
    return r;
  }
  if (j.gender !== undefined) {
    const genders = strings(j.gender);
    for (const g of genders) {
      if (!GENDERS.includes(g as Gender)) throw new DraftError(`${path}.gender: "${g}" is not ${GENDERS.join(', ')}`);
    }
    return { uid: newUid(), kind: 'gender', genders: genders as Gender[] };
  }
  if (j.not !== undefined) {
    const inner = obj(j.not, `${path}.not`);
    // not {all: [...]} is how the builder writes "none of several"; read it back the same way.
    const children =
      Array.isArray(inner.all) && Object.keys(inner).length === 1
        ? inner.all.map((c, i) => ruleFrom(c, `${path}.not.all[${i}]`))
        : [ruleFrom(inner, `${path}.not`)];
    return { uid: newUid(), kind: 'group', mode: 'not', n: '1', children };
  }
  if (j.atLeast !== undefined) {
    const of = arr(j.of, `${path}.of`);
    return {
      uid: newUid(),
      kind: 'group',
      mode: 'atLeast',
      n: text(j.atLeast),
      children: of.map((c, i) => ruleFrom(c, `${path}.of[${i}]`)),
    };
  }
  for (const mode of ['all', 'any'] as const) {
    if (j[mode] !== undefined) {
      const items = arr(j[mode], `${path}.${mode}`);
      return { uid: newUid(), kind: 'group', mode, n: '1', children: items.map((c, i) => ruleFrom(c, `${path}.${mode}[${i}]`)) };
    }
  }
  throw new DraftError(`${path}: needs one of event, age, gender, all, any, not, atLeast`);
}

/** Reads criteria JSON (as saved, or pasted) into the builder's form. */
export function fromCriteria(v: unknown): CohortDraft {
  const j = obj(v, '$');
  const d = emptyDraft();
  d.title = text(j.title);
  d.description = text(j.description);
  if (j.conceptSets !== undefined) {
    const sets = obj(j.conceptSets, 'conceptSets');
    for (const [key, sv] of Object.entries(sets)) {
      const s = obj(sv, `conceptSets.${key}`);
      const items = arr(s.items ?? [], `conceptSets.${key}.items`).map((iv, i) => {
        const it = obj(iv, `conceptSets.${key}.items[${i}]`);
        return { system: text(it.system), code: text(it.code), display: text(it.display), descendants: it.descendants === true };
      });
      d.conceptSets.push({ uid: newUid(), key, name: text(s.name), items });
    }
  }
  const entry = obj(j.entry, 'entry');
  d.entry.events = arr(entry.events, 'entry.events').map((e, i) => eventFrom(e, `entry.events[${i}]`));
  const occurrence = text(entry.occurrence) || 'first';
  if (!OCCURRENCES.includes(occurrence as Occurrence)) throw new DraftError('entry.occurrence: must be first, all or last');
  d.entry.occurrence = occurrence as Occurrence;
  d.entry.from = text(entry.from);
  d.entry.to = text(entry.to);
  for (const section of ['inclusion', 'exclusion'] as const) {
    if (j[section] === undefined) continue;
    d[section] = arr(j[section], section).map((nv, i) => {
      const nr = obj(nv, `${section}[${i}]`);
      return { uid: newUid(), name: text(nr.name), rule: ruleFrom(nr.rule, `${section}[${i}].rule`) };
    });
  }
  return d;
}

// ---------------------------------------------------------------- tree edits

/** Replaces the rule with `uid` anywhere in the tree (returns a new tree). */
export function replaceRule(r: RuleDraft, uid: string, next: RuleDraft): RuleDraft {
  if (r.uid === uid) return next;
  if (r.kind !== 'group') return r;
  let changed = false;
  const children = r.children.map((c) => {
    const n = replaceRule(c, uid, next);
    if (n !== c) changed = true;
    return n;
  });
  return changed ? { ...r, children } : r;
}

/** Every concept set key the draft's events refer to. */
export function usedSetKeys(d: CohortDraft): Set<string> {
  const used = new Set<string>();
  const visit = (r: RuleDraft) => {
    if (r.kind === 'event' && r.event.conceptSet) used.add(r.event.conceptSet);
    if (r.kind === 'group') r.children.forEach(visit);
  };
  d.entry.events.forEach((e) => e.conceptSet && used.add(e.conceptSet));
  d.inclusion.forEach((nr) => visit(nr.rule));
  d.exclusion.forEach((nr) => visit(nr.rule));
  return used;
}
