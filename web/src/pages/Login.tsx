import { useState } from 'react';
import type { FormEvent } from 'react';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { useToast } from '../components/Toasts';
import { LanguageSwitch } from '../components/LanguageSwitch';

export function LoginPage({ expired }: { expired: boolean }) {
  const { login } = useAuth();
  const { t } = useI18n();
  const toast = useToast();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!username || !password || busy) return;
    setBusy(true);
    try {
      await login(username.trim(), password);
      toast.clear();
    } catch (err) {
      toast.error(err, t('login.failed'));
      setPassword('');
      setBusy(false);
    }
  };

  return (
    <div className="login-screen">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <form className="login-card" onSubmit={submit} data-testid="login-form">
        <div className="login-brand">
          <img src="/favicon.svg" alt="" className="brand-logo" />
          <div>
            <div className="login-product">{t('app.name')}</div>
            <div className="muted">{t('app.subtitle')}</div>
          </div>
        </div>
        <h1>{t('login.title')}</h1>
        <p className="muted">{t('login.subtitle')}</p>
        {expired && (
          <div className="notice notice-info" role="status" data-testid="session-expired">
            {t('session.expired')}
          </div>
        )}
        <div className="field">
          <label htmlFor="login-username">{t('login.username')}</label>
          <input
            id="login-username"
            autoComplete="username"
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            data-testid="login-username"
            required
          />
        </div>
        <div className="field">
          <label htmlFor="login-password">{t('login.password')}</label>
          <input
            id="login-password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="login-password"
            required
          />
        </div>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy || !username || !password} data-testid="login-submit">
          {busy ? t('login.submitting') : t('login.submit')}
        </button>
        <p className="login-notice">{t('login.notice')}</p>
      </form>
    </div>
  );
}
