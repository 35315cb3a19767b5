import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TradingEvent } from "../api/types";
import { clearSession, setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken, jsonResponse, mockFetch } from "../test/helpers";
import { CLOSE_UNAUTHENTICATED } from "./liveSocket";
import { extractEvents, getTradingSocket, resetTradingSocket, TradingSocket, type TradingSocketOptions } from "./tradingSocket";

const URL_BASE = "ws://test.local/ws/trading/";

const orderEvent = {
  type: "order",
  id: 12,
  account: 3,
  client_order_id: "ui-1",
  symbol: "EURUSD",
  side: "buy",
  order_type: "market",
  quantity: "1.00",
  filled_quantity: "0.00",
  price: null,
  stop_price: null,
  status: "accepted",
  reject_code: "",
  reject_reason: "",
};
const fillEvent = { type: "fill", id: 5, account: 3, order: 12, symbol: "EURUSD", side: "buy", quantity: "1.00", price: "1.10010", commission: "0E-8", swap: "0E-8", realized_pnl: "0E-8", time: "2024-06-03T12:00:00Z" };

let sockets: TradingSocket[] = [];

function makeSocket(options: TradingSocketOptions = {}): TradingSocket {
  const socket = new TradingSocket({
    url: () => URL_BASE,
    createSocket: (url) => new FakeWebSocket(url),
    random: () => 0.5,
    ...options,
  });
  sockets.push(socket);
  return socket;
}

describe("extractEvents", () => {
  it("reads single events and batch envelopes, and skips control messages", () => {
    expect(extractEvents(orderEvent)).toEqual([orderEvent]);
    expect(extractEvents({ type: "trading.events", events: [orderEvent, fillEvent, { type: "pong" }, null, 3] })).toEqual([
      orderEvent,
      fillEvent,
    ]);
    expect(extractEvents({ events: [fillEvent] })).toEqual([fillEvent]);
    for (const control of ["welcome", "pong", "heartbeat", "error"]) expect(extractEvents({ type: control })).toEqual([]);
    expect(extractEvents({ type: "risk", account: 3, message: "Daily loss limit hit" })).toHaveLength(1);
    expect(extractEvents({ nothing: true })).toEqual([]);
  });
});

