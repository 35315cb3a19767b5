import { describe, expect, it } from "vitest";
import type { Fill } from "../api/types";
import { BUY_COLOR, candleIndexAt, fillMarkers, SELL_COLOR } from "./markers";

const H = 3600;
const T0 = Date.parse("2024-06-03T10:00:00Z") / 1000;
const candles = [{ time: T0 }, { time: T0 + H }, { time: T0 + 2 * H }];

function fill(id: number, side: "buy" | "sell", iso: string, extra: Partial<Fill> = {}): Fill {
  return {
    id,
    account: 1,
    order: id,
    symbol: "EURUSD",
    side,
    quantity: "1.00000000",
    price: "1.1001000000",
    commission: "0",
    swap: "0",
    realized_pnl: "0",
    time: iso,
    ...extra,
  };
}

describe("candleIndexAt", () => {
  it("finds the bar whose open is the latest at or before the time", () => {
    expect(candleIndexAt(candles, T0 - 1)).toBe(-1);
    expect(candleIndexAt(candles, T0)).toBe(0);
    expect(candleIndexAt(candles, T0 + H - 1)).toBe(0);
    expect(candleIndexAt(candles, T0 + H)).toBe(1);
    expect(candleIndexAt(candles, T0 + 10 * H)).toBe(2);
    expect(candleIndexAt([], T0)).toBe(-1);
  });
});

describe("fillMarkers", () => {
  it("a buy is a green arrow under its bar, a sell a red one above, with lots and price", () => {
    const markers = fillMarkers(
      [fill(2, "sell", "2024-06-03T11:30:00Z", { quantity: "0.5", price: "1.10234" }), fill(1, "buy", "2024-06-03T10:15:00.500Z")],
      candles,
      "EURUSD",
      5,
    );
    expect(markers).toEqual([
      { id: "1", time: T0, position: "belowBar", shape: "arrowUp", color: BUY_COLOR, text: "B 1.00 @ 1.10010", side: "buy" },
      { id: "2", time: T0 + H, position: "aboveBar", shape: "arrowDown", color: SELL_COLOR, text: "S 0.50 @ 1.10234", side: "sell" },
    ]);
  });

  it("the open bar takes fills after its open; fills before the first bar, of other symbols or repeated are left out", () => {
    const markers = fillMarkers(
      [
        fill(1, "buy", "2024-06-03T13:59:59Z"),
        fill(1, "buy", "2024-06-03T13:59:59Z"),
        fill(2, "buy", "2024-06-03T09:59:59Z"),
        fill(3, "sell", "2024-06-03T12:00:00Z", { symbol: "GBPUSD" }),
        fill(4, "sell", "not a time"),
      ],
      candles,
      "EURUSD",
      5,
    );
    expect(markers.map((m) => [m.id, m.time])).toEqual([["1", T0 + 2 * H]]);
  });

  it("sorts by bar time, then fill id, and nothing without candles", () => {
    const fills = [fill(9, "buy", "2024-06-03T10:10:00Z"), fill(3, "sell", "2024-06-03T10:50:00Z"), fill(5, "buy", "2024-06-03T12:01:00Z")];
    expect(fillMarkers(fills, candles, "EURUSD", 5).map((m) => m.id)).toEqual(["3", "9", "5"]);
    expect(fillMarkers(fills, [], "EURUSD", 5)).toEqual([]);
  });
});
