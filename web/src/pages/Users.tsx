import { useCallback, useEffect, useMemo, useState } from 'react';
import { ALL_ROLES, api } from '../api';
import type { Role, User } from '../api';
import { useAuth } from '../auth';
import { useI18n } from '../i18n';
import { useToast } from '../components/Toasts';
import { ConfirmDialog, Dialog } from '../components/Dialog';
import { Field } from '../components/Field';

const MIN_PASSWORD = 12;

function RoleCheckboxes({ value, onChange }: { value: Role[]; onChange: (roles: Role[]) => void }) {
  const { t } = useI18n();
  return (
    <div className="checkbox-grid">
      {ALL_ROLES.map((r) => (
        <label key={r} className="checkbox">
          <input
            type="checkbox"
            checked={value.includes(r)}
            onChange={(e) => onChange(e.target.checked ? [...value, r] : value.filter((x) => x !== r))}
            data-testid={`user-form-role-${r}`}
          />
          <span>{t(`role.${r}`)}</span>
          <code className="muted">{r}</code>
        </label>
      ))}
    </div>
  );
}

interface UserFormProps {
  mode: 'create' | 'edit';
  user?: User;
  departments: string[];
  onClose: () => void;
  onSaved: (u: User) => void;
}

function UserFormDialog({ mode, user, departments, onClose, onSaved }: UserFormProps) {
  const { t } = useI18n();
  const toast = useToast();
  const [username, setUsername] = useState(user?.username ?? '');
  const [displayName, setDisplayName] = useState(user?.display_name ?? '');
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Role[]>(user?.roles ?? []);
  const [department, setDepartment] = useState(user?.department ?? '');
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);

  const errors = {
    username: mode === 'create' && !username.trim() ? t('users.usernameRequired') : null,
    password: mode === 'create' && password.length < MIN_PASSWORD ? t('users.passwordTooShort') : null,
    roles: roles.length === 0 ? t('users.rolesRequired') : null,
  };
  const valid = !errors.username && !errors.password && !errors.roles;

  const submit = async () => {
    setTouched(true);
    if (!valid || busy) return;
    setBusy(true);
    try {
      const dept = department.trim() ? department.trim() : null;
      const saved =
        mode === 'create'
          ? await api.createUser({
              username: username.trim(),
              password,
              display_name: displayName.trim() || username.trim(),
              roles,
              department: dept,
            })
          : await api.updateUser(user!.username, {
              display_name: displayName.trim(),
              roles,
              department: dept,
            });
      onSaved(saved);
    } catch (e) {
      toast.error(e);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={mode === 'create' ? t('users.createTitle') : t('users.editTitle', { username: user!.username })}
      onClose={onClose}
      onSubmit={submit}
      testId="user-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="user-form-submit">
            {mode === 'create' ? t('common.create') : t('common.save')}
          </button>
        </>
      }
    >
      {mode === 'create' && (
        <Field label={t('users.username')} htmlFor="uf-username" error={touched ? errors.username : null}>
          <input
            id="uf-username"
            value={username}
            autoComplete="off"
            onChange={(e) => setUsername(e.target.value)}
            data-testid="user-form-username"
          />
        </Field>
      )}
      <Field label={t('users.displayName')} htmlFor="uf-display">
        <input
          id="uf-display"
          value={displayName}
          onChange={(e) => setDisplayName(e.target.value)}
          data-testid="user-form-display-name"
        />
      </Field>
      {mode === 'create' && (
        <Field
          label={t('users.password')}
          htmlFor="uf-password"
          hint={t('users.passwordHint')}
          error={touched ? errors.password : null}
        >
          <input
            id="uf-password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="user-form-password"
          />
        </Field>
      )}
      <Field label={t('users.roles')} error={touched ? errors.roles : null}>
        <RoleCheckboxes value={roles} onChange={setRoles} />
      </Field>
      <Field label={t('users.department')} htmlFor="uf-dept">
        <input
          id="uf-dept"
          list="uf-dept-list"
          value={department}
          onChange={(e) => setDepartment(e.target.value)}
          data-testid="user-form-department"
        />
        <datalist id="uf-dept-list">
          {departments.map((d) => (
            <option key={d} value={d} />
          ))}
        </datalist>
      </Field>
    </Dialog>
  );
}

