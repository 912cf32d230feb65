import { createContext, useCallback, useContext, useMemo, useRef, useState } from 'react';
import type { ReactNode } from 'react';
import { ApiError } from '../api';
import { useI18n } from '../i18n';

interface Toast {
  id: number;
  kind: 'error' | 'success' | 'info';
  title?: string;
  message: string;
  requestId?: string | null;
  code?: string;
}

interface ToastApi {
  error: (err: unknown, title?: string) => void;
  success: (message: string) => void;
  info: (message: string) => void;
  /** Removes all toasts (e.g. stale sign-in errors after a successful sign-in). */
  clear: () => void;
}

const ToastContext = createContext<ToastApi | null>(null);

const SUCCESS_MS = 4000;
const ERROR_MS = 12000;

export function ToastProvider({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  // Keep the toast API stable across language switches so pages that depend
  // on it do not reload their data.
  const tRef = useRef(t);
  tRef.current = t;

  const dismiss = useCallback((id: number) => {
    setToasts((ts) => ts.filter((x) => x.id !== id));
  }, []);

  const push = useCallback(
    (toast: Omit<Toast, 'id'>) => {
      const id = nextId.current++;
      setToasts((ts) => [...ts.slice(-4), { ...toast, id }]);
      window.setTimeout(() => dismiss(id), toast.kind === 'error' ? ERROR_MS : SUCCESS_MS);
    },
    [dismiss],
  );

  const value = useMemo<ToastApi>(
    () => ({
      error: (err, title) => {
        if (err instanceof ApiError) {
          if (err.sessionEnded) return;
          let message = err.message;
          if (!message) {
            message =
              err.status === 0 ? tRef.current('error.network') : tRef.current('error.unexpected', { status: err.status });
          }
          push({ kind: 'error', title, message, requestId: err.requestId, code: err.code });
        } else {
          push({ kind: 'error', title, message: err instanceof Error ? err.message : String(err) });
        }
      },
      success: (message) => push({ kind: 'success', message }),
      info: (message) => push({ kind: 'info', message }),
      clear: () => setToasts([]),
    }),
    [push],
  );

  return (
    <ToastContext.Provider value={value}>
      {children}
      <div className="toasts" aria-live="assertive">
        {toasts.map((x) => (
          <div key={x.id} className={`toast toast-${x.kind}`} role={x.kind === 'error' ? 'alert' : 'status'} data-testid={`toast-${x.kind}`}>
            <div className="toast-body">
              {x.title && <div className="toast-title">{x.title}</div>}
              <div className="toast-message" data-testid="toast-message">{x.message}</div>
              {(x.code || x.requestId) && (
                <div className="toast-meta">
                  {x.code && <code>{x.code}</code>}
                  {x.requestId && (
                    <span data-testid="toast-request-id">
                      {t('common.requestId')}: <code>{x.requestId}</code>
                    </span>
                  )}
                </div>
              )}
            </div>
            <button type="button" className="toast-close" aria-label={t('common.dismiss')} onClick={() => dismiss(x.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}

export function useToast(): ToastApi {
  const v = useContext(ToastContext);
  if (!v) throw new Error('useToast must be used inside <ToastProvider>');
  return v;
}
