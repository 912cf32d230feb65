// Small pieces the cohort builder's panels share.
import { createContext, useContext } from 'react';
import type { ReactNode } from 'react';

/** The server's criteria error, attached to the block (uid) that owns its path. */
export interface BlockError {
  uid: string | null;
  path: string | null;
  text: string;
}

const BlockErrorContext = createContext<BlockError | null>(null);

export function BlockErrorProvider({ value, children }: { value: BlockError | null; children: ReactNode }) {
  return <BlockErrorContext.Provider value={value}>{children}</BlockErrorContext.Provider>;
}

/** The error text when the server's error belongs to block `uid`. */
export function useBlockError(uid: string): BlockError | null {
  const e = useContext(BlockErrorContext);
  return e && e.uid === uid ? e : null;
}

/** The server's message, shown inside the block it concerns. */
export function BlockErrorText({ uid }: { uid: string }) {
  const e = useBlockError(uid);
  if (!e) return null;
  return (
    <div className="field-error cohort-block-error" data-testid="cohort-block-error" data-path={e.path ?? ''} role="alert">
      {e.path && <code>{e.path}</code>} {e.text}
    </div>
  );
}

/** Copies text to the clipboard; false when the browser refuses. */
export async function copyToClipboard(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Permission denied: fall back to a selection copy.
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

/** Percent of `n` in `of`, one decimal; "—" when `of` is 0. */
export function percent(n: number, of: number): string {
  if (!of) return '—';
  return `${((100 * n) / of).toFixed(1)} %`;
}
