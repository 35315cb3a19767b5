import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setSessionExpiredHandler } from "../api/client";
import type { PriceTick, Quote } from "../api/types";
import { clearSession, getSession, setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, errorBody, jsonResponse, mockFetch } from "../test/helpers";
import {
  backoffDelay,
  CLOSE_UNAUTHENTICATED,
  getPricesSocket,
  PricesSocket,
  resetPricesSocket,
  type PricesSocketOptions,
} from "./pricesSocket";

const URL_BASE = "ws://test.local/ws/prices/";

function tick(symbol: string, bid: string, ask: string, extra: Partial<PriceTick> = {}): PriceTick {
  return {
    type: "tick",
    symbol,
    bid,
    ask,
    time: new Date().toISOString(),
    ts: Date.now(),
    source: "demo",
    simulated: true,
    ...extra,
  };
}

function quote(symbol: string, bid: string, ask: string): Quote {
  return { symbol, bid, ask, time: new Date().toISOString(), source: "demo", simulated: true };
}

/** random() = 0.5 → each delay is 3/4 of its exponential ceiling. */
const JITTER = 0.5;

let sockets: PricesSocket[] = [];

function makeSocket(options: PricesSocketOptions = {}): PricesSocket {
  const socket = new PricesSocket({
    url: () => URL_BASE,
    createSocket: (url) => new FakeWebSocket(url),
    random: () => JITTER,
    ...options,
  });
  sockets.push(socket);
  return socket;
}

const subscribeMessages = (ws: FakeWebSocket) => ws.sentActions("subscribe").map((m) => m.symbols);

describe("backoffDelay", () => {
  it("grows exponentially with jitter in the upper half of each window, capped at 15 s", () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 0.999999)).toBe(500);
    expect(backoffDelay(1, () => 0)).toBe(500);
    expect(backoffDelay(1, () => 0.999999)).toBe(1000);
    expect(backoffDelay(3, () => 0.5)).toBe(3000);
    for (let attempt = 0; attempt < 40; attempt++) {
      const low = backoffDelay(attempt, () => 0);
      const high = backoffDelay(attempt, () => 0.999999);
      expect(high).toBeLessThanOrEqual(15_000);
      expect(low).toBeGreaterThanOrEqual(Math.min(15_000, 500 * 2 ** attempt) / 2);
    }
    expect(backoffDelay(10, () => 0.999999)).toBe(15_000);
    expect(backoffDelay(10, () => 0)).toBe(7_500);
  });
});

