import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '../api';
import type { CreatedToken, Token } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { useToast } from '../components/Toasts';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Field } from '../components/Field';

const TTL_DAYS = [30, 90, 180, 365];
const DEFAULT_TTL_DAYS = 90;

type TokenStatus = 'active' | 'revoked' | 'expired';

function tokenStatus(tk: Token, now: number): TokenStatus {
  if (tk.revoked_at) return 'revoked';
  if (tk.expires_at && new Date(tk.expires_at).getTime() <= now) return 'expired';
  return 'active';
}

async function copyText(text: string, fallbackInput: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied: try the selection-based fallback below.
  }
  if (fallbackInput) {
    fallbackInput.focus();
    fallbackInput.select();
    try {
      return document.execCommand('copy');
    } catch {
      return false;
    }
  }
  return false;
}

function CreateTokenDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (tk: CreatedToken) => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const { hasAnyRole, user } = useAuth();
  const isAdmin = hasAnyRole(['admin']);
  const [name, setName] = useState('');
  const [owner, setOwner] = useState('');
  const [ttlDays, setTtlDays] = useState(DEFAULT_TTL_DAYS);
  const [usernames, setUsernames] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const nameError = !name.trim() ? t('tokens.nameRequired') : null;

  useEffect(() => {
    if (!isAdmin) return;
    let cancelled = false;
    api
      .listUsers()
      .then((r) => !cancelled && setUsernames(r.users.map((u) => u.username)))
      .catch(() => {
        // The owner field still accepts free text without suggestions.
      });
    return () => {
      cancelled = true;
    };
  }, [isAdmin]);

  const submit = async () => {
    setTouched(true);
    if (nameError || busy) return;
    setBusy(true);
    try {
      const body: { name: string; username?: string; ttl: string } = { name: name.trim(), ttl: `${ttlDays}d` };
      const o = owner.trim();
      if (isAdmin && o && o !== user?.username) body.username = o;
      onCreated(await api.createToken(body));
    } catch (e) {
      toast.error(e);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={t('tokens.createTitle')}
      onClose={onClose}
      onSubmit={submit}
      testId="token-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="token-form-submit">
            {t('common.create')}
          </button>
        </>
      }
    >
      <Field label={t('tokens.name')} htmlFor="tf-name" error={touched ? nameError : null}>
        <input id="tf-name" value={name} onChange={(e) => setName(e.target.value)} data-testid="token-form-name" />
      </Field>
      {isAdmin && (
        <Field label={t('tokens.owner')} htmlFor="tf-owner" hint={t('tokens.ownerHint')}>
          <input
            id="tf-owner"
            list="tf-owner-list"
            value={owner}
            placeholder={user?.username}
            onChange={(e) => setOwner(e.target.value)}
            data-testid="token-form-username"
          />
          <datalist id="tf-owner-list">
            {usernames.map((u) => (
              <option key={u} value={u} />
            ))}
          </datalist>
        </Field>
      )}
      <Field label={t('tokens.ttl')} htmlFor="tf-ttl">
        <select id="tf-ttl" value={ttlDays} onChange={(e) => setTtlDays(Number(e.target.value))} data-testid="token-form-ttl">
          {TTL_DAYS.map((d) => (
            <option key={d} value={d}>
              {t('tokens.ttlDays', { n: d })}
            </option>
          ))}
        </select>
      </Field>
    </Dialog>
  );
}

function CreatedTokenDialog({ token, onClose }: { token: CreatedToken; onClose: () => void }) {
  const { t, formatTime } = useI18n();
  const toast = useToast();
  const input = useRef<HTMLInputElement>(null);
  const copy = async () => {
    if (await copyText(token.token, input.current)) toast.success(t('common.copied'));
    else toast.info(t('common.copyFailed'));
  };
  return (
    <Dialog
      title={t('tokens.createdTitle')}
      onClose={onClose}
      testId="token-created-dialog"
      wide
      footer={
        <button type="button" className="btn btn-primary" onClick={onClose} data-testid="token-created-close">
          {t('common.close')}
        </button>
      }
    >
      <div className="notice notice-warn">{t('tokens.createdWarning')}</div>
      <div className="copy-row">
        <input
          ref={input}
          readOnly
          value={token.token}
          className="mono"
          onFocus={(e) => e.currentTarget.select()}
          data-testid="new-token-value"
          aria-label={t('tokens.name')}
        />
        <button type="button" className="btn" onClick={() => void copy()} data-testid="token-copy">
          {t('common.copy')}
        </button>
      </div>
      <p className="muted">{t('tokens.usage')}</p>
      <dl className="kv">
        <dt>{t('tokens.name')}</dt>
        <dd>{token.name}</dd>
        <dt>{t('tokens.owner')}</dt>
        <dd>{token.username}</dd>
        <dt>{t('tokens.expiresAt')}</dt>
        <dd>{token.expires_at ? formatTime(token.expires_at) : t('common.never')}</dd>
      </dl>
    </Dialog>
  );
}

