/**
 * `/ws/trading/` → the backtests page's TanStack Query caches.
 *
 * A `backtest` push moves the row of its id in the list and in its detail at
 * once (status, progress and, at the end, the metrics). When a backtest
 * ends, its detail is refetched for the curve, monthly returns and trades;
 * a push about a backtest the list does not hold yet (one started in
 * another tab) refetches the list. After a (re)connect everything is
 * refetched, as pushes sent while the socket was down are not replayed.
 */
import type { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queries";
import type { Backtest, BacktestDetail, BacktestPushEvent, TradingEvent } from "../api/types";
import { applyBacktestEvent, isActive, isBacktestPush, withoutResults } from "../backtests/status";

export class BacktestCacheSync {
  private readonly queryClient: QueryClient;

  constructor(queryClient: QueryClient) {
    this.queryClient = queryClient;
  }

  /** Apply the events of one server message. */
  apply(events: readonly TradingEvent[]): void {
    for (const event of events) {
      if (isBacktestPush(event)) this.onBacktest(event);
    }
  }

  /** After (re)connecting: refetch everything the socket may have missed. */
  resync(): void {
    void this.queryClient.invalidateQueries({ queryKey: queryKeys.backtests });
  }

  private onBacktest(event: BacktestPushEvent): void {
    const qc = this.queryClient;
    const list = qc.getQueryData<Backtest[]>(queryKeys.backtestList);
    if (list) {
      if (list.some((row) => row.id === event.id)) {
        qc.setQueryData<Backtest[]>(queryKeys.backtestList, (rows) =>
          rows?.map((row) => (row.id === event.id ? applyBacktestEvent(row, event) : row)),
        );
      } else {
        void qc.invalidateQueries({ queryKey: queryKeys.backtestList });
      }
    }
    const key = queryKeys.backtest(event.id);
    const detail = qc.getQueryData<BacktestDetail>(key);
    if (detail) {
      const ends = isActive(detail.status) && !isActive(event.status);
      qc.setQueryData<BacktestDetail>(key, (row) => {
        if (!row) return row;
        const next = applyBacktestEvent(row, event);
        // Ended: its results are not here yet (loading, not empty) until the refetch.
        return ends && next !== row ? (withoutResults(next) as BacktestDetail) : next;
      });
      if (ends) void qc.invalidateQueries({ queryKey: key });
    } else if (!isActive(event.status)) {
      // Its first fetch may be in flight and answer "running": ask again.
      void qc.invalidateQueries({ queryKey: key });
    }
  }
}
