// Reading FHIR R4 resources for display: names, identifiers, masking, ages,
// clinical dates and notes. Everything here tolerates missing fields, since
// the lake also holds data loaded from other systems.
import type { FhirBundle, FhirResource } from './api';

type Obj = Record<string, unknown>;

function obj(v: unknown): Obj | undefined {
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' && v ? v : undefined;
}
function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Path lookup: get(r, 'code', 'coding', 0, 'display'). */
export function get(v: unknown, ...path: (string | number)[]): unknown {
  let cur: unknown = v;
  for (const k of path) {
    if (typeof k === 'number') cur = arr(cur)[k];
    else cur = obj(cur)?.[k];
    if (cur === undefined || cur === null) return undefined;
  }
  return cur;
}
export function getStr(v: unknown, ...path: (string | number)[]): string | undefined {
  return str(get(v, ...path));
}

export function bundleResources(b: FhirBundle): FhirResource[] {
  return (b.entry ?? []).map((e) => e.resource).filter((r): r is FhirResource => !!r && typeof r.resourceType === 'string');
}

export function bundleLink(b: FhirBundle, relation: string): string | null {
  return b.link?.find((l) => l.relation === relation)?.url ?? null;
}

/** The offset a Bundle link points at (0 when it has none). */
export function linkOffset(url: string | null): number {
  if (!url) return 0;
  const v = new URL(url, 'http://x').searchParams.get('_offset');
  const n = v ? Number(v) : 0;
  return Number.isFinite(n) ? n : 0;
}

// ---------- Patient ----------

export function patientName(p: FhirResource): string {
  const names = arr(p.name);
  const official = names.find((n) => getStr(n, 'use') === 'official') ?? names[0];
  const text = getStr(official, 'text');
  if (text) return text;
  const family = getStr(official, 'family') ?? '';
  const given = arr(get(official, 'given')).filter((g): g is string => typeof g === 'string');
  // Chinese names are family name first with no space; others given first.
  if (/[\u4e00-\u9fff]/.test(family + given.join(''))) return family + given.join('');
  return [...given, family].filter(Boolean).join(' ');
}

export type Gender = 'male' | 'female' | 'other' | 'unknown';

export function patientGender(p: FhirResource): Gender {
  const g = p.gender;
  return g === 'male' || g === 'female' || g === 'other' ? g : 'unknown';
}

/** Whole years between a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD) and `now`. */
export function ageYears(birthDate: string | undefined, now = new Date()): number | null {
  if (!birthDate) return null;
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(birthDate);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) : 1;
  const d = m[3] ? Number(m[3]) : 1;
  let age = now.getFullYear() - y;
  if (now.getMonth() + 1 < mo || (now.getMonth() + 1 === mo && now.getDate() < d)) age -= 1;
  return age >= 0 && age < 150 ? age : null;
}

/** Shows only the last 4 characters: 310106197701274652 -> **************4652. */
export function maskId(value: string): string {
  if (value.length <= 4) return value;
  return '*'.repeat(value.length - 4) + value.slice(-4);
}

/** Keeps the first 3 and last 4 digits of a phone number: 184****6894. */
export function maskPhone(value: string): string {
  const compact = value.replace(/\s+/g, '');
  if (compact.length <= 7) return maskId(compact);
  return compact.slice(0, 3) + '*'.repeat(compact.length - 7) + compact.slice(-4);
}

export interface IdentifierView {
  /** Human label: type.text, type.coding display, or the system's last segment. */
  label: string;
  system: string;
  value: string;
}

/** Identifier systems of the demo hospital that the console names in the UI language. */
export function identifierKind(system: string): 'residentId' | 'mrn' | null {
  if (/\/sid\/cn-resident-id$/.test(system)) return 'residentId';
  if (/\/sid\/mrn$/.test(system)) return 'mrn';
  return null;
}

export function patientIdentifiers(p: FhirResource): IdentifierView[] {
  return arr(p.identifier)
    .map((i) => {
      const value = getStr(i, 'value');
      if (!value) return null;
      const system = getStr(i, 'system') ?? '';
      const label =
        getStr(i, 'type', 'text') ??
        getStr(i, 'type', 'coding', 0, 'display') ??
        (system ? system.replace(/\/+$/, '').split('/').pop() ?? system : '');
      return { label, system, value };
    })
    .filter((x): x is IdentifierView => x !== null);
}

export function patientPhones(p: FhirResource): string[] {
  return arr(p.telecom)
    .filter((t) => (getStr(t, 'system') ?? 'phone') === 'phone')
    .map((t) => getStr(t, 'value'))
    .filter((v): v is string => !!v);
}

/** Region of the home address (province, city, district), without street details. */
export function patientRegion(p: FhirResource): string | null {
  const a = arr(p.address)[0];
  if (!a) return null;
  const parts = [getStr(a, 'state'), getStr(a, 'city'), getStr(a, 'district')].filter((x): x is string => !!x);
  const unique = parts.filter((x, i) => parts.indexOf(x) === i);
  return unique.length ? unique.join('') : null;
}

// ---------- clinical resources ----------

