import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react';
import type { ReactNode } from 'react';
import { api, ApiError, setCsrf, setUnauthorizedHandler } from './api';
import type { Role, User } from './api';

type AuthState =
  | { status: 'loading' }
  | { status: 'anonymous'; expired: boolean }
  | { status: 'authenticated'; user: User };

interface AuthValue {
  state: AuthState;
  user: User | null;
  login: (username: string, password: string) => Promise<void>;
  logout: () => Promise<void>;
  /** Re-reads the current user (after editing one's own account). */
  refresh: () => Promise<void>;
  hasAnyRole: (roles: readonly Role[] | null) => boolean;
}

const AuthContext = createContext<AuthValue | null>(null);

function stripCsrf(me: User & { csrf_token?: string }): User {
  const { csrf_token: _ignored, ...user } = me;
  void _ignored;
  return user;
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: 'loading' });

  const probe = useCallback(async () => {
    try {
      const me = await api.me();
      if (me.csrf_token) setCsrf(me.csrf_token);
      setState({ status: 'authenticated', user: stripCsrf(me) });
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        setCsrf(null);
        setState({ status: 'anonymous', expired: false });
      } else {
        // Server unreachable or failing: show the login page; its submit
        // reports the actual error.
        setState({ status: 'anonymous', expired: false });
      }
    }
  }, []);

  useEffect(() => {
    void probe();
  }, [probe]);

  useEffect(() => {
    setUnauthorizedHandler(() => {
      setCsrf(null);
      setState((s) => (s.status === 'authenticated' ? { status: 'anonymous', expired: true } : s));
    });
    return () => setUnauthorizedHandler(null);
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    const res = await api.login(username, password);
    setCsrf(res.csrf_token);
    setState({ status: 'authenticated', user: res.user });
  }, []);

  const logout = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setCsrf(null);
      setState({ status: 'anonymous', expired: false });
    }
  }, []);

  const value = useMemo<AuthValue>(() => {
    const user = state.status === 'authenticated' ? state.user : null;
    return {
      state,
      user,
      login,
      logout,
      refresh: probe,
      hasAnyRole: (roles) => {
        if (!user) return false;
        if (roles === null) return true;
        return user.roles.some((r) => roles.includes(r));
      },
    };
  }, [state, login, logout, probe]);

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const v = useContext(AuthContext);
  if (!v) throw new Error('useAuth must be used inside <AuthProvider>');
  return v;
}
