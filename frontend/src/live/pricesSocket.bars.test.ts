import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { LiveBar } from "../api/types";
import { setSession } from "../auth/session";
import { FakeWebSocket } from "../test/fakeWebSocket";
import { accessToken } from "../test/helpers";
import { PricesSocket } from "./pricesSocket";

let sockets: PricesSocket[] = [];

function makeSocket(): PricesSocket {
  const socket = new PricesSocket({
    url: () => "ws://test.local/ws/prices/",
    createSocket: (url) => new FakeWebSocket(url),
    random: () => 0.5,
  });
  sockets.push(socket);
  return socket;
}

function bar(extra: Partial<LiveBar> = {}): LiveBar {
  return {
    type: "bar",
    symbol: "EURUSD",
    timeframe: "H1",
    time: "2024-06-03T10:00:00Z",
    ts: Date.parse("2024-06-03T10:00:00Z"),
    open: "1.10000",
    high: "1.10100",
    low: "1.09900",
    close: "1.10050",
    closed: false,
    ...extra,
  };
}

describe("PricesSocket bars and imports", () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeWebSocket.reset();
    sockets = [];
    setSession({ access: accessToken(300), refresh: "r1" });
  });

  afterEach(() => {
    for (const socket of sockets) socket.dispose();
    vi.useRealTimers();
  });

  it("subscribes a symbol's timeframe and delivers its snapshot bar and live bars only", () => {
    const socket = makeSocket();
    const onBar = vi.fn();
    socket.subscribeBars("eurusd", "H1", onBar);
    const ws = FakeWebSocket.last;
    ws.accept();
    expect(ws.messages).toEqual([{ action: "subscribe", symbols: ["EURUSD"], timeframes: ["H1"] }]);

    ws.receive({ type: "snapshot", quotes: [], bars: [bar(), bar({ timeframe: "M1" })], instruments: [] });
    expect(onBar).toHaveBeenCalledTimes(1);
    ws.receive(bar({ close: "1.10060" }));
    ws.receive(bar({ symbol: "GBPUSD" }));
    ws.receive(bar({ timeframe: "M5" }));
    expect(onBar).toHaveBeenCalledTimes(2);
    expect(onBar.mock.calls[1]![0]).toMatchObject({ close: "1.10060" });
  });

  it("leaving a timeframe resubscribes the symbol with what is still wanted (ticks stay)", () => {
    const socket = makeSocket();
    const onTick = vi.fn();
    socket.subscribe(["EURUSD"], onTick);
    const stopH1 = socket.subscribeBars("EURUSD", "H1", vi.fn());
    socket.subscribeBars("EURUSD", "M1", vi.fn());
    const ws = FakeWebSocket.last;
    ws.accept();
    expect(ws.messages).toEqual([
      { action: "subscribe", symbols: ["EURUSD"], timeframes: [] },
      { action: "subscribe", symbols: ["EURUSD"], timeframes: ["H1", "M1"] },
    ]);
    ws.sent.length = 0;
    stopH1();
    expect(ws.messages).toEqual([
      { action: "unsubscribe", symbols: ["EURUSD"] },
      { action: "subscribe", symbols: ["EURUSD"], timeframes: [] },
      { action: "subscribe", symbols: ["EURUSD"], timeframes: ["M1"] },
    ]);
  });

  it("tick listeners leaving keep a symbol whose bars are wanted", () => {
    const socket = makeSocket();
    const stopTicks = socket.subscribe(["EURUSD"], vi.fn());
    socket.subscribeBars("EURUSD", "H1", vi.fn());
    const ws = FakeWebSocket.last;
    ws.accept();
    ws.sent.length = 0;
    stopTicks();
    expect(ws.sentActions("unsubscribe")).toEqual([]);
  });

  it("watches an import, re-sends the watch after a reconnect and routes progress by id", () => {
    const socket = makeSocket();
    const onProgress = vi.fn();
    socket.watchImport(12, onProgress);
    const first = FakeWebSocket.last;
    first.accept();
    expect(first.messages).toEqual([{ action: "watch_import", id: 12 }]);
    first.receive({ type: "import", id: 12, status: "running", progress: 0.5, accepted: 1, duplicates: 0, rejected: 0, error: "" });
    first.receive({ type: "import", id: 13, status: "running", progress: 0.5, accepted: 1, duplicates: 0, rejected: 0, error: "" });
    expect(onProgress).toHaveBeenCalledTimes(1);

    first.serverClose();
    vi.advanceTimersByTime(20_000);
    const second = FakeWebSocket.last;
    expect(second).not.toBe(first);
    second.accept();
    expect(second.messages).toEqual([{ action: "watch_import", id: 12 }]);
  });
});