function ResetPasswordDialog({ user, onClose, onDone }: { user: User; onClose: () => void; onDone: () => void }) {
  const { t } = useI18n();
  const toast = useToast();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [touched, setTouched] = useState(false);
  const error =
    password.length < MIN_PASSWORD ? t('users.passwordTooShort') : password !== confirm ? t('users.passwordMismatch') : null;

  const submit = async () => {
    setTouched(true);
    if (error || busy) return;
    setBusy(true);
    try {
      await api.updateUser(user.username, { password });
      onDone();
    } catch (e) {
      toast.error(e);
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={t('users.resetTitle', { username: user.username })}
      onClose={onClose}
      onSubmit={submit}
      testId="reset-dialog"
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="reset-submit">
            {t('users.resetPassword')}
          </button>
        </>
      }
    >
      <Field label={t('users.newPassword')} htmlFor="rp-password" hint={t('users.passwordHint')}>
        <input
          id="rp-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
          data-testid="reset-password"
        />
      </Field>
      <Field label={t('users.confirmPassword')} htmlFor="rp-confirm" error={touched ? error : null}>
        <input
          id="rp-confirm"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(e) => setConfirm(e.target.value)}
          data-testid="reset-confirm"
        />
      </Field>
    </Dialog>
  );
}

type DialogState =
  | { kind: 'none' }
  | { kind: 'create' }
  | { kind: 'edit'; user: User }
  | { kind: 'reset'; user: User }
  | { kind: 'disable'; user: User };

