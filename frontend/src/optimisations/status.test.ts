import { describe, expect, it } from "vitest";
import type { Optimisation } from "../api/types";
import {
  applyOptimisationEvent,
  expectedTrials,
  isOptimisationPush,
  mergeOptimisation,
  nextTrialSort,
  orderingParam,
} from "./status";

const ROW = {
  id: 3,
  status: "running",
  progress: 0.2,
  trials_done: 4,
  best_value: null,
  method: "grid",
  trials_wanted: 50,
  space: { fast: { min: 5, max: 15, step: 5, kind: "int" }, slow: { values: [30, 40] } },
  walk_forward: { mode: "rolling", in_sample_days: 120, out_of_sample_days: 60 },
} as unknown as Optimisation;

describe("optimisation pushes", () => {
  it("recognises them", () => {
    expect(isOptimisationPush({ type: "optimisation", id: 3, status: "running", progress: 0.1 })).toBe(true);
    expect(isOptimisationPush({ type: "optimisation", id: 3, status: "weird", progress: 0.1 } as never)).toBe(false);
    expect(isOptimisationPush({ type: "backtest", id: 3, status: "running", progress: 0.1 } as never)).toBe(false);
  });

  it("move progress and trials forward, never back", () => {
    const next = applyOptimisationEvent(ROW, { type: "optimisation", id: 3, status: "running", progress: 0.5, trials_done: 9 });
    expect(next).toMatchObject({ progress: 0.5, trials_done: 9 });
    const late = applyOptimisationEvent(next, { type: "optimisation", id: 3, status: "running", progress: 0.3, trials_done: 6 });
    expect(late).toMatchObject({ progress: 0.5, trials_done: 9 });
    const done = applyOptimisationEvent(late, { type: "optimisation", id: 3, status: "done", progress: 0.99, best_value: 1.7 });
    expect(done).toMatchObject({ status: "done", progress: 1, best_value: 1.7 });
    expect(applyOptimisationEvent(done, { type: "optimisation", id: 3, status: "running", progress: 0.4 })).toBe(done);
    expect(applyOptimisationEvent(ROW, { type: "optimisation", id: 4, status: "done", progress: 1 })).toBe(ROW);
  });

  it("keep a fetch that answers behind a push from moving the row back", () => {
    const held = { ...ROW, status: "done", progress: 1, trials_done: 40, best_value: 2 } as Optimisation;
    expect(mergeOptimisation(held, { ...ROW, trials_done: 12 })).toMatchObject({ status: "done", progress: 1, trials_done: 40, best_value: 2 });
    expect(mergeOptimisation(ROW, { ...ROW, trials_done: 2 }).trials_done).toBe(4);
  });
});

describe("the trials' sort", () => {
  it("asks the server for the column, best first for figures", () => {
    const start = { key: "value" as const, descending: true };
    expect(orderingParam(start)).toBe("-value");
    expect(orderingParam(nextTrialSort(start, "value"))).toBe("value");
    expect(orderingParam(nextTrialSort(start, "number"))).toBe("number");
    expect(orderingParam(nextTrialSort(start, "metrics__sharpe"))).toBe("-metrics__sharpe");
  });

  it("knows how many trials a grid runs (and one out-of-sample test per window)", () => {
    expect(expectedTrials(ROW, 4)).toBe(3 * 2 * 4 + 4);
    expect(expectedTrials({ ...ROW, walk_forward: null }, 1)).toBe(6);
    expect(expectedTrials({ ...ROW, method: "random", trials_wanted: 20, walk_forward: null }, 1)).toBe(20);
  });
});
