/**
 * The connection lifecycle shared by the platform's WebSocket clients
 * (`/ws/prices/`, `/ws/trading/`); subclasses add what they subscribe to and
 * how they read the server's messages.
 *
 * - Connects when the subclass reports a first listener, with the current
 *   access token in `?token=`; an expired token is refreshed first through
 *   the API client's single-flight refresh. A 4401 close forces a refresh
 *   before the next attempt.
 * - Reconnects with exponential backoff and jitter (capped at 15 s); the
 *   attempt counter resets once the server has welcomed us, so a server that
 *   accepts and then immediately closes can't cause a tight loop.
 * - A silent connection is probed with a ping, then dropped and reconnected.
 * - Logging out closes the socket; logging in again (or another tab switching
 *   user) reconnects with the new token.
 * - Closes a while after the last listener leaves (route changes keep it).
 *
 * Pure TS: no React.
 */
import { isApiError, refreshSession } from "../api/client";
import { decodeJwtPayload, isTokenExpired } from "../auth/jwt";
import { getSession, subscribeSession } from "../auth/session";

export type ConnectionState = "connecting" | "open" | "closed";

export interface ConnectionStatus {
  state: ConnectionState;
  /** Consecutive failed attempts since the server last welcomed us. */
  attempt: number;
  /** Epoch ms of the next reconnect attempt while one is scheduled, else null. */
  retryAt: number | null;
  /** Why the last connection ended or the server's last error, if any. */
  error: string | null;
}

export interface ServerError {
  code: string;
  message: string;
}

/** The subset of the browser WebSocket these clients use (so tests can fake it). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: Event) => void) | null;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface LiveSocketOptions {
  /** Socket URL without the token (default: `ws(s)://<this host>/ws/<path>/`). */
  url?: () => string;
  createSocket?: (url: string) => WebSocketLike;
  /** Current access token (default: the session store). */
  getAccessToken?: () => string | null;
  /** Obtain a fresh access token; reject with ApiError (default: the API client's refresh). */
  refreshAccessToken?: () => Promise<string>;
  /** Session change notifications (default: the session store). */
  subscribeAuth?: (listener: () => void) => () => void;
  /** First backoff step (ms); the n-th retry waits about base·2ⁿ. */
  baseDelayMs?: number;
  /** Backoff cap (ms). */
  maxDelayMs?: number;
  /** Source of jitter in [0, 1). */
  random?: () => number;
  /** Drop and reconnect after this long without any message (a ping is sent halfway). */
  idleTimeoutMs?: number;
  /** Keep the socket open this long after the last listener leaves (route changes). */
  lingerMs?: number;
}

/** Server closes unauthenticated connections with this code. */
export const CLOSE_UNAUTHENTICATED = 4401;
export const DEFAULT_BASE_DELAY_MS = 500;
export const DEFAULT_MAX_DELAY_MS = 15_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 40_000;
export const DEFAULT_LINGER_MS = 5_000;

const WS_OPEN = 1;

/**
 * Delay before reconnect attempt number `attempt` (0-based): exponential
 * (`base·2^attempt`, capped at `max`) with "equal jitter" — uniformly in the
 * upper half of that window, so clients spread out after a server restart but
 * the delay still grows with every failure.
 */
export function backoffDelay(
  attempt: number,
  random: () => number = Math.random,
  baseMs: number = DEFAULT_BASE_DELAY_MS,
  maxMs: number = DEFAULT_MAX_DELAY_MS,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ceiling / 2 + (ceiling / 2) * r);
}

/** `ws(s)://<host>/ws/<path>/` for the page's origin (the Vite dev server proxies /ws). */
export function socketUrl(path: string): string {
  const { protocol, host } = window.location;
  return `${protocol === "https:" ? "wss:" : "ws:"}//${host}/ws/${path}/`;
}