/** The moment a resource happened, as an ISO string (for sorting and grouping). */
export function resourceDate(r: FhirResource): string | undefined {
  switch (r.resourceType) {
    case 'Encounter':
      return getStr(r, 'period', 'start') ?? getStr(r, 'period', 'end');
    case 'Condition':
      return getStr(r, 'recordedDate') ?? getStr(r, 'onsetDateTime') ?? getStr(r, 'onsetPeriod', 'start');
    case 'Observation':
      return getStr(r, 'effectiveDateTime') ?? getStr(r, 'effectivePeriod', 'start') ?? getStr(r, 'effectiveInstant') ?? getStr(r, 'issued');
    case 'MedicationRequest':
      return getStr(r, 'authoredOn');
    case 'Procedure':
      return getStr(r, 'performedDateTime') ?? getStr(r, 'performedPeriod', 'start');
    case 'DocumentReference':
      return getStr(r, 'date') ?? getStr(r, 'content', 0, 'attachment', 'creation') ?? getStr(r, 'context', 'period', 'start');
    default:
      return (
        getStr(r, 'effectiveDateTime') ??
        getStr(r, 'date') ??
        getStr(r, 'issued') ??
        getStr(r, 'recordedDate') ??
        getStr(r, 'period', 'start') ??
        getStr(r, 'meta', 'lastUpdated')
      );
  }
}

export function timeOf(iso: string | undefined): number {
  if (!iso) return Number.NEGATIVE_INFINITY;
  const t = new Date(iso).getTime();
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/** The Encounter id a resource belongs to, if any. */
export function encounterOf(r: FhirResource): string | undefined {
  const ref = getStr(r, 'encounter', 'reference') ?? getStr(r, 'context', 'encounter', 0, 'reference') ?? getStr(r, 'context', 'reference');
  const m = ref ? /(?:^|\/)Encounter\/([^/]+)/.exec(ref) : null;
  return m ? m[1] : undefined;
}

export interface Coded {
  code?: string;
  system?: string;
  display?: string;
}

/** A CodeableConcept: the first coding, with display text preferring `text` (Chinese here). */
export function coded(cc: unknown): Coded {
  const coding = arr(get(cc, 'coding'))[0];
  return {
    code: getStr(coding, 'code'),
    system: getStr(coding, 'system'),
    display: getStr(cc, 'text') ?? getStr(coding, 'display'),
  };
}

/** Short name of a well-known code system, shown next to a code. */
export function systemName(system: string | undefined): string | null {
  if (!system) return null;
  if (system.includes('icd-10')) return 'ICD-10';
  if (system.includes('icd-9')) return 'ICD-9-CM';
  if (system.includes('loinc')) return 'LOINC';
  if (system.includes('snomed')) return 'SNOMED CT';
  if (system.includes('atc')) return 'ATC';
  return null;
}

export type Flag = 'high' | 'low' | 'abnormal' | 'normal' | null;

export function interpretationFlag(r: unknown): Flag {
  const code = getStr(r, 'interpretation', 0, 'coding', 0, 'code');
  if (!code) return null;
  if (code === 'N') return 'normal';
  if (code.startsWith('H') || code === '>' || code === 'U') return 'high';
  if (code.startsWith('L') || code === '<' || code === 'D') return 'low';
  return 'abnormal';
}

export interface ValueView {
  label?: string;
  text: string;
  flag: Flag;
  range?: string;
}

function formatNumber(v: number): string {
  // At most 3 decimals, no trailing zeros, no exponent for lab values.
  return String(Math.round(v * 1000) / 1000);
}

function quantityText(q: unknown): string | undefined {
  const value = num(get(q, 'value'));
  if (value === undefined) return undefined;
  const comparator = getStr(q, 'comparator') ?? '';
  const unit = getStr(q, 'unit') ?? getStr(q, 'code') ?? '';
  return `${comparator}${formatNumber(value)}${unit ? ` ${unit}` : ''}`;
}

function rangeText(r: unknown): string | undefined {
  const range = arr(get(r, 'referenceRange'))[0];
  if (!range) return undefined;
  const text = getStr(range, 'text');
  if (text) return text;
  const low = num(get(range, 'low', 'value'));
  const high = num(get(range, 'high', 'value'));
  if (low !== undefined && high !== undefined) return `${formatNumber(low)}–${formatNumber(high)}`;
  if (low !== undefined) return `≥${formatNumber(low)}`;
  if (high !== undefined) return `≤${formatNumber(high)}`;
  return undefined;
}

function valueText(r: unknown): string | undefined {
  return (
    quantityText(get(r, 'valueQuantity')) ??
    getStr(r, 'valueString') ??
    getStr(r, 'valueCodeableConcept', 'text') ??
    getStr(r, 'valueCodeableConcept', 'coding', 0, 'display') ??
    (typeof get(r, 'valueBoolean') === 'boolean' ? String(get(r, 'valueBoolean')) : undefined) ??
    (num(get(r, 'valueInteger')) !== undefined ? String(get(r, 'valueInteger')) : undefined)
  );
}

/** The values of an Observation: its own value, or one per component (blood pressure). */
export function observationValues(r: FhirResource): ValueView[] {
  const own = valueText(r);
  if (own !== undefined) return [{ text: own, flag: interpretationFlag(r), range: rangeText(r) }];
  return arr(r.component)
    .map((c) => {
      const text = valueText(c);
      if (text === undefined) return null;
      return { label: coded(get(c, 'code')).display, text, flag: interpretationFlag(c), range: rangeText(c) };
    })
    .filter((x): x is NonNullable<typeof x> => x !== null);
}

export function observationCategory(r: FhirResource): string | undefined {
  for (const c of arr(r.category)) {
    const code = getStr(c, 'coding', 0, 'code');
    if (code) return code;
  }
  return undefined;
}

/** Decodes base64 UTF-8 text (a note's attachment.data). */
export function decodeBase64Text(data: string): string {
  const bin = atob(data.replace(/\s+/g, ''));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new TextDecoder('utf-8').decode(bytes);
}

/** The local calendar day (YYYY-MM-DD) of an ISO timestamp; a bare date stays as it is. */
export function dayOf(iso: string | undefined): string {
  if (!iso) return '';
  if (/^\d{4}(-\d{2}){0,2}$/.test(iso)) return iso;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso.slice(0, 10);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
