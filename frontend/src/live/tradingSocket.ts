/**
 * One shared WebSocket to `/ws/trading/` per session (see `getTradingSocket()`):
 * the signed-in user's order, fill, position and account events (and algo,
 * reconciliation, risk), pushed by the server after each commit.
 *
 * The connection (token auth and refresh, backoff with jitter, ping watchdog,
 * logout/login, linger) is `LiveSocket`. The server sends no heartbeat on
 * this socket, so the watchdog's ping (answered by `pong`) keeps a quiet
 * connection proven alive.
 *
 * The server publishes one batch per committed transaction; the consumer
 * relays it as one message per event. Both that and a batch envelope
 * (`{"events": [...]}`) are accepted, and listeners always get the events of
 * one message together.
 */
import type { TradingEvent } from "../api/types";
import { LiveSocket, socketUrl, type LiveSocketOptions, type ServerError, type ServerMessage } from "./liveSocket";

export interface TradingListener {
  /** Events of one server message, in order. */
  onEvents?: (events: TradingEvent[]) => void;
  /**
   * The server welcomed us: on the first connect and after every reconnect.
   * Events committed while disconnected are not replayed, so refetch.
   */
  onOpen?: () => void;
  onError?: (error: ServerError) => void;
}

export type TradingSocketOptions = LiveSocketOptions;

/** Messages that carry no trading event. */
const CONTROL_TYPES = new Set(["welcome", "pong", "heartbeat", "error", "subscribed", "unsubscribed"]);

function isEvent(value: unknown): value is TradingEvent {
  return (
    !!value &&
    typeof value === "object" &&
    typeof (value as { type?: unknown }).type === "string" &&
    !CONTROL_TYPES.has((value as { type: string }).type)
  );
}

/** The trading events a server message carries (a single event or a batch envelope). */
export function extractEvents(message: ServerMessage): TradingEvent[] {
  if (Array.isArray(message.events)) return message.events.filter(isEvent);
  return isEvent(message) ? [message] : [];
}

export function defaultTradingUrl(): string {
  return socketUrl("trading");
}

export class TradingSocket extends LiveSocket {
  private readonly listeners = new Set<TradingListener>();

  constructor(options: TradingSocketOptions = {}) {
    super("trading", "trading", { url: defaultTradingUrl, ...options });
  }

  /** Receive trading events. Connects if needed; returns a function that ends the subscription. */
  subscribe(listener: TradingListener): () => void {
    const entry = { ...listener };
    this.listeners.add(entry);
    this.listenerAdded();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners.delete(entry);
      this.listenerRemoved();
    };
  }

  override dispose(): void {
    super.dispose();
    this.listeners.clear();
  }

  protected listenerCount(): number {
    return this.listeners.size;
  }

  protected onWelcome(): void {
    for (const listener of [...this.listeners]) listener.onOpen?.();
  }

  protected override onServerError(error: ServerError): void {
    for (const listener of [...this.listeners]) listener.onError?.(error);
  }

  protected onServerMessage(message: ServerMessage): void {
    const events = extractEvents(message);
    if (!events.length) return;
    for (const listener of [...this.listeners]) listener.onEvents?.(events);
  }
}

let shared: TradingSocket | null = null;

/** The app-wide trading socket (created on first use). */
export function getTradingSocket(): TradingSocket {
  shared ??= new TradingSocket();
  return shared;
}

/** Dispose of the shared socket (tests). The next `getTradingSocket()` creates a new one. */
export function resetTradingSocket(): void {
  shared?.dispose();
  shared = null;
}
