/**
 * Token storage. localStorage (key `fx.session`) is the source of truth so
 * every tab sees rotations made by any other tab; an in-memory copy is used
 * only when localStorage is unavailable (private mode, tests, SSR).
 */
import type { TokenPair } from "../api/types";

export type Session = TokenPair;

/** Why this tab's session last ended (null: never, or ended in another tab). */
export type SessionEndReason = "expired" | "logged_out" | null;

export const SESSION_STORAGE_KEY = "fx.session";

type Listener = () => void;
const listeners = new Set<Listener>();
let memory: Session | null = null;
let endReason: SessionEndReason = null;
/** Set once a write to localStorage failed; from then on this tab uses memory only. */
let storageBroken = false;
let cachedRaw: string | null | undefined;
let cachedSession: Session | null = null;

function storage(): Storage | null {
  if (storageBroken) return null;
  try {
    return typeof window !== "undefined" ? window.localStorage : null;
  } catch {
    return null;
  }
}

function parse(raw: string | null): Session | null {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    if (
      value &&
      typeof value === "object" &&
      typeof (value as Session).access === "string" &&
      typeof (value as Session).refresh === "string"
    ) {
      const { access, refresh } = value as Session;
      return { access, refresh };
    }
  } catch {
    /* fall through */
  }
  return null;
}

/**
 * Current session. Returns a referentially stable object while the stored
 * value is unchanged (required by useSyncExternalStore).
 */
export function getSession(): Session | null {
  const store = storage();
  if (!store) return memory;
  let raw: string | null;
  try {
    raw = store.getItem(SESSION_STORAGE_KEY);
  } catch {
    return memory;
  }
  if (raw !== cachedRaw) {
    cachedRaw = raw;
    cachedSession = parse(raw);
  }
  return cachedSession;
}

function emit(): void {
  for (const listener of [...listeners]) listener();
}

export function setSession(session: Session): void {
  endReason = null;
  memory = { access: session.access, refresh: session.refresh };
  try {
    storage()?.setItem(SESSION_STORAGE_KEY, JSON.stringify(memory));
  } catch {
    // Quota exceeded / storage disabled: keep the session in memory for this tab.
    storageBroken = true;
  }
  emit();
}

export function clearSession(reason: SessionEndReason = null): void {
  endReason = reason;
  memory = null;
  try {
    storage()?.removeItem(SESSION_STORAGE_KEY);
  } catch {
    /* ignore */
  }
  emit();
}

export function getSessionEndReason(): SessionEndReason {
  return endReason;
}

/** Subscribe to session changes in this tab and (via `storage` events) in others. */
export function subscribeSession(listener: Listener): () => void {
  listeners.add(listener);
  const onStorage = (event: StorageEvent) => {
    if (event.key === SESSION_STORAGE_KEY || event.key === null) listener();
  };
  if (typeof window !== "undefined") window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    if (typeof window !== "undefined") window.removeEventListener("storage", onStorage);
  };
}
