import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { QueryClient } from "@tanstack/react-query";
import { queryKeys } from "../api/queries";
import type { Deployment, Optimisation, OptimisationDetail, TradingEvent } from "../api/types";
import { DeploymentCacheSync } from "./deploymentCache";
import { OptimisationCacheSync } from "./optimisationCache";

const OPT = { id: 3, status: "running", progress: 0.1, trials_done: 1, best_value: null } as unknown as Optimisation;
const DEP = { id: 4, status: "running", bars_seen: 100, progress: 0.1, error: "", mode: "replay" } as Deployment;

function invalidated(qc: QueryClient) {
  const spy = vi.spyOn(qc, "invalidateQueries");
  return () => spy.mock.calls.map((c) => JSON.stringify(c[0]?.queryKey));
}

describe("optimisation pushes in the caches", () => {
  let qc: QueryClient;
  beforeEach(() => {
    vi.useFakeTimers();
    qc = new QueryClient();
  });
  afterEach(() => vi.useRealTimers());

  it("move the list and the detail and refetch the trials once per burst", () => {
    qc.setQueryData(queryKeys.optimisationList, [OPT]);
    qc.setQueryData(queryKeys.optimisation(3), { ...OPT, result: {} });
    const calls = invalidated(qc);
    const sync = new OptimisationCacheSync(qc, 100);
    for (let i = 2; i <= 6; i++) sync.apply([{ type: "optimisation", id: 3, status: "running", progress: i / 10, trials_done: i } as TradingEvent]);
    expect(qc.getQueryData<Optimisation[]>(queryKeys.optimisationList)![0]).toMatchObject({ progress: 0.6, trials_done: 6 });
    expect(qc.getQueryData<OptimisationDetail>(queryKeys.optimisation(3))).toMatchObject({ progress: 0.6, trials_done: 6 });
    expect(calls()).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(calls()).toEqual([JSON.stringify(queryKeys.trials(3))]);
  });

  it("refetch the detail for its result when it ends, and the list for an unknown one", () => {
    qc.setQueryData(queryKeys.optimisationList, [OPT]);
    qc.setQueryData(queryKeys.optimisation(3), { ...OPT, result: {} });
    const calls = invalidated(qc);
    const sync = new OptimisationCacheSync(qc, 100);
    sync.apply([{ type: "optimisation", id: 3, status: "done", progress: 1, best_value: 1.5 } as TradingEvent]);
    expect(calls()).toContain(JSON.stringify(queryKeys.optimisation(3)));
    sync.apply([{ type: "optimisation", id: 8, status: "running", progress: 0 } as TradingEvent]);
    vi.advanceTimersByTime(100);
    expect(calls()).toContain(JSON.stringify(queryKeys.optimisationList));
  });
});

describe("deployment pushes in the caches", () => {
  let qc: QueryClient;
  beforeEach(() => {
    vi.useFakeTimers();
    qc = new QueryClient();
  });
  afterEach(() => vi.useRealTimers());

  it("move the row and refetch its orders and P&L", () => {
    qc.setQueryData(queryKeys.deploymentList, [DEP]);
    qc.setQueryData(queryKeys.deployment(4), DEP);
    const calls = invalidated(qc);
    const sync = new DeploymentCacheSync(qc, 100);
    sync.apply([{ type: "deployment", id: 4, status: "running", bars_seen: 300, progress: 0.3, orders: [11] } as TradingEvent]);
    expect(qc.getQueryData<Deployment[]>(queryKeys.deploymentList)![0]).toMatchObject({ bars_seen: 300, progress: 0.3 });
    expect(qc.getQueryData<Deployment>(queryKeys.deployment(4))).toMatchObject({ bars_seen: 300 });
    vi.advanceTimersByTime(100);
    expect(calls().sort()).toEqual([JSON.stringify(queryKeys.deploymentOrders(4)), JSON.stringify(queryKeys.deploymentPerformance(4))].sort());
  });

  it("refetch a deployment's orders on its order and fill events, not on others'", () => {
    const calls = invalidated(qc);
    const sync = new DeploymentCacheSync(qc, 100);
    sync.apply([
      { type: "order", id: 1, account: 1, source_ref: "deployment:4" } as unknown as TradingEvent,
      { type: "order", id: 2, account: 1, source_ref: "" } as unknown as TradingEvent,
    ]);
    vi.advanceTimersByTime(100);
    expect(calls()).toContain(JSON.stringify(queryKeys.deploymentOrders(4)));
    expect(calls()).toHaveLength(2);
  });

  it("refetch the detail when the status changes (its error and last bar are not pushed)", () => {
    qc.setQueryData(queryKeys.deployment(4), DEP);
    const calls = invalidated(qc);
    const sync = new DeploymentCacheSync(qc, 100);
    sync.apply([{ type: "deployment", id: 4, status: "stopped", bars_seen: 100, progress: 0.1 } as TradingEvent]);
    expect(qc.getQueryData<Deployment>(queryKeys.deployment(4))!.status).toBe("stopped");
    vi.advanceTimersByTime(100);
    expect(calls()).toContain(JSON.stringify(queryKeys.deployment(4)));
    sync.dispose();
  });
});
