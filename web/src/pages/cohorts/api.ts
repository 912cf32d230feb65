// The research cohort routes of the REST API (docs/cohort.md).
import { request } from '../../api';
import type { Domain, JsonObject } from './model';

export interface CodeHit {
  domain: Domain;
  system: string;
  code: string;
  display: string;
  /** Patients with the code. */
  patients: number;
}

export interface AttritionRow {
  name: string;
  exclusion: boolean;
  /** Patients left after rules 1..k (row 0: the entry cohort). */
  patients: number;
  /** Patients of the entry cohort passing this rule on its own. */
  passedAlone: number;
}

export interface CohortRun {
  count: number;
  patientsTotal: number;
  elapsedMs: number;
  attrition: AttritionRow[];
  /** Present when the caller may see identified patients. */
  patients?: string[];
  /** Patients in the cohort outside the clinician's department. */
  patientsHidden?: number;
  /** Why the list was withheld (researchers). */
  patientsWithheld?: string;
}

export interface CohortSql {
  attrition: string;
  patients: string;
}

export type SqlDialect = 'postgresql' | 'sqlite';

export interface SavedCohortSummary {
  id: string;
  version: number;
  title: string;
  createdBy: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface SavedCohort extends SavedCohortSummary {
  criteria: JsonObject;
}

export interface SavedCohortWithVersions extends SavedCohort {
  /** Newest first. */
  versions: SavedCohortSummary[];
}

export const cohortApi = {
  codes: (q: string) => request<{ codes: CodeHit[] }>('/api/cohorts/codes', { query: { q } }),
  run: (criteria: JsonObject, patients: boolean) =>
    request<CohortRun>('/api/cohorts/run', { method: 'POST', body: criteria, query: { patients: patients ? 'true' : undefined } }),
  sql: (criteria: JsonObject, dialect: SqlDialect) =>
    request<CohortSql>('/api/cohorts/sql', {
      method: 'POST',
      body: criteria,
      query: { dialect: dialect === 'sqlite' ? 'sqlite' : undefined },
    }),
  list: () => request<{ cohorts: SavedCohortSummary[] }>('/api/cohorts'),
  get: (id: string, version?: number) =>
    request<SavedCohortWithVersions>(`/api/cohorts/${encodeURIComponent(id)}`, { query: { version } }),
  create: (criteria: JsonObject) => request<SavedCohort>('/api/cohorts', { method: 'POST', body: criteria }),
  saveVersion: (id: string, criteria: JsonObject) =>
    request<SavedCohort>(`/api/cohorts/${encodeURIComponent(id)}`, { method: 'PUT', body: criteria }),
  runSaved: (id: string, version: number, patients: boolean) =>
    request<CohortRun>(`/api/cohorts/${encodeURIComponent(id)}/run`, {
      method: 'POST',
      query: { version, patients: patients ? 'true' : undefined },
    }),
};
