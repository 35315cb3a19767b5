import { describe, expect, it } from "vitest";
import type { Backtest, BacktestPushEvent } from "../api/types";
import { applyBacktestEvent, isActive, isBacktestPush, mergeBacktest, mergeBacktestList, progressView } from "./status";

const ROW: Backtest = {
  id: 5,
  strategy: "sma_cross",
  saved_strategy: null,
  params: { fast: 10, slow: 20 },
  symbols: ["EURUSD"],
  timeframe: "H1",
  start: "2024-01-01T00:00:00Z",
  end: "2024-12-31T00:00:00Z",
  settings: {},
  path: "auto",
  status: "queued",
  progress: 0,
  cancel_requested: false,
  error: "",
  error_code: "",
  path_used: "",
  bars: 0,
  seconds: null,
  metrics: {},
  created_at: "2024-06-01T12:00:00Z",
  started_at: null,
  finished_at: null,
};

const push = (status: BacktestPushEvent["status"], progress: number, extra: Partial<BacktestPushEvent> = {}): BacktestPushEvent => ({
  type: "backtest",
  id: 5,
  status,
  progress,
  ...extra,
});

/** Replay pushes on a row (what the page shows after each). */
const replay = (row: Backtest, events: BacktestPushEvent[]) => {
  const seen: string[] = [];
  for (const e of events) {
    row = applyBacktestEvent(row, e);
    seen.push(progressView(row).label);
  }
  return { row, seen };
};

describe("progress from the socket's backtest events", () => {
  it("follows a run from queued to done, with the metrics of the last push", () => {
    const { row, seen } = replay(ROW, [
      push("running", 0),
      push("running", 0.25),
      push("running", 0.5),
      push("done", 1, { metrics: { total_return: 0.12, trades: 40 } }),
    ]);
    expect(seen).toEqual(["Running 0%", "Running 25%", "Running 50%", "Done"]);
    expect(row).toMatchObject({ status: "done", progress: 1, metrics: { total_return: 0.12, trades: 40 } });
  });

  it("never moves back: a late push, a shrinking progress, a second end", () => {
    const { row, seen } = replay(ROW, [
      push("running", 0.6),
      push("running", 0.4),
      push("queued", 0),
      push("failed", 0.6),
      push("done", 1),
      push("running", 0.9),
    ]);
    expect(seen).toEqual(["Running 60%", "Running 60%", "Running 60%", "Failed", "Failed", "Failed"]);
    expect(row.status).toBe("failed");
  });

  it("ignores pushes about another backtest and clamps nonsense", () => {
    expect(applyBacktestEvent(ROW, { ...push("running", 0.5), id: 6 })).toBe(ROW);
    expect(applyBacktestEvent(ROW, push("running", 7)).progress).toBe(1);
    expect(applyBacktestEvent(ROW, push("running", Number.NaN)).progress).toBe(0);
  });

  it("says so while cancelling", () => {
    expect(progressView({ status: "running", progress: 0.333, cancel_requested: true }).label).toBe("Cancelling… 33%");
    expect(progressView({ status: "queued", progress: 0, cancel_requested: false })).toEqual({
      status: "queued",
      percent: 0,
      label: "Queued: waiting for a worker…",
      active: true,
    });
    expect(progressView({ status: "cancelled", progress: 0.4, cancel_requested: true }).active).toBe(false);
  });

  it("recognises backtest pushes among the trading events", () => {
    expect(isBacktestPush({ type: "backtest", id: 1, status: "running", progress: 0.1 })).toBe(true);
    expect(isBacktestPush({ type: "backtest", id: 1, status: "weird", progress: 0.1 })).toBe(false);
    expect(isBacktestPush({ type: "risk", id: 1 } as never)).toBe(false);
    expect(isActive("queued") && isActive("running") && !isActive("done")).toBe(true);
  });
});

describe("a fetch answering after a push", () => {
  it("keeps the push's status and progress when the fetch is behind", () => {
    const held: Backtest = { ...ROW, status: "running", progress: 0.7 };
    expect(mergeBacktest(held, { ...ROW, status: "queued" })).toMatchObject({ status: "running", progress: 0.7 });
    expect(mergeBacktest(held, { ...ROW, status: "running", progress: 0.5 }).progress).toBe(0.7);
    const fetched: Backtest = { ...ROW, status: "done", progress: 1, bars: 6000 };
    expect(mergeBacktest(held, fetched)).toBe(fetched);
  });

  it("merges a list row by row", () => {
    const held: Backtest[] = [{ ...ROW, status: "running", progress: 0.7 }];
    const fetched: Backtest[] = [{ ...ROW, id: 6 }, { ...ROW, status: "running", progress: 0.2 }];
    expect(mergeBacktestList(held, fetched).map((r) => [r.id, r.progress])).toEqual([
      [6, 0],
      [5, 0.7],
    ]);
  });
});
