import { describe, expect, it } from "vitest";
import type { BacktestTrade } from "../api/types";
import { nextSort, numberTrades, pageOf, sortTrades } from "./trades";

const trade = (net: number, entry: string, side = "long"): BacktestTrade => ({
  symbol: "EURUSD",
  side,
  lots: 1,
  units: 100000,
  entry_time: entry,
  entry_price: 1.1,
  exit_time: entry,
  exit_price: 1.1,
  gross_pnl: net,
  commission: 0,
  swap: 0,
  net_pnl: net,
  reason: "signal",
  bars: 3,
});

describe("trade list", () => {
  const rows = numberTrades([
    trade(10, "2024-01-03T00:00:00Z"),
    trade(-5, "2024-01-01T00:00:00Z", "short"),
    trade(10, "2024-01-02T00:00:00Z"),
  ]);

  it("sorts by a column either way, ties in the backtest's order", () => {
    expect(sortTrades(rows, "net_pnl", "desc").map((t) => t.index)).toEqual([1, 3, 2]);
    expect(sortTrades(rows, "net_pnl", "asc").map((t) => t.index)).toEqual([2, 1, 3]);
    expect(sortTrades(rows, "entry_time", "asc").map((t) => t.index)).toEqual([2, 3, 1]);
    expect(sortTrades(rows, "side", "desc").map((t) => t.side)).toEqual(["short", "long", "long"]);
    expect(rows.map((t) => t.index)).toEqual([1, 2, 3]); // not in place
  });

  it("flips the same column; a new number column starts with the biggest", () => {
    expect(nextSort({ key: "index", direction: "asc" }, "index", true)).toEqual({ key: "index", direction: "desc" });
    expect(nextSort({ key: "index", direction: "asc" }, "net_pnl", true)).toEqual({ key: "net_pnl", direction: "desc" });
    expect(nextSort({ key: "index", direction: "asc" }, "symbol", false)).toEqual({ key: "symbol", direction: "asc" });
  });

  it("pages", () => {
    const many = Array.from({ length: 120 }, (_, i) => i);
    expect(pageOf(many, 1, 50)).toMatchObject({ page: 1, pages: 3, from: 1, to: 50 });
    expect(pageOf(many, 3, 50)).toMatchObject({ page: 3, from: 101, to: 120 });
    expect(pageOf(many, 9, 50).page).toBe(3);
    expect(pageOf([], 1, 50)).toMatchObject({ page: 1, pages: 1, from: 0, to: 0, rows: [] });
  });
});