function tokenUser(token: string | null): string | null {
  if (!token) return null;
  const id = decodeJwtPayload(token)?.user_id;
  return id == null ? null : String(id);
}

/** A parsed server message: an object with (usually) a string `type`. */
export type ServerMessage = { type?: unknown; [key: string]: unknown };

const CLOSED: ConnectionStatus = { state: "closed", attempt: 0, retryAt: null, error: null };

export abstract class LiveSocket {
  private readonly url: () => string;
  private readonly createSocket: (url: string) => WebSocketLike;
  private readonly getAccessToken: () => string | null;
  private readonly refreshAccessToken: () => Promise<string>;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly idleTimeoutMs: number;
  private readonly lingerMs: number;
  /** "price" → "the price server", "the price socket" in messages. */
  private readonly name: string;

  private readonly statusListeners = new Set<() => void>();
  private status: ConnectionStatus = CLOSED;

  private ws: WebSocketLike | null = null;
  /** User id of the token the current socket authenticated with. */
  private wsUser: string | null = null;
  /** True once the server sent `welcome` on the current socket. */
  private welcomedFlag = false;
  /** Bumped whenever a pending connect must be abandoned. */
  private generation = 0;
  /** Between connect() and the socket being created (token refresh in flight). */
  private opening = false;
  /** The server rejected our token: refresh before the next attempt. */
  private forceRefresh = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private lingerTimer: ReturnType<typeof setTimeout> | null = null;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly unsubscribeAuth: () => void;

  protected constructor(name: string, path: string, options: LiveSocketOptions = {}) {
    this.name = name;
    this.url = options.url ?? (() => socketUrl(path));
    this.createSocket = options.createSocket ?? ((url) => new WebSocket(url));
    this.getAccessToken = options.getAccessToken ?? (() => getSession()?.access ?? null);
    this.refreshAccessToken = options.refreshAccessToken ?? (() => refreshSession().then((s) => s.access));
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.random = options.random ?? Math.random;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.unsubscribeAuth = (options.subscribeAuth ?? subscribeSession)(() => this.onAuthChange());
  }

  // -------------------------------------------------------------------------
  // What subclasses provide
  // -------------------------------------------------------------------------

  /** How many listeners want the connection (0 → linger, then close). */
  protected abstract listenerCount(): number;
  /** The server welcomed us (authenticated): (re)subscribe. */
  protected abstract onWelcome(): void;
  /** Any message other than `welcome` and `error`. */
  protected abstract onServerMessage(message: ServerMessage): void;
  /** A `{"type": "error"}` message (the status already carries its text). */
  protected onServerError(_error: ServerError): void {}
  /** The current socket is gone: forget what was subscribed on it. */
  protected onDetach(): void {}

  // -------------------------------------------------------------------------
  // Public API
  // -------------------------------------------------------------------------

  /** Current connection status; the same object until something changes. */
  getStatus = (): ConnectionStatus => this.status;

  /** Be told when `getStatus()` changes. Returns an unsubscribe function. */
  onStatusChange = (listener: () => void): (() => void) => {
    this.statusListeners.add(listener);
    return () => {
      this.statusListeners.delete(listener);
    };
  };

  /** Ask the server for a `pong` (also done automatically on a silent connection). */
  ping(): void {
    this.send({ action: "ping" });
  }

  /** Reconnect now (e.g. a "retry" button), skipping any pending backoff. */
  reconnectNow(): void {
    if (this.listenerCount() === 0 || this.opening) return;
    this.dropSocket();
    this.attempt = 0;
    this.connect();
  }

  /** Close the socket and stop reconnecting until the next listener arrives. */
  stop(error: string | null = null): void {
    this.generation += 1;
    this.opening = false;
    this.clearRetry();
    this.clearLinger();
    this.dropSocket();
    this.attempt = 0;
    this.setStatus({ state: "closed", attempt: 0, retryAt: null, error });
  }