describe("TradingSocket", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
    sockets = [];
  });

  afterEach(() => {
    for (const socket of sockets) socket.dispose();
    vi.useRealTimers();
  });

  it("connects with the session's token, tells listeners when welcomed and delivers each message's events together", () => {
    const access = accessToken(300);
    setSession({ access, refresh: "r1" });
    const socket = makeSocket();
    const onEvents = vi.fn<(events: TradingEvent[]) => void>();
    const onOpen = vi.fn();
    socket.subscribe({ onEvents, onOpen });
    expect(socket.getStatus().state).toBe("connecting");
    const ws = FakeWebSocket.last;
    expect(ws.url.startsWith(`${URL_BASE}?token=`)).toBe(true);
    expect(ws.token).toBe(access);

    ws.accept();
    expect(socket.getStatus()).toEqual({ state: "open", attempt: 0, retryAt: null, error: null });
    expect(onOpen).toHaveBeenCalledTimes(1);
    expect(ws.sent).toEqual([]); // nothing to subscribe: the server pushes the user's events

    ws.receive(orderEvent);
    ws.receive({ type: "events", events: [fillEvent, orderEvent] });
    ws.receive({ type: "pong" });
    expect(onEvents.mock.calls).toEqual([[[orderEvent]], [[fillEvent, orderEvent]]]);
  });

  it("reconnects with backoff after a drop and says so, so missed events are refetched", async () => {
    setSession({ access: accessToken(3600), refresh: "r1" });
    const socket = makeSocket();
    const onOpen = vi.fn();
    socket.subscribe({ onOpen });
    FakeWebSocket.last.accept();

    FakeWebSocket.last.serverClose(1006);
    // Attempts that never get a welcome keep backing off: 375, 750, 1500 ms with this jitter.
    for (const [i, delay] of [375, 750, 1500].entries()) {
      expect(socket.getStatus()).toMatchObject({ state: "closed", attempt: i + 1, retryAt: Date.now() + delay });
      const count = FakeWebSocket.instances.length;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(FakeWebSocket.instances).toHaveLength(count);
      await vi.advanceTimersByTimeAsync(1);
      expect(FakeWebSocket.instances).toHaveLength(count + 1);
      if (i < 2) FakeWebSocket.last.serverClose(1006);
    }
    FakeWebSocket.last.accept();
    expect(onOpen).toHaveBeenCalledTimes(2);
    expect(socket.getStatus()).toEqual({ state: "open", attempt: 0, retryAt: null, error: null });

    // The welcome reset the backoff.
    FakeWebSocket.last.serverClose(1011, "server restart");
    expect(socket.getStatus()).toMatchObject({ state: "closed", attempt: 1, error: "server restart", retryAt: Date.now() + 375 });
  });

  it("refreshes the token after a 4401 close", async () => {
    setSession({ access: accessToken(3600, { jti: "revoked" }), refresh: "r1" });
    const fresh = accessToken(3600, { jti: "fresh" });
    const fetch = mockFetch(() => jsonResponse(200, { access: fresh, refresh: "r2" }));
    const socket = makeSocket();
    socket.subscribe({});
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(CLOSE_UNAUTHENTICATED);
    expect(socket.getStatus()).toMatchObject({ state: "closed", error: "Not authenticated." });
    await vi.advanceTimersByTimeAsync(375);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(FakeWebSocket.last.token).toBe(fresh);
  });

  it("pings a quiet connection (the server sends no heartbeat) and keeps it while pongs come back", async () => {
    setSession({ access: accessToken(3600), refresh: "r1" });
    const socket = makeSocket({ idleTimeoutMs: 40_000 });
    socket.subscribe({});
    const ws = FakeWebSocket.last;
    ws.accept();
    for (let i = 1; i <= 3; i++) {
      await vi.advanceTimersByTimeAsync(20_000);
      expect(ws.sentActions("ping")).toHaveLength(i);
      ws.receive({ type: "pong" });
    }
    expect(ws.closedByClient).toBeNull();

    // No pong: dropped and reconnected.
    await vi.advanceTimersByTimeAsync(40_000);
    expect(ws.closedByClient).not.toBeNull();
    expect(socket.getStatus()).toMatchObject({ state: "closed", error: "No data from the trading server." });
    await vi.advanceTimersByTimeAsync(375);
    expect(FakeWebSocket.instances).toHaveLength(2);
  });

  it("closes on logout, reconnects on login, and closes a while after the last listener leaves", async () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = makeSocket({ lingerMs: 5_000 });
    const off = socket.subscribe({});
    FakeWebSocket.last.accept();

    clearSession("logged_out");
    expect(FakeWebSocket.last.closedByClient).not.toBeNull();
    expect(socket.getStatus()).toMatchObject({ state: "closed", error: "Logged out." });
    setSession({ access: accessToken(300, { jti: "again" }), refresh: "r2" });
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last.accept();

    off();
    off(); // idempotent
    await vi.advanceTimersByTimeAsync(4_999);
    expect(FakeWebSocket.last.closedByClient).toBeNull();
    await vi.advanceTimersByTimeAsync(1);
    expect(FakeWebSocket.last.closedByClient).not.toBeNull();
    expect(socket.getStatus().state).toBe("closed");
  });

  it("reports server errors to listeners", () => {
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = makeSocket();
    const onError = vi.fn();
    socket.subscribe({ onError });
    FakeWebSocket.last.accept();
    FakeWebSocket.last.receive({ type: "error", error: { code: "unknown_message", message: "Unknown message type 'x'." } });
    expect(onError).toHaveBeenCalledWith({ code: "unknown_message", message: "Unknown message type 'x'." });
    expect(socket.getStatus().error).toBe("Unknown message type 'x'.");
  });
});

describe("getTradingSocket", () => {
  afterEach(() => resetTradingSocket());

  it("is one shared instance on this page's host until reset", () => {
    FakeWebSocket.install();
    setSession({ access: accessToken(300), refresh: "r1" });
    const socket = getTradingSocket();
    expect(getTradingSocket()).toBe(socket);
    socket.subscribe({});
    expect(FakeWebSocket.last.url.startsWith(`ws://${window.location.host}/ws/trading/?token=`)).toBe(true);
    resetTradingSocket();
    expect(FakeWebSocket.last.closedByClient).not.toBeNull();
    expect(getTradingSocket()).not.toBe(socket);
  });
});