describe("PricesSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
    sockets = [];
  });

  afterEach(() => {
    for (const socket of sockets) socket.dispose();
    vi.useRealTimers();
  });

  it("connects lazily with the session's access token and subscribes once welcomed", () => {
    const access = accessToken(300);
    setSession({ access, refresh: "r1" });
    const socket = makeSocket();
    expect(socket.getStatus().state).toBe("closed");
    expect(FakeWebSocket.instances).toHaveLength(0);

    const onTick = vi.fn();
    const onSnapshot = vi.fn();
    socket.subscribe(["eurusd", "GBPUSD", "EURUSD"], onTick, { onSnapshot });
    expect(socket.getStatus().state).toBe("connecting");
    const ws = FakeWebSocket.last;
    expect(ws.url.startsWith(`${URL_BASE}?token=`)).toBe(true);
    expect(ws.token).toBe(access);

    ws.open();
    expect(ws.sent).toHaveLength(0); // waits for the welcome (authenticated)
    ws.receive({ type: "welcome", user: "alice" });
    expect(socket.getStatus().state).toBe("open");
    expect(ws.messages).toEqual([{ action: "subscribe", symbols: ["EURUSD", "GBPUSD"], timeframes: [] }]);

    const snapshot = [quote("EURUSD", "1.08500", "1.08512"), { ...quote("GBPUSD", "", ""), bid: null, ask: null }];
    ws.receive({ type: "snapshot", symbols: ["EURUSD", "GBPUSD"], quotes: snapshot, bars: [], instruments: [] });
    expect(onSnapshot).toHaveBeenCalledWith([snapshot[0]]);

    const t = tick("EURUSD", "1.08501", "1.08513");
    ws.receive(t);
    ws.receive(tick("USDJPY", "151.230", "151.245"));
    ws.receive({ type: "heartbeat" });
    expect(onTick).toHaveBeenCalledTimes(1);
    expect(onTick).toHaveBeenCalledWith(t);
  });

  it("subscribes new symbols incrementally, replays known quotes, and unsubscribes symbols nobody wants", () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = makeSocket();
    const a = vi.fn();
    const unsubscribeA = socket.subscribe(["EURUSD", "GBPUSD"], a);
    const ws = FakeWebSocket.last;
    ws.accept();
    ws.receive(tick("EURUSD", "1.08501", "1.08513"));

    const b = vi.fn();
    const bSnapshot = vi.fn();
    const unsubscribeB = socket.subscribe(["EURUSD", "USDJPY"], b, { onSnapshot: bSnapshot });
    expect(FakeWebSocket.instances).toHaveLength(1); // shared connection
    expect(subscribeMessages(ws)).toEqual([["EURUSD", "GBPUSD"], ["USDJPY"]]);
    expect(bSnapshot).toHaveBeenCalledWith([expect.objectContaining({ symbol: "EURUSD", bid: "1.08501" })]);

    ws.receive(tick("EURUSD", "1.08502", "1.08514"));
    expect(a).toHaveBeenCalledTimes(2);
    expect(b).toHaveBeenCalledTimes(1);

    unsubscribeA();
    unsubscribeA(); // idempotent
    expect(ws.sentActions("unsubscribe")).toEqual([{ action: "unsubscribe", symbols: ["GBPUSD"] }]);
    ws.receive(tick("GBPUSD", "1.27000", "1.27010"));
    expect(a).toHaveBeenCalledTimes(2);

    unsubscribeB();
    expect(ws.sentActions("unsubscribe").at(-1)).toEqual({ action: "unsubscribe", symbols: ["EURUSD", "USDJPY"] });
  });

  it("splits large subscriptions into chunks the server accepts", () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = makeSocket();
    const symbols = Array.from({ length: 60 }, (_, i) => `SYM${i}`);
    socket.subscribe(symbols, vi.fn());
    FakeWebSocket.last.accept();
    const sent = subscribeMessages(FakeWebSocket.last) as string[][];
    expect(sent.map((s) => s.length)).toEqual([50, 10]);
    expect(sent.flat()).toEqual(symbols);
  });

  it("reconnects with exponential backoff + jitter (capped) and resubscribes to the union after reconnect", async () => {
    setSession({ access: accessToken(3600), refresh: "r1" });
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    const unsubscribeB = socket.subscribe(["USDJPY"], vi.fn());
    socket.subscribe(["GBPUSD", "EURUSD"], vi.fn());
    FakeWebSocket.last.accept();
    expect(subscribeMessages(FakeWebSocket.last)).toEqual([["EURUSD", "USDJPY", "GBPUSD"]]);

    // Connection lost. Attempts that never get a welcome keep backing off:
    // ceilings 500, 1000, 2000, 4000, 8000, 15000 (cap), 15000 → ×0.75 with this jitter.
    FakeWebSocket.last.serverClose(1006);
    const expected = [375, 750, 1500, 3000, 6000, 11_250, 11_250];
    for (const [i, delay] of expected.entries()) {
      const status = socket.getStatus();
      expect(status.state).toBe("closed");
      expect(status.attempt).toBe(i + 1);
      expect(status.retryAt).toBe(Date.now() + delay);
      const count = FakeWebSocket.instances.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(FakeWebSocket.instances).toHaveLength(count);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances).toHaveLength(count + 1);
      expect(socket.getStatus().state).toBe("connecting");
      if (i < expected.length - 1) FakeWebSocket.last.serverClose(1006);
    }

    // A subscriber leaves while we are disconnected: not resubscribed.
    unsubscribeB();
    const ws = FakeWebSocket.last;
    ws.accept();
    expect(socket.getStatus()).toEqual({ state: "open", attempt: 0, retryAt: null, error: null });
    expect(subscribeMessages(ws)).toEqual([["EURUSD", "GBPUSD"]]);
    expect(ws.sentActions("unsubscribe")).toEqual([]);

    // The welcome reset the backoff.
    ws.serverClose(1011, "server restart");
    expect(socket.getStatus()).toMatchObject({ state: "closed", attempt: 1, error: "server restart" });
    expect(socket.getStatus().retryAt).toBe(Date.now() + 375);
  });

  it("uses real jitter by default and never exceeds the cap", async () => {
    setSession({ access: accessToken(3600), refresh: "r1" });
    const socket = new PricesSocket({ url: () => URL_BASE, createSocket: (url) => new FakeWebSocket(url) });
    sockets.push(socket);
    socket.subscribe(["EURUSD"], vi.fn());
    for (let i = 0; i < 12; i++) {
      FakeWebSocket.last.serverClose(1006);
      const wait = socket.getStatus().retryAt! - Date.now();
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(15_000);
      await vi.advanceTimersByTimeAsync(wait);
    }
    expect(FakeWebSocket.instances).toHaveLength(13);
  });

  it("refreshes an expired access token (through the API client) before reconnecting", async () => {
    const first = accessToken(60);
    setSession({ access: first, refresh: "r1" });
    const second = accessToken(3600, { jti: "second" });
    const fetch = mockFetch(({ url }) =>
      url === "/api/v1/auth/token/refresh/" ? jsonResponse(200, { access: second, refresh: "r2" }) : jsonResponse(404),
    );
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    expect(FakeWebSocket.last.token).toBe(first);
    FakeWebSocket.last.accept();

    // Keep the connection alive past the token's expiry with heartbeats.
    for (let i = 0; i < 6; i++) {
      await vi.advanceTimersByTimeAsync(15_000);
      FakeWebSocket.last.receive({ type: "heartbeat" });
    }
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(fetch).not.toHaveBeenCalled();

    FakeWebSocket.last.serverClose(1006);
    await vi.advanceTimersByTimeAsync(375);
    expect(fetch.calls().map((c) => [c.url, c.body])).toEqual([["/api/v1/auth/token/refresh/", { refresh: "r1" }]]);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.last.token).toBe(second);
    expect(getSession()).toEqual({ access: second, refresh: "r2" });

    FakeWebSocket.last.accept();
    expect(subscribeMessages(FakeWebSocket.last)).toEqual([["EURUSD"]]);
  });

  it("refreshes the token after a 4401 close even if it has not expired yet", async () => {
    setSession({ access: accessToken(3600, { jti: "revoked" }), refresh: "r1" });
    const fresh = accessToken(3600, { jti: "fresh" });
    const fetch = mockFetch(() => jsonResponse(200, { access: fresh, refresh: "r2" }));
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: "error", error: { code: "not_authenticated", message: "A valid token is required." } });
    FakeWebSocket.last.serverClose(CLOSE_UNAUTHENTICATED);
    expect(socket.getStatus()).toMatchObject({ state: "closed", attempt: 1, error: "Not authenticated." });

    await vi.advanceTimersByTimeAsync(375);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.last.token).toBe(fresh);
  });

  it("stops when the session cannot be refreshed", async () => {
    const expired = vi.fn();
    const restore = setSessionExpiredHandler(expired);
    try {
      setSession({ access: accessToken(-10), refresh: "r1" });
      mockFetch(() => jsonResponse(401, errorBody("token_not_valid", "Token is blacklisted.")));
      const socket = makeSocket();
      socket.subscribe(["EURUSD"], vi.fn());
      await vi.advanceTimersByTimeAsync(0);
      expect(FakeWebSocket.instances).toHaveLength(0);
      expect(getSession()).toBeNull();
      expect(expired).toHaveBeenCalledTimes(1);
      expect(socket.getStatus()).toMatchObject({ state: "closed", retryAt: null });
      await vi.advanceTimersByTimeAsync(120_000);
      expect(FakeWebSocket.instances).toHaveLength(0);
    } finally {
      restore();
    }
  });

  it("retries with backoff when the refresh fails for a transient reason", async () => {
    setSession({ access: accessToken(-10), refresh: "r1" });
    const fresh = accessToken(3600);
    let fail = true;
    mockFetch(() => (fail ? jsonResponse(503) : jsonResponse(200, { access: fresh, refresh: "r2" })));
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    await vi.advanceTimersByTimeAsync(0);
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(socket.getStatus()).toMatchObject({ state: "closed", attempt: 1 });
    fail = false;
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(FakeWebSocket.last.token).toBe(fresh);
  });

  it("closes on logout and reconnects on the next login", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    const ws = FakeWebSocket.last;
    ws.accept();

    clearSession("logged_out");
    expect(ws.closedByClient).not.toBeNull();
    expect(socket.getStatus()).toMatchObject({ state: "closed", retryAt: null });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);

    const next = accessToken(300, { user_id: 1, jti: "again" });
    setSession({ access: next, refresh: "r2" });
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.last.token).toBe(next);
  });

  it("keeps the socket across token refreshes but reconnects when the user changes", () => {
    setSession({ access: accessToken(300, { user_id: 1 }), refresh: "r1" });
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    const first = FakeWebSocket.last;
    first.accept();

    setSession({ access: accessToken(600, { user_id: 1, jti: "rotated" }), refresh: "r2" });
    expect(FakeWebSocket.instances).toHaveLength(1);

    const bob = accessToken(600, { user_id: 2 });
    setSession({ access: bob, refresh: "r3" });
    expect(first.closedByClient).not.toBeNull();
    expect(FakeWebSocket.instances).toHaveLength(2);
    expect(FakeWebSocket.last.token).toBe(bob);
  });

  it("waits for a login when there is no session", () => {
    const socket = makeSocket();
    socket.subscribe(["EURUSD"], vi.fn());
    expect(FakeWebSocket.instances).toHaveLength(0);
    expect(socket.getStatus()).toMatchObject({ state: "closed", error: "Not logged in." });
    setSession({ access: accessToken(300), refresh: "r1" });
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("pings a silent connection, then drops and reconnects it", async () => {
    setSession({ access: accessToken(3600), refresh: "r1" });
    const socket = makeSocket({ idleTimeoutMs: 40_000 });
    socket.subscribe(["EURUSD"], vi.fn());
    const ws = FakeWebSocket.last;
    ws.accept();

    await vi.advanceTimersByTimeAsync(19_999);
    expect(ws.sentActions("ping")).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.sentActions("ping")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(ws.closedByClient).not.toBeNull();
    expect(socket.getStatus()).toMatchObject({ state: "closed", attempt: 1, error: "No data from the price server." });
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it("closes a while after the last subscriber leaves, unless someone resubscribes", async () => {
    setSession({ access: accessToken(3600), refresh: "r1" });
    const socket = makeSocket({ lingerMs: 5_000 });
    const statuses: string[] = [];
    socket.onStatusChange(() => statuses.push(socket.getStatus().state));
    const off = socket.subscribe(["EURUSD"], vi.fn());
    const ws = FakeWebSocket.last;
    ws.accept();

    off();
    await vi.advanceTimersByTimeAsync(4_000);
    const offAgain = socket.subscribe(["EURUSD"], vi.fn()); // e.g. Overview → Market watch
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ws.closedByClient).toBeNull();
    expect(FakeWebSocket.instances).toHaveLength(1);

    offAgain();
    await vi.advanceTimersByTimeAsync(4_999);
    expect(ws.closedByClient).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(ws.closedByClient).not.toBeNull();
    expect(socket.getStatus().state).toBe("closed");
    expect(statuses).toEqual(["connecting", "open", "closed"]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it("reports server errors to subscribers", () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = makeSocket();
    const onError = vi.fn();
    socket.subscribe(["NOPE"], vi.fn(), { onError });
    FakeWebSocket.last.accept();
    FakeWebSocket.last.receive({ type: "error", error: { code: "unknown_symbol", message: "Unknown symbol NOPE." } });
    expect(onError).toHaveBeenCalledWith({ code: "unknown_symbol", message: "Unknown symbol NOPE." });
    expect(socket.getStatus()).toMatchObject({ state: "open", error: "Unknown symbol NOPE." });
  });
});

describe("getPricesSocket", () => {
  afterEach(() => {
    resetPricesSocket();
  });

  it("is one shared instance until reset, using the global WebSocket and this page's host", () => {
    FakeWebSocket.install();
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = getPricesSocket();
    expect(getPricesSocket()).toBe(socket);
    socket.subscribe(["EURUSD"], vi.fn());
    expect(FakeWebSocket.last.url.startsWith(`ws://${window.location.host}/ws/prices/?token=`)).toBe(true);

    resetPricesSocket();
    expect(FakeWebSocket.last.closedByClient).not.toBeNull();
    expect(getPricesSocket()).not.toBe(socket);
  });
});
