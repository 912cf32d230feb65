import { useEffect } from 'react';
import { useAuth } from './auth';
import { useI18n } from './i18n';
import { Link, matchPath, RouteParamsProvider, useRouter } from './router';
import { HOME_PATH, PAGES } from './pages/registry';
import type { PageDef } from './pages/registry';
import { LoginPage } from './pages/Login';
import { useToast } from './components/Toasts';
import { LanguageSwitch } from './components/LanguageSwitch';

function NavIcon({ d }: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" aria-hidden="true" className="icon">
      <path d={d} />
    </svg>
  );
}

function NotFound() {
  const { t } = useI18n();
  return (
    <div className="page" data-testid="page-not-found">
      <h1>{t('notFound.title')}</h1>
      <p className="muted">{t('notFound.body')}</p>
      <Link to={HOME_PATH} className="btn btn-primary">
        {t('notFound.home')}
      </Link>
    </div>
  );
}

function Shell() {
  const { user, logout, hasAnyRole } = useAuth();
  const { t } = useI18n();
  const { path, navigate } = useRouter();
  const toast = useToast();

  const pages = PAGES.filter((p) => hasAnyRole(p.roles));
  const normalized = path.length > 1 ? path.replace(/\/+$/, '') : path;

  useEffect(() => {
    if (normalized === '/' || normalized === '' || normalized === '/login') navigate(HOME_PATH, { replace: true });
  }, [normalized, navigate]);

  // Literal paths first, so /patients never falls to a pattern such as /:x.
  let current: PageDef | undefined = pages.find((p) => p.path === normalized);
  let params: Record<string, string> = {};
  if (!current) {
    for (const p of pages) {
      const m = p.path.includes('/:') ? matchPath(p.path, normalized) : null;
      if (m) {
        current = p;
        params = m;
        break;
      }
    }
  }
  const Page = current?.component;
  const activeId = current?.parent ?? current?.id;

  const onLogout = async () => {
    try {
      await logout();
    } catch (e) {
      toast.error(e);
    }
    // The next person to sign in starts at the overview, not on a page of
    // the previous user's (after a session expiry the path is kept instead).
    navigate('/');
  };

  if (!user) return null;
  return (
    <div className="shell">
      <aside className="sidebar">
        <div className="brand">
          <img src="/favicon.svg" alt="" className="brand-logo" />
          <div>
            <div className="brand-name">HAIP</div>
            <div className="brand-sub">{t('app.subtitle')}</div>
          </div>
        </div>
        <nav aria-label={t('nav.main')}>
          <ul>
            {pages
              .filter((p) => !p.hidden)
              .map((p) => (
              <li key={p.id}>
                <Link
                  to={p.path}
                  className={`nav-link${p.id === activeId ? ' active' : ''}`}
                  aria-current={p === current ? 'page' : undefined}
                  data-testid={`nav-${p.id}`}
                >
                  <NavIcon d={p.icon} />
                  <span>{t(p.titleKey)}</span>
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </aside>
      <div className="main">
        <header className="topbar">
          <div className="topbar-title">{current ? t(current.titleKey) : ''}</div>
          <div className="topbar-right">
            <LanguageSwitch />
            <div className="user-chip" data-testid="current-user" title={t('topbar.signedInAs', { name: user.username })}>
              <span className="avatar" aria-hidden="true">
                {(user.display_name || user.username).slice(0, 1).toUpperCase()}
              </span>
              <span className="user-chip-text">
                <span className="user-chip-name">{user.display_name || user.username}</span>
                <span className="user-chip-roles">{user.roles.map((r) => t(`role.${r}`)).join(' · ')}</span>
              </span>
            </div>
            <button type="button" className="btn btn-ghost" onClick={onLogout} data-testid="logout">
              {t('topbar.logout')}
            </button>
          </div>
        </header>
        <main className="content">
          {Page ? (
            <RouteParamsProvider params={params}>
              <Page key={`${current!.id}:${normalized}`} />
            </RouteParamsProvider>
          ) : normalized === '/' ? null : (
            <NotFound />
          )}
        </main>
      </div>
    </div>
  );
}

export function App() {
  const { state } = useAuth();
  const { t } = useI18n();
  if (state.status === 'loading') {
    return (
      <div className="splash" data-testid="splash">
        {t('common.loading')}
      </div>
    );
  }
  if (state.status === 'anonymous') return <LoginPage expired={state.expired} />;
  return <Shell />;
}
