/**
 * An optimisation's progress from the REST rows and the `optimisation`
 * pushes of `/ws/trading/` (the same forward-only statuses as a backtest's;
 * the count of finished trials never shrinks).
 */
import type { Optimisation, OptimisationPushEvent, TradingEvent } from "../api/types";
import { applyRunEvent, mergeRun } from "../backtests/status";

const STATUSES = new Set(["queued", "running", "done", "failed", "cancelled"]);

export function isOptimisationPush(event: TradingEvent): event is TradingEvent & OptimisationPushEvent {
  const e = event as Partial<OptimisationPushEvent>;
  return e.type === "optimisation" && typeof e.id === "number" && typeof e.status === "string" && STATUSES.has(e.status);
}

export function applyOptimisationEvent<T extends Optimisation>(row: T, event: OptimisationPushEvent): T {
  return applyRunEvent(row, event, (next, e) => {
    const out = { ...next };
    if (typeof e.trials_done === "number") out.trials_done = Math.max(row.trials_done ?? 0, e.trials_done);
    if (typeof e.best_value === "number") out.best_value = e.best_value;
    return out;
  });
}

export function mergeOptimisation<T extends Optimisation>(held: T | undefined, fetched: T): T {
  const merged = mergeRun(held, fetched, (h) => ({ best_value: h.best_value }) as Partial<T>);
  const done = Math.max(held?.id === fetched.id ? (held.trials_done ?? 0) : 0, fetched.trials_done ?? 0);
  return done !== (merged.trials_done ?? 0) ? { ...merged, trials_done: done } : merged;
}

export function mergeOptimisationList<T extends Optimisation>(held: readonly T[] | undefined, fetched: T[]): T[] {
  if (!held?.length) return fetched;
  const byId = new Map(held.map((row) => [row.id, row]));
  return fetched.map((row) => mergeOptimisation(byId.get(row.id), row));
}

/** The parameters searched, in the order of the space. */
export function searchedNames(optimisation: Pick<Optimisation, "space">): string[] {
  return Object.keys(optimisation.space ?? {});
}

/** How many trials the search will run in all (null if unknown: Optuna stops when it likes, or no walk-forward plan). */
export function expectedTrials(optimisation: Optimisation, windows: number): number | null {
  if (optimisation.method !== "grid") return optimisation.trials_wanted * Math.max(windows, 1) + (optimisation.walk_forward ? windows : 0);
  let size = 1;
  for (const spec of Object.values(optimisation.space ?? {})) {
    if (Array.isArray(spec.values)) size *= spec.values.length;
    else if (typeof spec.min === "number" && typeof spec.max === "number" && typeof spec.step === "number" && spec.step > 0)
      size *= Math.floor((spec.max - spec.min) / spec.step + 1e-9) + 1;
    else return null;
  }
  return size * Math.max(windows, 1) + (optimisation.walk_forward ? windows : 0);
}

/** Server orderings of the trials table: a column and a direction. */
export type TrialSortKey = "number" | "window" | "value" | "seconds" | `metrics__${string}`;

export interface TrialSort {
  key: TrialSortKey;
  descending: boolean;
}

/** The `ordering` query parameter. */
export function orderingParam(sort: TrialSort): string {
  return `${sort.descending ? "-" : ""}${sort.key}`;
}

/** A click on a column: the same column flips; a new one starts best-first for figures, ascending for numbers. */
export function nextTrialSort(current: TrialSort, key: TrialSortKey): TrialSort {
  if (current.key === key) return { key, descending: !current.descending };
  return { key, descending: key !== "number" && key !== "window" };
}
