// Saved cohorts: the list (latest versions), each cohort's versions, loading
// one into the builder.
import { Fragment, useCallback, useEffect, useState } from 'react';
import { useI18n } from '../../i18n';
import { useToast } from '../../components/Toasts';
import { cohortApi } from './api';
import type { SavedCohortSummary, SavedCohortWithVersions } from './api';

export function formatMillis(formatTime: (iso: string) => string, ms: number): string {
  return formatTime(new Date(ms).toISOString());
}

export function SavedPanel({
  currentId,
  reloadKey,
  onLoad,
  onCompare,
}: {
  currentId: string | null;
  /** Changes after a save, so the list reloads. */
  reloadKey: number;
  onLoad: (id: string, version: number) => void;
  onCompare: (id: string, a: number, b: number) => void;
}) {
  const { t, formatTime } = useI18n();
  const toast = useToast();
  const [cohorts, setCohorts] = useState<SavedCohortSummary[] | null>(null);
  const [open, setOpen] = useState<SavedCohortWithVersions | null>(null);
  const [loading, setLoading] = useState(false);

  const load = useCallback(async () => {
    setLoading(true);
    try {
      setCohorts((await cohortApi.list()).cohorts);
    } catch (e) {
      toast.error(e);
      setCohorts((c) => c ?? []);
    } finally {
      setLoading(false);
    }
  }, [toast]);

  useEffect(() => {
    void load();
  }, [load, reloadKey]);

  const toggle = async (id: string) => {
    if (open?.id === id) {
      setOpen(null);
      return;
    }
    try {
      setOpen(await cohortApi.get(id));
    } catch (e) {
      toast.error(e);
    }
  };

  return (
    <section className="card" data-testid="cohort-saved">
      <div className="cohort-inline cohort-spread">
        <h2>{t('cohorts.savedTitle')}</h2>
        <button type="button" className="btn btn-sm" onClick={() => void load()} disabled={loading} data-testid="cohort-saved-refresh">
          {t('common.refresh')}
        </button>
      </div>
      {cohorts && cohorts.length === 0 && <div className="muted">{t('cohorts.noSaved')}</div>}
      {cohorts && cohorts.length > 0 && (
        <div className="table-wrap">
          <table className="table table-hover" data-testid="cohort-saved-table">
            <thead>
              <tr>
                <th>{t('cohorts.title')}</th>
                <th>{t('cohorts.id')}</th>
                <th className="num">{t('cohorts.latestVersion')}</th>
                <th>{t('cohorts.savedBy')}</th>
                <th>{t('cohorts.savedAt')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {cohorts.map((c) => (
                <Fragment key={c.id}>
                  <tr data-testid="cohort-saved-row" data-id={c.id} data-version={c.version} className={c.id === currentId ? 'cohort-current' : undefined}>
                    <td>
                      <strong>{c.title}</strong>
                    </td>
                    <td>
                      <code>{c.id}</code>
                    </td>
                    <td className="num">v{c.version}</td>
                    <td>{c.createdBy}</td>
                    <td className="nowrap">{formatMillis(formatTime, c.createdAt)}</td>
                    <td className="col-actions">
                      <button type="button" className="btn btn-sm" onClick={() => void toggle(c.id)} data-testid="cohort-saved-versions">
                        {open?.id === c.id ? t('cohorts.hideVersions') : t('cohorts.versions')}
                      </button>
                      <button type="button" className="btn btn-sm btn-primary" onClick={() => onLoad(c.id, c.version)} data-testid="cohort-saved-load">
                        {t('cohorts.load')}
                      </button>
                    </td>
                  </tr>
                  {open?.id === c.id && (
                    <tr className="cohort-versions-row">
                      <td colSpan={6}>
                        <table className="table cohort-versions" data-testid="cohort-versions">
                          <tbody>
                            {open.versions.map((v, i) => (
                              <tr key={v.version} data-testid="cohort-version-row" data-version={v.version}>
                                <td className="nowrap">v{v.version}</td>
                                <td>{v.title}</td>
                                <td>{v.createdBy}</td>
                                <td className="nowrap">{formatMillis(formatTime, v.createdAt)}</td>
                                <td className="col-actions">
                                  {i + 1 < open.versions.length && (
                                    <button
                                      type="button"
                                      className="btn btn-sm"
                                      onClick={() => onCompare(c.id, open.versions[i + 1].version, v.version)}
                                      data-testid="cohort-version-compare"
                                    >
                                      {t('cohorts.compareWithPrevious')}
                                    </button>
                                  )}
                                  <button type="button" className="btn btn-sm" onClick={() => onLoad(c.id, v.version)} data-testid="cohort-version-load">
                                    {t('cohorts.load')}
                                  </button>
                                </td>
                              </tr>
                            ))}
                          </tbody>
                        </table>
                      </td>
                    </tr>
                  )}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
