import { QueryClient } from "@tanstack/react-query";
import { afterEach, describe, expect, it, vi } from "vitest";
import { queryKeys } from "../api/queries";
import type { Backtest, BacktestDetail } from "../api/types";
import { BacktestCacheSync } from "./backtestCache";
import { extractEvents } from "./tradingSocket";

const ROW: Backtest = {
  id: 5,
  strategy: "sma_cross",
  saved_strategy: null,
  params: {},
  symbols: ["EURUSD"],
  timeframe: "H1",
  start: "2024-01-01T00:00:00Z",
  end: "2024-12-31T00:00:00Z",
  settings: {},
  path: "auto",
  status: "running",
  progress: 0.1,
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
const DETAIL: BacktestDetail = { ...ROW, equity: [], monthly: [], notes: [], trades: [] };

function setup() {
  const qc = new QueryClient();
  qc.setQueryData(queryKeys.backtestList, [ROW, { ...ROW, id: 4, status: "done", progress: 1 }]);
  qc.setQueryData(queryKeys.backtest(5), DETAIL);
  const invalidate = vi.spyOn(qc, "invalidateQueries");
  return { qc, invalidate, sync: new BacktestCacheSync(qc) };
}

describe("backtest pushes into the page's caches", () => {
  afterEach(() => vi.restoreAllMocks());

  it("moves the list row and the detail at once, from single events and batches", () => {
    const { qc, sync, invalidate } = setup();
    sync.apply(extractEvents({ type: "backtest", id: 5, status: "running", progress: 0.4 }));
    expect(qc.getQueryData<Backtest[]>(queryKeys.backtestList)![0]!.progress).toBe(0.4);
    expect(qc.getQueryData<BacktestDetail>(queryKeys.backtest(5))!.progress).toBe(0.4);
    sync.apply(
      extractEvents({
        events: [
          { type: "order", id: 1 },
          { type: "backtest", id: 5, status: "running", progress: 0.8 },
        ],
      }),
    );
    expect(qc.getQueryData<BacktestDetail>(queryKeys.backtest(5))!.progress).toBe(0.8);
    expect(invalidate).not.toHaveBeenCalled();
  });

  it("at the end, takes the metrics and refetches the detail for the curve and trades", () => {
    const { qc, sync, invalidate } = setup();
    sync.apply([{ type: "backtest", id: 5, status: "done", progress: 1, metrics: { trades: 12 } }]);
    const detail = qc.getQueryData<BacktestDetail>(queryKeys.backtest(5))!;
    expect(detail).toMatchObject({ status: "done", progress: 1, metrics: { trades: 12 } });
    expect(detail.equity).toBeUndefined(); // results loading, not empty
    expect(qc.getQueryData<Backtest[]>(queryKeys.backtestList)![0]!.status).toBe("done");
    expect(invalidate).toHaveBeenCalledWith({ queryKey: queryKeys.backtest(5) });
  });

  it("refetches the list for a backtest it does not hold, and everything after a reconnect", () => {
    const { sync, invalidate } = setup();
    sync.apply([{ type: "backtest", id: 9, status: "running", progress: 0 }]);
    expect(invalidate).toHaveBeenCalledWith({ queryKey: queryKeys.backtestList });
    sync.resync();
    expect(invalidate).toHaveBeenCalledWith({ queryKey: queryKeys.backtests });
  });
});