  /** Stop and detach from the session store (tests; session teardown). */
  dispose(): void {
    this.stop();
    this.statusListeners.clear();
    this.unsubscribeAuth();
  }

  // -------------------------------------------------------------------------
  // For subclasses
  // -------------------------------------------------------------------------

  /** True once the server welcomed the current socket. */
  protected get welcomed(): boolean {
    return this.ws !== null && this.welcomedFlag;
  }

  /** Call after adding a listener: keeps the socket, connecting if needed. */
  protected listenerAdded(): void {
    this.clearLinger();
    if (!this.ws && !this.opening && this.retryTimer === null) this.connect();
  }

  /** Call after removing a listener: the last one leaving closes the socket a while later. */
  protected listenerRemoved(): void {
    if (this.listenerCount() === 0) this.scheduleLinger();
  }

  /** Send if the socket is open (dropped otherwise: (re)subscribing happens on welcome). */
  protected send(message: Record<string, unknown>): void {
    if (this.ws && this.ws.readyState === WS_OPEN) this.ws.send(JSON.stringify(message));
  }

  // -------------------------------------------------------------------------
  // Connection lifecycle
  // -------------------------------------------------------------------------

  private connect(): void {
    this.clearRetry();
    const generation = ++this.generation;
    this.opening = true;
    this.setStatus({ state: "connecting", attempt: this.attempt, retryAt: null, error: this.status.error });
    void this.open(generation);
  }

  private async open(generation: number): Promise<void> {
    let token = this.getAccessToken();
    if (!token) {
      // Not logged in: wait for the session store to tell us about a login.
      this.opening = false;
      this.setStatus({ state: "closed", attempt: this.attempt, retryAt: null, error: "Not logged in." });
      return;
    }
    if (this.forceRefresh || isTokenExpired(token)) {
      try {
        token = await this.refreshAccessToken();
        this.forceRefresh = false;
      } catch (error) {
        if (generation !== this.generation) return;
        this.opening = false;
        if (isApiError(error) && (error.status === 400 || error.status === 401)) {
          // The API client has cleared the session; the app returns to /login.
          this.setStatus({ state: "closed", attempt: 0, retryAt: null, error: "Session expired." });
          return;
        }
        this.scheduleReconnect(error instanceof Error ? error.message : "Token refresh failed.");
        return;
      }
    }
    if (generation !== this.generation) return;
    this.opening = false;
    if (this.listenerCount() === 0) {
      this.setStatus({ ...CLOSED });
      return;
    }

    let ws: WebSocketLike;
    try {
      ws = this.createSocket(`${this.url()}?token=${encodeURIComponent(token)}`);
    } catch (error) {
      this.scheduleReconnect(error instanceof Error ? error.message : `Could not open the ${this.name} socket.`);
      return;
    }
    this.ws = ws;
    this.wsUser = tokenUser(token);
    this.welcomedFlag = false;
    this.onDetach();
    ws.onopen = () => {
      if (this.ws === ws) this.armIdle();
    };
    ws.onmessage = (event) => {
      if (this.ws === ws) this.onMessage(event);
    };
    ws.onerror = () => {
      /* a close event follows */
    };
    ws.onclose = (event) => {
      if (this.ws === ws) this.onClose(event);
    };
    this.armIdle();
  }

  private onClose(event: CloseEvent): void {
    this.detach();
    if (event.code === CLOSE_UNAUTHENTICATED) this.forceRefresh = true;
    const reason =
      event.code === CLOSE_UNAUTHENTICATED
        ? "Not authenticated."
        : event.reason || `Connection closed (${event.code}).`;
    if (this.listenerCount() === 0) {
      this.setStatus({ ...CLOSED, error: reason });
      return;
    }
    this.scheduleReconnect(reason);
  }

