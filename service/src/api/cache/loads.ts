/**
 * How one caller takes part in a search's load: `signal` aborts when that caller goes away, and
 * `admit` is asked before a load starts on its behalf (it throws to refuse, and returns the
 * release); a caller joining a load already running is neither admitted nor able to stop it alone.
 */
export type LoadOptions = { signal?: AbortSignal | undefined; admit?: (() => () => void) | undefined };

/** The signal of a load nobody can call off. */
const NEVER = new AbortController().signal;

/** A load run for one caller alone (no store to share it through): admitted, stopped by that caller. */
export async function loadAlone<T>(load: (signal: AbortSignal) => Promise<T>, { signal, admit }: LoadOptions = {}): Promise<T> {
  const release = admit?.();
  try {
    return await load(signal ?? NEVER);
  } finally {
    release?.();
  }
}
