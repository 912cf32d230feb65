import type { ComponentType } from 'react';
import type { Role } from '../api';
import type { MessageKey } from '../i18n';
import { OverviewPage } from './Overview';
import { UsersPage } from './Users';
import { TokensPage } from './Tokens';
import { AuditPage } from './Audit';
import { PatientsPage } from './Patients';
import { PatientTimelinePage } from './PatientTimeline';
import { LakePage } from './Lake';
import { CohortsPage } from './Cohorts';

/**
 * One console page. The sidebar, the router and the permission check all read
 * this registry: a module adds a page by appending an entry (and its strings
 * to web/src/i18n/). A page is listed and reachable only for users holding at
 * least one of `roles`; `roles: null` means every signed-in user.
 */
export interface PageDef {
  /** Stable id; the nav link gets data-testid="nav-<id>". */
  id: string;
  /**
   * URL path, e.g. "/users". Must be unique and not start with /api or /fhir.
   * A segment ":name" is a parameter (`/patients/:id`); the page reads it with
   * useRouteParams().
   */
  path: string;
  /** Sidebar label and page heading. */
  titleKey: MessageKey;
  roles: readonly Role[] | null;
  /** SVG path data (24×24 viewBox, stroked) for the sidebar icon. */
  icon: string;
  component: ComponentType;
  /** Not listed in the sidebar (pages reached by a link, e.g. a patient's timeline). */
  hidden?: boolean;
  /** Id of the page whose sidebar link is highlighted while this one is shown. */
  parent?: string;
}

export const PAGES: PageDef[] = [
  {
    id: 'overview',
    path: '/overview',
    titleKey: 'nav.overview',
    roles: null,
    icon: 'M3 12l9-8 9 8M5 10v10h5v-6h4v6h5V10',
    component: OverviewPage,
  },
  {
    id: 'users',
    path: '/users',
    titleKey: 'nav.users',
    roles: ['admin'],
    icon: 'M16 20v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M9 10a4 4 0 1 0 0-8 4 4 0 0 0 0 8M22 20v-2a4 4 0 0 0-3-3.9M16 2.1a4 4 0 0 1 0 7.8',
    component: UsersPage,
  },
  {
    id: 'tokens',
    path: '/tokens',
    titleKey: 'nav.tokens',
    roles: null,
    icon: 'M15 7a4 4 0 1 1-3.9 5H3v3h3v3h3v-3h2.1A4 4 0 0 1 15 7M16 11h.01',
    component: TokensPage,
  },
  {
    id: 'audit',
    path: '/audit',
    titleKey: 'nav.audit',
    roles: ['admin', 'auditor'],
    icon: 'M14 2H6a2 2 0 0 0-2 2v16a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V8zM14 2v6h6M8 13h8M8 17h8M8 9h2',
    component: AuditPage,
  },
  {
    id: 'patients',
    path: '/patients',
    titleKey: 'nav.patients',
    roles: ['admin', 'clinician', 'service'],
    icon: 'M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8M4 21v-1a6 6 0 0 1 6-6h4a6 6 0 0 1 6 6v1M17 6h4M19 4v4',
    component: PatientsPage,
  },
  {
    id: 'patient',
    path: '/patients/:id',
    titleKey: 'nav.patient',
    roles: ['admin', 'clinician', 'service'],
    icon: 'M3 12h4l3-8 4 16 3-8h4',
    component: PatientTimelinePage,
    hidden: true,
    parent: 'patients',
  },
  {
    id: 'lake',
    path: '/lake',
    titleKey: 'nav.lake',
    roles: null,
    icon: 'M12 3c5 0 8 1.3 8 3s-3 3-8 3-8-1.3-8-3 3-3 8-3M4 6v6c0 1.7 3 3 8 3s8-1.3 8-3V6M4 12v6c0 1.7 3 3 8 3s8-1.3 8-3v-6',
    component: LakePage,
  },
  {
    id: 'cohorts',
    path: '/cohorts',
    titleKey: 'nav.cohorts',
    roles: ['admin', 'clinician', 'researcher'],
    icon: 'M3 4h18l-7 8.5V19l-4 2v-8.5z',
    component: CohortsPage,
  },
];

/** The page shown at "/" and after sign-in. */
export const HOME_PATH = '/overview';