  private scheduleReconnect(error: string | null): void {
    this.clearRetry();
    const delay = backoffDelay(this.attempt, this.random, this.baseDelayMs, this.maxDelayMs);
    this.attempt += 1;
    this.setStatus({ state: "closed", attempt: this.attempt, retryAt: Date.now() + delay, error });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.listenerCount() > 0) this.connect();
      else this.setStatus({ ...CLOSED });
    }, delay);
  }

  /** Forget the current socket (closing it if still open) without scheduling anything. */
  private dropSocket(): void {
    const ws = this.ws;
    this.detach();
    if (ws) {
      try {
        ws.close(1000, "client closing");
      } catch {
        /* already closed */
      }
    }
  }

  private detach(): void {
    const ws = this.ws;
    if (ws) {
      ws.onopen = null;
      ws.onmessage = null;
      ws.onerror = null;
      ws.onclose = null;
    }
    this.ws = null;
    this.wsUser = null;
    this.welcomedFlag = false;
    this.onDetach();
    this.clearIdle();
  }

  private onAuthChange(): void {
    const token = this.getAccessToken();
    if (!token) {
      if (this.ws || this.opening || this.retryTimer !== null) this.stop("Logged out.");
      return;
    }
    if (this.listenerCount() === 0 || this.opening) return;
    if (this.ws) {
      // A refreshed token for the same user: the open socket stays authenticated.
      if (tokenUser(token) !== this.wsUser) {
        this.dropSocket();
        this.attempt = 0;
        this.connect();
      }
    } else if (this.retryTimer === null) {
      // Logged in again after a logout/expiry.
      this.attempt = 0;
      this.connect();
    }
  }

  // -------------------------------------------------------------------------
  // Messages
  // -------------------------------------------------------------------------

  private onMessage(event: MessageEvent): void {
    this.armIdle();
    let message: unknown;
    try {
      message = JSON.parse(String(event.data));
    } catch {
      return;
    }
    if (!message || typeof message !== "object" || Array.isArray(message)) return;
    const parsed = message as ServerMessage;
    if (parsed.type === "welcome") {
      this.welcomedFlag = true;
      this.attempt = 0;
      this.setStatus({ state: "open", attempt: 0, retryAt: null, error: null });
      this.onWelcome();
    } else if (parsed.type === "error") {
      const raw = (parsed.error && typeof parsed.error === "object" ? parsed.error : {}) as {
        code?: string;
        message?: string;
      };
      const error: ServerError = {
        code: raw.code ?? "error",
        message: raw.message ?? `The ${this.name} server reported an error.`,
      };
      this.setStatus({ ...this.status, error: error.message });
      this.onServerError(error);
    } else {
      this.onServerMessage(parsed);
    }
  }

  // -------------------------------------------------------------------------
  // Timers and status
  // -------------------------------------------------------------------------

  /** Silence for half the idle timeout → ping; for the whole of it → reconnect. */
  private armIdle(): void {
    this.clearIdle();
    const half = Math.max(1, Math.floor(this.idleTimeoutMs / 2));
    this.idleTimer = setTimeout(() => {
      this.ping();
      this.idleTimer = setTimeout(() => {
        this.idleTimer = null;
        this.dropSocket();
        if (this.listenerCount() > 0) this.scheduleReconnect(`No data from the ${this.name} server.`);
        else this.setStatus({ ...CLOSED });
      }, this.idleTimeoutMs - half);
    }, half);
  }

  private clearIdle(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private scheduleLinger(): void {
    this.clearLinger();
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      if (this.listenerCount() === 0) this.stop();
    }, this.lingerMs);
  }

  private clearLinger(): void {
    if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
    this.lingerTimer = null;
  }

  private setStatus(next: ConnectionStatus): void {
    const current = this.status;
    if (
      current.state === next.state &&
      current.attempt === next.attempt &&
      current.retryAt === next.retryAt &&
      current.error === next.error
    ) {
      return;
    }
    this.status = next;
    for (const listener of [...this.statusListeners]) listener();
  }
}