export function TokensPage() {
  const { t, formatTime } = useI18n();
  const toast = useToast();
  const [tokens, setTokens] = useState<Token[] | null>(null);
  const [showInactive, setShowInactive] = useState(false);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      const res = await api.listTokens();
      setTokens(res.tokens);
    } catch (e) {
      toast.error(e);
      setTokens((x) => x ?? []);
    }
  }, [toast]);

  useEffect(() => {
    void load();
  }, [load]);

  const revoke = async (tk: Token) => {
    setBusy(true);
    try {
      await api.revokeToken(tk.id);
      toast.success(t('tokens.revoked', { name: tk.name }));
      setRevoking(null);
      await load();
    } catch (e) {
      toast.error(e);
    } finally {
      setBusy(false);
    }
  };

  const now = Date.now();
  const visible = (tokens ?? []).filter((tk) => showInactive || tokenStatus(tk, now) === 'active');
  const statusBadge = (s: TokenStatus) =>
    s === 'active' ? (
      <span className="badge badge-ok">{t('tokens.statusActive')}</span>
    ) : s === 'revoked' ? (
      <span className="badge badge-bad">{t('tokens.statusRevoked')}</span>
    ) : (
      <span className="badge badge-muted">{t('tokens.statusExpired')}</span>
    );

  return (
    <div className="page" data-testid="page-tokens">
      <div className="page-header">
        <h1>{t('tokens.title')}</h1>
        <div className="page-actions">
          <label className="checkbox">
            <input type="checkbox" checked={showInactive} onChange={(e) => setShowInactive(e.target.checked)} data-testid="tokens-show-inactive" />
            <span>{t('tokens.showRevoked')}</span>
          </label>
          <button type="button" className="btn" onClick={() => void load()}>
            {t('common.refresh')}
          </button>
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)} data-testid="tokens-create">
            {t('tokens.create')}
          </button>
        </div>
      </div>

      <div className="table-wrap card">
        <table className="table" data-testid="tokens-table">
          <thead>
            <tr>
              <th>{t('tokens.name')}</th>
              <th>{t('tokens.owner')}</th>
              <th>{t('tokens.kind')}</th>
              <th>{t('tokens.status')}</th>
              <th>{t('tokens.createdAt')}</th>
              <th>{t('tokens.expiresAt')}</th>
              <th>{t('tokens.lastUsed')}</th>
              <th className="col-actions">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {tokens === null && (
              <tr>
                <td colSpan={8} className="muted center">
                  {t('common.loading')}
                </td>
              </tr>
            )}
            {tokens !== null && visible.length === 0 && (
              <tr>
                <td colSpan={8} className="muted center">
                  {t('common.empty')}
                </td>
              </tr>
            )}
            {visible.map((tk) => {
              const s = tokenStatus(tk, now);
              return (
                <tr key={tk.id} data-testid={`token-row-${tk.id}`} data-token-name={tk.name} className={s !== 'active' ? 'row-disabled' : undefined}>
                  <td>{tk.name}</td>
                  <td>
                    <code>{tk.username}</code>
                  </td>
                  <td>{tk.kind === 'session' ? t('tokens.kindSession') : t('tokens.kindApi')}</td>
                  <td>{statusBadge(s)}</td>
                  <td className="nowrap">{formatTime(tk.created_at)}</td>
                  <td className="nowrap">{tk.expires_at ? formatTime(tk.expires_at) : t('common.never')}</td>
                  <td className="nowrap">{tk.last_used_at ? formatTime(tk.last_used_at) : <span className="muted">{t('common.never')}</span>}</td>
                  <td className="col-actions">
                    {s === 'active' && (
                      <button
                        type="button"
                        className="btn btn-sm btn-danger-outline"
                        onClick={() => setRevoking(tk)}
                        data-testid={`token-revoke-${tk.id}`}
                      >
                        {t('tokens.revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      {creating && (
        <CreateTokenDialog
          onClose={() => setCreating(false)}
          onCreated={(tk) => {
            setCreating(false);
            setCreated(tk);
            void load();
          }}
        />
      )}
      {created && <CreatedTokenDialog token={created} onClose={() => setCreated(null)} />}
      {revoking && (
        <ConfirmDialog
          title={t('tokens.revokeTitle')}
          message={t('tokens.revokeConfirm', { name: revoking.name, username: revoking.username })}
          confirmLabel={t('tokens.revoke')}
          danger
          busy={busy}
          onCancel={() => setRevoking(null)}
          onConfirm={() => void revoke(revoking)}
        />
      )}
    </div>
  );
}
