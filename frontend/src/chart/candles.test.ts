import { describe, expect, it } from "vitest";
import type { ApiBar, LiveBar } from "../api/types";
import { applyLiveBars } from "../live/useChartLive";
import { candlesFromApi, chartTime, diffCandles, isTimeframe, mergeLiveBar } from "./candles";

const H = 3600;
const T0 = Date.parse("2024-06-03T10:00:00Z") / 1000;

function apiBar(sec: number, o: string, h: string, l: string, c: string): ApiBar {
  return { time: new Date(sec * 1000).toISOString(), open: o, high: h, low: l, close: c, volume: 10, spread: "0.00010" };
}

function live(sec: number, o: string, h: string, l: string, c: string, closed = false): LiveBar {
  return {
    type: "bar",
    symbol: "EURUSD",
    timeframe: "H1",
    source: "sim",
    simulated: true,
    time: new Date(sec * 1000).toISOString(),
    ts: sec * 1000,
    open: o,
    high: h,
    low: l,
    close: c,
    volume: 5,
    closed,
  };
}

const history = () =>
  candlesFromApi([
    apiBar(T0, "1.10000", "1.10100", "1.09900", "1.10050"),
    apiBar(T0 + H, "1.10050", "1.10200", "1.10000", "1.10150"),
  ]);

describe("candlesFromApi", () => {
  it("parses prices, keeps time order and leaves the newest bar open", () => {
    const candles = history();
    expect(candles).toEqual([
      { time: T0, open: 1.1, high: 1.101, low: 1.099, close: 1.1005, volume: 10, closed: true },
      { time: T0 + H, open: 1.1005, high: 1.102, low: 1.1, close: 1.1015, volume: 10, closed: false },
    ]);
  });

  it("drops malformed and out-of-order rows", () => {
    const candles = candlesFromApi([
      apiBar(T0 + H, "1.1", "1.2", "1.0", "1.1"),
      apiBar(T0, "1.1", "1.2", "1.0", "1.1"),
      { ...apiBar(T0 + 2 * H, "x", "1.2", "1.0", "1.1") },
      { ...apiBar(T0 + 3 * H, "1.1", "1.2", "1.0", "1.1"), time: "garbage" },
    ]);
    expect(candles.map((c) => c.time)).toEqual([T0 + H]);
  });
});

describe("mergeLiveBar", () => {
  it("an update of the open bar replaces the last candle", () => {
    const candles = history();
    const { candles: next, kind } = mergeLiveBar(candles, live(T0 + H, "1.10050", "1.10300", "1.10000", "1.10250"));
    expect(kind).toBe("update");
    expect(next).toHaveLength(2);
    expect(next[1]).toMatchObject({ high: 1.103, close: 1.1025, closed: false });
    expect(next[0]).toBe(candles[0]); // untouched candles keep their identity
    expect(candles[1]!.close).toBe(1.1015); // never mutated
  });

  it("a closed message finalises the bar; a late open update of it is ignored", () => {
    const closed = mergeLiveBar(history(), live(T0 + H, "1.10050", "1.10300", "1.10000", "1.10200", true));
    expect(closed.kind).toBe("update");
    expect(closed.candles[1]!.closed).toBe(true);
    const late = mergeLiveBar(closed.candles, live(T0 + H, "1.10050", "1.10400", "1.10000", "1.10390"));
    expect(late.kind).toBe("ignore");
    expect(late.candles).toBe(closed.candles);
  });

  it("a bar with a later time starts a new candle and closes the previous one", () => {
    const candles = history();
    const { candles: next, kind } = mergeLiveBar(candles, live(T0 + 2 * H, "1.10150", "1.10150", "1.10150", "1.10150"));
    expect(kind).toBe("append");
    expect(next.map((c) => c.time)).toEqual([T0, T0 + H, T0 + 2 * H]);
    expect(next[1]!.closed).toBe(true);
    expect(next[2]!.closed).toBe(false);
  });

  it("a late close of an earlier bar replaces it in place", () => {
    const appended = mergeLiveBar(history(), live(T0 + 2 * H, "1.1015", "1.1015", "1.1015", "1.1015")).candles;
    const { candles: next, kind } = mergeLiveBar(appended, live(T0 + H, "1.10050", "1.10300", "1.10000", "1.10160", true));
    expect(kind).toBe("replace");
    expect(next[1]).toMatchObject({ close: 1.1016, closed: true });
    expect(next).toHaveLength(3);
  });

  it("ignores bars older than the series, unchanged repeats and malformed messages", () => {
    const candles = history();
    expect(mergeLiveBar(candles, live(T0 - H, "1.1", "1.1", "1.1", "1.1")).kind).toBe("ignore");
    const moved = mergeLiveBar(candles, live(T0 + H, "1.10050", "1.10200", "1.10000", "1.10170")).candles;
    expect(mergeLiveBar(moved, live(T0 + H, "1.10050", "1.10200", "1.10000", "1.10170")).kind).toBe("ignore");
    expect(mergeLiveBar(candles, { ...live(T0 + 2 * H, "1.1", "1.1", "1.1", "1.1"), close: "NaN" }).kind).toBe("ignore");
  });

  it("the first live bar of an empty series starts it", () => {
    const { candles, kind } = mergeLiveBar([], live(T0, "1.1", "1.1", "1.1", "1.1"));
    expect(kind).toBe("append");
    expect(candles).toHaveLength(1);
  });

  it("a batch of live bars applies in order", () => {
    const next = applyLiveBars(history(), [
      live(T0 + H, "1.10050", "1.10300", "1.10000", "1.10290"),
      live(T0 + H, "1.10050", "1.10300", "1.10000", "1.10280", true),
      live(T0 + 2 * H, "1.10280", "1.10290", "1.10270", "1.10285"),
    ]);
    expect(next.map((c) => [c.close, c.closed])).toEqual([
      [1.1005, true],
      [1.1028, true],
      [1.10285, false],
    ]);
  });
});

describe("diffCandles", () => {
  it("tells an update of the last candle, an append and anything else apart", () => {
    const candles = history();
    const updated = mergeLiveBar(candles, live(T0 + H, "1.1005", "1.103", "1.1", "1.1025")).candles;
    const appended = mergeLiveBar(updated, live(T0 + 2 * H, "1.1", "1.1", "1.1", "1.1")).candles;
    expect(diffCandles(candles, candles)).toBe("same");
    expect(diffCandles(candles, updated)).toBe("update");
    expect(diffCandles(updated, appended)).toBe("append");
    // The open bar moved, then the next one opened (one flush): the append redraws both.
    expect(diffCandles(candles, appended)).toBe("append");
    expect(diffCandles(candles, history())).toBe("reset"); // a new history
    expect(diffCandles([], candles)).toBe("reset");
    const replaced = mergeLiveBar(appended, live(T0 + H, "1.1005", "1.103", "1.1", "1.1020", true)).candles;
    expect(diffCandles(appended, replaced)).toBe("reset");
  });
});

describe("chartTime", () => {
  it("shifts UTC seconds to the zone's wall clock", () => {
    const summer = Date.parse("2024-06-03T10:00:00Z") / 1000;
    expect(chartTime(summer, "UTC")).toBe(summer);
    expect(chartTime(summer, "Europe/London")).toBe(summer + 3600);
    expect(chartTime(summer, "America/New_York")).toBe(summer - 4 * 3600);
  });
});

describe("isTimeframe", () => {
  it("knows the server's timeframes", () => {
    expect(isTimeframe("H1")).toBe(true);
    expect(isTimeframe("h1")).toBe(false);
    expect(isTimeframe(null)).toBe(false);
  });
});

