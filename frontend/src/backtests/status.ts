/**
 * A backtest's progress from the REST rows and the `backtest` pushes of
 * `/ws/trading/`: statuses only move forward (queued → running → done,
 * failed or cancelled), so a late poll or a push that overtook the POST's
 * answer never moves a row back, and a running row's progress never shrinks.
 */
import type { Backtest, BacktestDetail, BacktestPushEvent, BacktestStatus, TradingEvent } from "../api/types";

const RANK: Record<BacktestStatus, number> = { queued: 0, running: 1, done: 2, failed: 2, cancelled: 2 };
const STATUSES = new Set<string>(Object.keys(RANK));

export const FINAL_STATUSES: readonly BacktestStatus[] = ["done", "failed", "cancelled"];

/** Queued or running: progress may still come. */
export function isActive(status: BacktestStatus | undefined): boolean {
  return status === "queued" || status === "running";
}

export function isBacktestPush(event: TradingEvent): event is TradingEvent & BacktestPushEvent {
  const e = event as Partial<BacktestPushEvent>;
  return e.type === "backtest" && typeof e.id === "number" && typeof e.status === "string" && STATUSES.has(e.status);
}

function clampProgress(value: unknown, fallback: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) return fallback;
  return Math.min(1, Math.max(0, value));
}

/** What a run (a backtest, an optimisation) has in common: its id, status and progress. */
export interface RunRow {
  id: number;
  status: BacktestStatus;
  progress: number;
}

/** A push about a run's progress. */
export interface RunEvent {
  id: number;
  status: BacktestStatus;
  progress: number;
}

/**
 * `row` after a push about it (unchanged if the push is older than what the
 * row says); `extra` adds what else the push carries to the moved row.
 */
export function applyRunEvent<T extends RunRow, E extends RunEvent>(row: T, event: E, extra?: (next: T, event: E) => T): T {
  if (row.id !== event.id) return row;
  const before = RANK[row.status];
  const after = RANK[event.status];
  if (after < before) return row;
  if (after === before && before === 2) return row; // both final: keep the first word
  const progress =
    event.status === "done"
      ? 1
      : after === before
        ? Math.max(row.progress ?? 0, clampProgress(event.progress, 0))
        : clampProgress(event.progress, row.progress ?? 0);
  const next: T = { ...row, status: event.status, progress };
  return extra ? extra(next, event) : next;
}

/** `row` after a push about it (unchanged if the push is older than what the row says). */
export function applyBacktestEvent<T extends Backtest>(row: T, event: BacktestPushEvent): T {
  return applyRunEvent(row, event, (next, e) =>
    e.metrics && typeof e.metrics === "object" ? { ...next, metrics: e.metrics } : next,
  );
}

/**
 * The row to keep when a fetch answers: the fetched one, unless the row we
 * hold is further along (a push arrived while the request was in flight);
 * `carry` names what else to keep from the held row then.
 */
export function mergeRun<T extends RunRow>(held: T | undefined, fetched: T, carry: (held: T) => Partial<T> = () => ({})): T {
  if (!held || held.id !== fetched.id) return fetched;
  const before = RANK[held.status];
  const after = RANK[fetched.status];
  if (after < before) return { ...fetched, status: held.status, progress: held.progress, ...carry(held) };
  if (after === before && after === 1 && held.progress > fetched.progress) return { ...fetched, progress: held.progress };
  return fetched;
}

export function mergeBacktest<T extends Backtest>(held: T | undefined, fetched: T): T {
  return mergeRun(held, fetched, (h) => ({ metrics: h.metrics }) as Partial<T>);
}

/** The same for a list: each fetched row merged with the held row of its id. */
export function mergeBacktestList<T extends Backtest>(held: readonly T[] | undefined, fetched: T[]): T[] {
  if (!held?.length) return fetched;
  const byId = new Map(held.map((row) => [row.id, row]));
  return fetched.map((row) => mergeBacktest(byId.get(row.id), row));
}

export interface ProgressView {
  status: BacktestStatus;
  /** 0..100, whole. */
  percent: number;
  label: string;
  active: boolean;
}

/** What the progress bar shows. */
export function progressView(row: { status: BacktestStatus; progress: number; cancel_requested: boolean }): ProgressView {
  const percent = row.status === "done" ? 100 : Math.floor(clampProgress(row.progress, 0) * 100);
  let label: string;
  switch (row.status) {
    case "queued":
      label = row.cancel_requested ? "Cancelling…" : "Queued: waiting for a worker…";
      break;
    case "running":
      label = row.cancel_requested ? `Cancelling… ${percent}%` : `Running ${percent}%`;
      break;
    case "done":
      label = "Done";
      break;
    case "failed":
      label = "Failed";
      break;
    case "cancelled":
      label = "Cancelled";
      break;
  }
  return { status: row.status, percent, label, active: isActive(row.status) };
}

/**
 * The row without a detail's results (curve, months, notes, trades): what a
 * detail is when a push or the list says it ended but its results have not
 * been fetched yet (the page shows them loading, not empty).
 */
export function withoutResults(row: Backtest | BacktestDetail): Backtest {
  const { equity: _e, monthly: _m, notes: _n, trades: _t, ...rest } = row as BacktestDetail;
  return rest;
}
