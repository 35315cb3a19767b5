/**
 * `/ws/trading/` → the deployments page's caches. A `deployment` push moves
 * its row in the list and its detail (status, bars seen, progress, error);
 * the orders it names, and every `order` or `fill` of a deployment's
 * (`source_ref` "deployment:<id>"), refetch that deployment's orders and
 * P&L, throttled. A push about a deployment the list does not hold (created
 * in another tab) refetches the list; a reconnect refetches everything.
 */
import type { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queries";
import type { Deployment, DeploymentPushEvent, TradingEvent } from "../api/types";
import { applyDeploymentEvent, deploymentOfRef, isDeploymentPush } from "../deployments/status";
import { ThrottledRefetch } from "./throttledRefetch";

export class DeploymentCacheSync {
  private readonly queryClient: QueryClient;
  private readonly refetch: ThrottledRefetch;

  constructor(queryClient: QueryClient, throttleMs?: number) {
    this.queryClient = queryClient;
    this.refetch = new ThrottledRefetch(queryClient, throttleMs);
  }

  apply(events: readonly TradingEvent[]): void {
    for (const event of events) {
      if (isDeploymentPush(event)) {
        this.onDeployment(event);
      } else if (event.type === "order" || event.type === "fill") {
        const id = deploymentOfRef((event as { source_ref?: unknown }).source_ref);
        if (id !== null) this.touch(id);
      }
    }
  }

  resync(): void {
    void this.queryClient.invalidateQueries({ queryKey: queryKeys.deployments });
  }

  dispose(): void {
    this.refetch.dispose();
  }

  /** Its orders and P&L moved. */
  private touch(id: number): void {
    this.refetch.ask(queryKeys.deploymentOrders(id));
    this.refetch.ask(queryKeys.deploymentPerformance(id));
  }

  private onDeployment(event: DeploymentPushEvent): void {
    const qc = this.queryClient;
    const list = qc.getQueryData<Deployment[]>(queryKeys.deploymentList);
    if (list) {
      if (list.some((row) => row.id === event.id)) {
        qc.setQueryData<Deployment[]>(queryKeys.deploymentList, (rows) =>
          rows?.map((row) => (row.id === event.id ? applyDeploymentEvent(row, event) : row)),
        );
      } else {
        this.refetch.ask(queryKeys.deploymentList);
      }
    }
    const key = queryKeys.deployment(event.id);
    const detail = qc.getQueryData<Deployment>(key);
    if (detail) {
      qc.setQueryData<Deployment>(key, (row) => (row ? applyDeploymentEvent(row, event) : row));
      // last_bar_at and the error's full text are not in the push.
      if (detail.status !== event.status || event.error) this.refetch.ask(key);
    }
    // Bars went by: its orders may have filled, its P&L moved.
    this.touch(event.id);
  }
}
