import { useCallback, useEffect, useState } from 'react';
import { api } from '../api';
import type { SystemInfo } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { useToast } from '../components/Toasts';

type Health = 'unknown' | 'ok' | 'bad';

export function OverviewPage() {
  const { t, formatTime } = useI18n();
  const { user } = useAuth();
  const toast = useToast();
  const [info, setInfo] = useState<SystemInfo | null>(null);
  const [health, setHealth] = useState<Health>('unknown');
  const [loading, setLoading] = useState(true);

  const load = useCallback(async () => {
    setLoading(true);
    const [h, i] = await Promise.allSettled([api.health(), api.systemInfo()]);
    setHealth(h.status === 'fulfilled' && h.value.status === 'ok' ? 'ok' : 'bad');
    if (i.status === 'fulfilled') setInfo(i.value);
    else toast.error(i.reason);
    setLoading(false);
  }, [toast]);

  useEffect(() => {
    void load();
  }, [load]);

  const uptime = (s: number) => {
    const total = Math.max(0, Math.floor(s));
    const d = Math.floor(total / 86400);
    const h = Math.floor((total % 86400) / 3600);
    const m = Math.floor((total % 3600) / 60);
    const sec = total % 60;
    if (d > 0) return t('duration.dhm', { d, h, m });
    if (h > 0) return t('duration.hm', { h, m });
    return t('duration.ms', { m, s: sec });
  };

  return (
    <div className="page" data-testid="page-overview">
      <div className="page-header">
        <h1>{t('overview.title')}</h1>
        <button type="button" className="btn" onClick={() => void load()} disabled={loading} data-testid="overview-refresh">
          {t('common.refresh')}
        </button>
      </div>

      <div className="cards">
        <div className="card stat">
          <div className="stat-label">{t('overview.health')}</div>
          <div className="stat-value" data-testid="overview-health">
            {health === 'unknown' ? (
              <span className="muted">{t('common.loading')}</span>
            ) : (
              <span className={`badge ${health === 'ok' ? 'badge-ok' : 'badge-bad'}`}>
                {health === 'ok' ? t('overview.healthOk') : t('overview.healthBad')}
              </span>
            )}
          </div>
        </div>
        <div className="card stat">
          <div className="stat-label">{t('overview.uptime')}</div>
          <div className="stat-value">{info ? uptime(info.uptime_s) : t('common.none')}</div>
        </div>
        <div className="card stat">
          <div className="stat-label">{t('overview.userCount')}</div>
          <div className="stat-value" data-testid="overview-user-count">
            {info ? info.user_count : t('common.none')}
          </div>
        </div>
        <div className="card stat">
          <div className="stat-label">{t('overview.auditRecords')}</div>
          <div className="stat-value" data-testid="overview-audit-records">
            {info ? info.audit_records : t('common.none')}
          </div>
        </div>
      </div>

      <div className="grid-2">
        <section className="card">
          <h2>{t('overview.system')}</h2>
          {info ? (
            <dl className="kv" data-testid="overview-system">
              <dt>{t('overview.version')}</dt>
              <dd data-testid="overview-version">{info.version}</dd>
              <dt>{t('overview.commit')}</dt>
              <dd>
                <code>{info.commit || t('common.none')}</code>
              </dd>
              <dt>{t('overview.backend')}</dt>
              <dd>{info.backend}</dd>
              <dt>{t('overview.startedAt')}</dt>
              <dd>{formatTime(info.started_at)}</dd>
              <dt>{t('overview.dataDir')}</dt>
              <dd>
                <code>{info.data_dir}</code>
              </dd>
            </dl>
          ) : (
            <p className="muted">{loading ? t('common.loading') : t('common.none')}</p>
          )}
        </section>
        {user && (
          <section className="card">
            <h2>{t('overview.you')}</h2>
            <dl className="kv">
              <dt>{t('users.username')}</dt>
              <dd>{user.username}</dd>
              <dt>{t('users.displayName')}</dt>
              <dd>{user.display_name || t('common.none')}</dd>
              <dt>{t('overview.roles')}</dt>
              <dd>
                {user.roles.map((r) => (
                  <span key={r} className="chip">
                    {t(`role.${r}`)}
                  </span>
                ))}
              </dd>
              <dt>{t('overview.department')}</dt>
              <dd>{user.department || t('common.none')}</dd>
              <dt>{t('overview.lastLogin')}</dt>
              <dd>{user.last_login_at ? formatTime(user.last_login_at) : t('common.never')}</dd>
            </dl>
          </section>
        )}
      </div>
    </div>
  );
}
