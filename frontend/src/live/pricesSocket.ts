/**
 * One shared WebSocket to `/ws/prices/` per session (see `getPricesSocket()`).
 *
 * The connection itself (token auth and refresh, backoff with jitter, ping and
 * idle watchdog, logout/login, linger) is `LiveSocket` in ./liveSocket.ts.
 * On top of it:
 * - Connects lazily when the first subscriber arrives.
 * - After every (re)connect it subscribes to the union of the symbols all
 *   subscribers want (in chunks the server accepts); symbols nobody wants any
 *   more are unsubscribed.
 * - The server sends a heartbeat every 15 s, so a silent socket is dead.
 *
 * Pure TS: no React. `usePricesConnection()` in ./usePricesConnection.ts
 * adapts the status to components.
 */
import type { ImportProgress, LiveBar, Quote, PriceTick } from "../api/types";
import {
  LiveSocket,
  socketUrl,
  type LiveSocketOptions,
  type ServerError,
  type ServerMessage,
} from "./liveSocket";

export {
  backoffDelay,
  CLOSE_UNAUTHENTICATED,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_LINGER_MS,
  DEFAULT_MAX_DELAY_MS,
  type ConnectionState,
  type ConnectionStatus,
  type WebSocketLike,
} from "./liveSocket";

export type PriceSocketError = ServerError;

export interface SubscribeOptions {
  /**
   * Latest quotes of (some of) the subscribed symbols: the server's snapshot
   * after every (re)subscribe, and on subscribe the last quotes this client
   * already holds (called synchronously from `subscribe`).
   */
  onSnapshot?: (quotes: Quote[]) => void;
  /** `{"type": "error"}` messages from the server. */
  onError?: (error: PriceSocketError) => void;
}

export type PricesSocketOptions = LiveSocketOptions;

export interface BarSubscribeOptions {
  /** `{"type": "error"}` messages from the server. */
  onError?: (error: PriceSocketError) => void;
}

interface BarListener {
  key: string;
  symbol: string;
  timeframe: string;
  onBar: (bar: LiveBar) => void;
  onError?: (error: PriceSocketError) => void;
}

interface ImportListener {
  id: number;
  onProgress: (message: ImportProgress) => void;
  onError?: (error: PriceSocketError) => void;
}

const barKey = (symbol: string, timeframe: string) => `${symbol}|${timeframe}`;

/** The server rejects subscriptions with more symbols than this. */
export const MAX_SYMBOLS_PER_SUBSCRIBE = 50;

/** `ws(s)://<host>/ws/prices/` for the page's origin (the Vite dev server proxies /ws). */
export function defaultPricesUrl(): string {
  return socketUrl("prices");
}

