/**
 * `/ws/trading/` → the optimisations page's caches. An `optimisation` push
 * moves the row of its id in the list and in its detail (status, progress,
 * trials done) and refetches its trials (the table page and the full set
 * behind the heatmap and the live windows), throttled. When it ends, the
 * detail is refetched for the result (windows, stitched equity). After a
 * (re)connect everything is refetched.
 */
import type { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queries";
import type { Optimisation, OptimisationDetail, OptimisationPushEvent, TradingEvent } from "../api/types";
import { isActive } from "../backtests/status";
import { applyOptimisationEvent, isOptimisationPush } from "../optimisations/status";
import { ThrottledRefetch } from "./throttledRefetch";

export class OptimisationCacheSync {
  private readonly queryClient: QueryClient;
  private readonly refetch: ThrottledRefetch;

  constructor(queryClient: QueryClient, throttleMs?: number) {
    this.queryClient = queryClient;
    this.refetch = new ThrottledRefetch(queryClient, throttleMs);
  }

  apply(events: readonly TradingEvent[]): void {
    for (const event of events) {
      if (isOptimisationPush(event)) this.onOptimisation(event);
    }
  }

  resync(): void {
    void this.queryClient.invalidateQueries({ queryKey: queryKeys.optimisations });
  }

  dispose(): void {
    this.refetch.dispose();
  }

  private onOptimisation(event: OptimisationPushEvent): void {
    const qc = this.queryClient;
    const list = qc.getQueryData<Optimisation[]>(queryKeys.optimisationList);
    if (list) {
      if (list.some((row) => row.id === event.id)) {
        qc.setQueryData<Optimisation[]>(queryKeys.optimisationList, (rows) =>
          rows?.map((row) => (row.id === event.id ? applyOptimisationEvent(row, event) : row)),
        );
      } else {
        this.refetch.ask(queryKeys.optimisationList);
      }
    }
    const key = queryKeys.optimisation(event.id);
    const detail = qc.getQueryData<OptimisationDetail>(key);
    const ends = !isActive(event.status) && (!detail || isActive(detail.status));
    if (detail) qc.setQueryData<OptimisationDetail>(key, (row) => (row ? applyOptimisationEvent(row, event) : row));
    // Finished trials: the table, the heatmap and the windows move on.
    this.refetch.ask(queryKeys.trials(event.id));
    if (ends) void qc.invalidateQueries({ queryKey: key });
  }
}