export function UsersPage() {
  const { t, formatTime } = useI18n();
  const toast = useToast();
  const { user: me, refresh } = useAuth();
  const [users, setUsers] = useState<User[] | null>(null);
  const [dialog, setDialog] = useState<DialogState>({ kind: 'none' });
  const [busy, setBusy] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const res = await api.listUsers();
      setUsers(res.users);
    } catch (e) {
      toast.error(e);
      setUsers((u) => u ?? []);
    }
  }, [toast]);

  useEffect(() => {
    void load();
  }, [load]);

  const departments = useMemo(
    () =>
      Array.from(new Set((users ?? []).map((u) => u.department).filter((d): d is string => !!d))).sort((a, b) =>
        a.localeCompare(b),
      ),
    [users],
  );

  const replaceUser = (u: User) => {
    setUsers((list) => {
      if (!list) return [u];
      const idx = list.findIndex((x) => x.username === u.username);
      if (idx < 0) return [...list, u];
      const copy = list.slice();
      copy[idx] = u;
      return copy;
    });
    if (me && u.username === me.username) void refresh();
  };

  const setDisabled = async (u: User, disabled: boolean) => {
    setBusy(u.username);
    try {
      const saved = await api.updateUser(u.username, { disabled });
      replaceUser(saved);
      toast.success(t(disabled ? 'users.disabled' : 'users.enabled', { username: u.username }));
      setDialog({ kind: 'none' });
    } catch (e) {
      toast.error(e);
    } finally {
      setBusy(null);
    }
  };

  const status = (u: User) => {
    if (u.disabled) return <span className="badge badge-muted">{t('users.statusDisabled')}</span>;
    if (u.locked_until && new Date(u.locked_until).getTime() > Date.now())
      return <span className="badge badge-warn">{t('users.statusLocked', { time: formatTime(u.locked_until) })}</span>;
    return <span className="badge badge-ok">{t('users.statusActive')}</span>;
  };

  return (
    <div className="page" data-testid="page-users">
      <div className="page-header">
        <div>
          <h1>{t('users.title')}</h1>
          {users && <div className="muted">{t('users.count', { n: users.length })}</div>}
        </div>
        <div className="page-actions">
          <button type="button" className="btn" onClick={() => void load()}>
            {t('common.refresh')}
          </button>
          <button type="button" className="btn btn-primary" onClick={() => setDialog({ kind: 'create' })} data-testid="users-create">
            {t('users.create')}
          </button>
        </div>
      </div>

      <div className="table-wrap card">
        <table className="table" data-testid="users-table">
          <thead>
            <tr>
              <th>{t('users.username')}</th>
              <th>{t('users.displayName')}</th>
              <th>{t('users.roles')}</th>
              <th>{t('users.department')}</th>
              <th>{t('users.status')}</th>
              <th>{t('users.lastLogin')}</th>
              <th>{t('users.createdAt')}</th>
              <th className="col-actions">{t('common.actions')}</th>
            </tr>
          </thead>
          <tbody>
            {users === null && (
              <tr>
                <td colSpan={8} className="muted center">
                  {t('common.loading')}
                </td>
              </tr>
            )}
            {users?.length === 0 && (
              <tr>
                <td colSpan={8} className="muted center">
                  {t('common.empty')}
                </td>
              </tr>
            )}
            {users?.map((u) => (
              <tr key={u.username} data-testid={`user-row-${u.username}`} className={u.disabled ? 'row-disabled' : undefined}>
                <td>
                  <code>{u.username}</code>
                </td>
                <td>{u.display_name}</td>
                <td>
                  {u.roles.map((r) => (
                    <span key={r} className="chip" title={r}>
                      {t(`role.${r}`)}
                    </span>
                  ))}
                </td>
                <td>{u.department || <span className="muted">{t('common.none')}</span>}</td>
                <td data-testid="user-status">{status(u)}</td>
                <td>{u.last_login_at ? formatTime(u.last_login_at) : <span className="muted">{t('common.never')}</span>}</td>
                <td>{formatTime(u.created_at)}</td>
                <td className="col-actions">
                  <button type="button" className="btn btn-sm" onClick={() => setDialog({ kind: 'edit', user: u })} data-testid={`user-edit-${u.username}`}>
                    {t('users.edit')}
                  </button>
                  <button type="button" className="btn btn-sm" onClick={() => setDialog({ kind: 'reset', user: u })} data-testid={`user-reset-${u.username}`}>
                    {t('users.resetPassword')}
                  </button>
                  {u.disabled ? (
                    <button
                      type="button"
                      className="btn btn-sm"
                      disabled={busy === u.username}
                      onClick={() => void setDisabled(u, false)}
                      data-testid={`user-toggle-${u.username}`}
                    >
                      {t('users.enable')}
                    </button>
                  ) : (
                    <button
                      type="button"
                      className="btn btn-sm btn-danger-outline"
                      disabled={busy === u.username || me?.username === u.username}
                      onClick={() => setDialog({ kind: 'disable', user: u })}
                      data-testid={`user-toggle-${u.username}`}
                    >
                      {t('users.disable')}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {dialog.kind === 'create' && (
        <UserFormDialog
          mode="create"
          departments={departments}
          onClose={() => setDialog({ kind: 'none' })}
          onSaved={(u) => {
            replaceUser(u);
            setDialog({ kind: 'none' });
            toast.success(t('users.created', { username: u.username }));
          }}
        />
      )}
      {dialog.kind === 'edit' && (
        <UserFormDialog
          mode="edit"
          user={dialog.user}
          departments={departments}
          onClose={() => setDialog({ kind: 'none' })}
          onSaved={(u) => {
            replaceUser(u);
            setDialog({ kind: 'none' });
            toast.success(t('users.updated', { username: u.username }));
          }}
        />
      )}
      {dialog.kind === 'reset' && (
        <ResetPasswordDialog
          user={dialog.user}
          onClose={() => setDialog({ kind: 'none' })}
          onDone={() => {
            toast.success(t('users.passwordReset', { username: dialog.user.username }));
            setDialog({ kind: 'none' });
          }}
        />
      )}
      {dialog.kind === 'disable' && (
        <ConfirmDialog
          title={t('users.disableConfirmTitle')}
          message={t('users.disableConfirm', { username: dialog.user.username })}
          confirmLabel={t('users.disable')}
          danger
          busy={busy === dialog.user.username}
          onCancel={() => setDialog({ kind: 'none' })}
          onConfirm={() => void setDisabled(dialog.user, true)}
        />
      )}
    </div>
  );
}