function normalizeSymbols(symbols: readonly string[]): string[] {
  return [...new Set(symbols.map((s) => s.trim().toUpperCase()).filter(Boolean))];
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

interface Listener {
  symbols: Set<string>;
  onTick: (tick: PriceTick) => void;
  onSnapshot?: (quotes: Quote[]) => void;
  onError?: (error: PriceSocketError) => void;
}

export class PricesSocket extends LiveSocket {
  private readonly listeners = new Set<Listener>();
  private readonly lastQuotes = new Map<string, Quote>();
  /** Symbols subscribed on the current socket. */
  private serverSymbols = new Set<string>();
  private readonly barListeners = new Set<BarListener>();
  /** "SYMBOL|TF" bar subscriptions on the current socket. */
  private serverBars = new Set<string>();
  private readonly importListeners = new Set<ImportListener>();
  /** Imports watched on the current socket. */
  private serverImports = new Set<number>();

  constructor(options: PricesSocketOptions = {}) {
    super("price", "prices", { url: defaultPricesUrl, ...options });
  }

  /** The union of symbols all subscribers want. */
  wantedSymbols(): string[] {
    const all = new Set<string>();
    for (const listener of this.listeners) for (const s of listener.symbols) all.add(s);
    return [...all];
  }

  /**
   * Receive ticks for `symbols` (case-insensitive). Connects if needed.
   * Returns a function that ends this subscription.
   */
  subscribe(symbols: readonly string[], onTick: (tick: PriceTick) => void, options: SubscribeOptions = {}): () => void {
    const listener: Listener = { symbols: new Set(normalizeSymbols(symbols)), onTick, ...options };
    this.listeners.add(listener);

    const known = [...listener.symbols].flatMap((s) => {
      const quote = this.lastQuotes.get(s);
      return quote ? [quote] : [];
    });
    if (known.length && listener.onSnapshot) listener.onSnapshot(known);

    if (this.welcomed) this.sendSubscribe([...listener.symbols].filter((s) => !this.serverSymbols.has(s)));
    this.listenerAdded();

    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.listeners.delete(listener);
      if (this.welcomed) {
        const wanted = this.serverWanted();
        const stale = [...this.serverSymbols].filter((s) => !wanted.has(s));
        if (stale.length) {
          for (const s of stale) this.serverSymbols.delete(s);
          this.send({ action: "unsubscribe", symbols: stale });
        }
      }
      this.listenerRemoved();
    };
  }

  /**
   * Receive the live bars of one symbol and timeframe: the open bar as it
   * moves (`closed: false`), then its final state (`closed: true`), then the
   * next bar. The subscription's snapshot (after every (re)connect) carries
   * the open bar too. Returns a function that ends this subscription.
   */
  subscribeBars(
    symbol: string,
    timeframe: string,
    onBar: (bar: LiveBar) => void,
    options: BarSubscribeOptions = {},
  ): () => void {
    const sym = symbol.trim().toUpperCase();
    const listener: BarListener = { key: barKey(sym, timeframe), symbol: sym, timeframe, onBar, ...options };
    this.barListeners.add(listener);
    if (this.welcomed) this.sendBarSubscribe([listener.key]);
    this.listenerAdded();

    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.barListeners.delete(listener);
      if (this.welcomed && this.serverBars.has(listener.key) && !this.wantedBarKeys().has(listener.key)) {
        // The server drops a symbol's timeframes only with the symbol: resubscribe what is still wanted.
        this.send({ action: "unsubscribe", symbols: [sym] });
        this.serverSymbols.delete(sym);
        for (const key of [...this.serverBars]) if (key.startsWith(`${sym}|`)) this.serverBars.delete(key);
        if (this.wantedSymbols().includes(sym)) this.sendSubscribe([sym]);
        this.sendBarSubscribe([...this.wantedBarKeys()].filter((key) => key.startsWith(`${sym}|`)));
      }
      this.listenerRemoved();
    };
  }

  /**
   * Follow an import's progress (`{"type": "import"}` messages, the current
   * state first). Re-sent after every reconnect. Returns a function that ends it.
   */
  watchImport(
    id: number,
    onProgress: (message: ImportProgress) => void,
    options: { onError?: (error: PriceSocketError) => void } = {},
  ): () => void {
    const listener: ImportListener = { id, onProgress, ...options };
    this.importListeners.add(listener);
    if (this.welcomed) this.sendWatchImport(id);
    this.listenerAdded();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      this.importListeners.delete(listener);
      this.listenerRemoved();
    };
  }

  /** The latest quote this client holds for `symbol` (snapshot or tick), if any. */
  lastQuote(symbol: string): Quote | undefined {
    return this.lastQuotes.get(symbol.toUpperCase());
  }

  override dispose(): void {
    super.dispose();
    this.listeners.clear();
    this.barListeners.clear();
    this.importListeners.clear();
    this.lastQuotes.clear();
  }

  // -------------------------------------------------------------------------
  // LiveSocket hooks
  // -------------------------------------------------------------------------

  protected listenerCount(): number {
    return this.listeners.size + this.barListeners.size + this.importListeners.size;
  }

  protected override onDetach(): void {
    this.serverSymbols = new Set();
    this.serverBars = new Set();
    this.serverImports = new Set();
  }

  protected onWelcome(): void {
    this.sendSubscribe(this.wantedSymbols());
    this.sendBarSubscribe([...this.wantedBarKeys()]);
    for (const id of new Set([...this.importListeners].map((l) => l.id))) this.sendWatchImport(id);
  }

  protected override onServerError(error: PriceSocketError): void {
    for (const listener of [...this.listeners]) listener.onError?.(error);
    for (const listener of [...this.barListeners]) listener.onError?.(error);
    for (const listener of [...this.importListeners]) listener.onError?.(error);
  }

  protected onServerMessage(message: ServerMessage): void {
    switch (message.type) {
      case "snapshot":
        this.onSnapshot(Array.isArray(message.quotes) ? (message.quotes as Quote[]) : []);
        if (Array.isArray(message.bars)) for (const bar of message.bars as LiveBar[]) this.onBar(bar);
        break;
      case "tick":
        this.onTick(message as unknown as PriceTick);
        break;
      case "bar":
        this.onBar(message as unknown as LiveBar);
        break;
      case "import":
        this.onImport(message as unknown as ImportProgress);
        break;
      default:
        // heartbeat, pong, unsubscribed: nothing to do beyond re-arming the idle timer.
        break;
    }
  }

  private onSnapshot(quotes: Quote[]): void {
    const fresh = quotes.filter((q) => q && typeof q.symbol === "string" && q.bid !== null && q.ask !== null);
    for (const quote of fresh) this.lastQuotes.set(quote.symbol, quote);
    if (!fresh.length) return;
    for (const listener of [...this.listeners]) {
      if (!listener.onSnapshot) continue;
      const mine = fresh.filter((q) => listener.symbols.has(q.symbol));
      if (mine.length) listener.onSnapshot(mine);
    }
  }

  private onTick(tick: PriceTick): void {
    if (typeof tick.symbol !== "string") return;
    const { symbol, bid, ask, time, source, simulated } = tick;
    this.lastQuotes.set(symbol, { symbol, bid, ask, time, source, simulated });
    for (const listener of [...this.listeners]) {
      if (listener.symbols.has(symbol)) listener.onTick(tick);
    }
  }

  private onBar(bar: LiveBar): void {
    if (!bar || typeof bar.symbol !== "string" || typeof bar.timeframe !== "string") return;
    const key = barKey(bar.symbol, bar.timeframe);
    for (const listener of [...this.barListeners]) {
      if (listener.key === key) listener.onBar({ ...bar, type: "bar" });
    }
  }

  private onImport(message: ImportProgress): void {
    for (const listener of [...this.importListeners]) {
      if (listener.id === message.id) listener.onProgress(message);
    }
  }

  /** Symbols the server must send: ticks wanted, or bars of theirs. */
  private serverWanted(): Set<string> {
    const all = new Set(this.wantedSymbols());
    for (const listener of this.barListeners) all.add(listener.symbol);
    return all;
  }

  private wantedBarKeys(): Set<string> {
    return new Set([...this.barListeners].map((l) => l.key));
  }

  /** Subscribe the bar keys not yet on the server: one message per symbol with its new timeframes. */
  private sendBarSubscribe(keys: string[]): void {
    const bySymbol = new Map<string, string[]>();
    for (const key of keys) {
      if (this.serverBars.has(key)) continue;
      const [symbol, timeframe] = key.split("|") as [string, string];
      bySymbol.set(symbol, [...(bySymbol.get(symbol) ?? []), timeframe]);
    }
    for (const [symbol, timeframes] of bySymbol) {
      for (const tf of timeframes) this.serverBars.add(barKey(symbol, tf));
      this.serverSymbols.add(symbol);
      this.send({ action: "subscribe", symbols: [symbol], timeframes });
    }
  }

  private sendWatchImport(id: number): void {
    if (this.serverImports.has(id)) return;
    this.serverImports.add(id);
    this.send({ action: "watch_import", id });
  }

  private sendSubscribe(symbols: string[]): void {
    const fresh = symbols.filter((s) => !this.serverSymbols.has(s));
    if (!fresh.length) return;
    for (const s of fresh) this.serverSymbols.add(s);
    for (const chunk of chunks(fresh, MAX_SYMBOLS_PER_SUBSCRIBE)) {
      this.send({ action: "subscribe", symbols: chunk, timeframes: [] });
    }
  }
}

// ---------------------------------------------------------------------------
// Shared instance
// ---------------------------------------------------------------------------

let shared: PricesSocket | null = null;

/** The app-wide price socket (created on first use). */
export function getPricesSocket(): PricesSocket {
  shared ??= new PricesSocket();
  return shared;
}

/** Dispose of the shared socket (tests). The next `getPricesSocket()` creates a new one. */
export function resetPricesSocket(): void {
  shared?.dispose();
  shared = null;
}
