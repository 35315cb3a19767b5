/**
 * The objective over two searched parameters: x = one parameter's values,
 * y = the other's, each cell the in-sample trial at that point (the best
 * one if several landed there: a random or Optuna search may repeat a
 * point), coloured by its value. A point whose trials were all refused
 * (too few trades, a bad combination, a failure) is marked invalid; one
 * still queued is pending; one never tried is empty.
 */
import type { Trial, TrialStatus } from "../api/types";

export interface HeatCell {
  x: unknown;
  y: unknown;
  /** The best value at this point, or null (invalid, pending). */
  value: number | null;
  status: "done" | "invalid" | "pending";
  /** The trial shown (the best, else the last refused one). */
  trial: Trial;
  /** How many trials landed here. */
  count: number;
}

export interface HeatMatrix {
  xs: unknown[];
  ys: unknown[];
  /** rows[yi][xi]; null where no trial landed. */
  rows: (HeatCell | null)[][];
  min: number | null;
  max: number | null;
  /** The best cell (highest value). */
  best: HeatCell | null;
}

const key = (v: unknown) => JSON.stringify(v);

function sortValues(values: unknown[]): unknown[] {
  const numeric = values.every((v) => typeof v === "number");
  return [...values].sort((a, b) =>
    numeric ? (a as number) - (b as number) : String(a).localeCompare(String(b)),
  );
}

const RANK: Record<TrialStatus, number> = { done: 2, queued: 1, invalid: 0, failed: 0 };

/** The matrix of `trials` (in-sample, of `window` when given) over parameters `x` and `y`. */
export function heatmapMatrix(
  trials: readonly Trial[],
  x: string,
  y: string,
  window: number | null = null,
): HeatMatrix {
  const chosen = trials.filter(
    (t) =>
      t.phase === "is" &&
      (window === null || t.window === window) &&
      t.params &&
      x in t.params &&
      y in t.params,
  );
  const xs = new Map<string, unknown>();
  const ys = new Map<string, unknown>();
  for (const t of chosen) {
    xs.set(key(t.params[x]), t.params[x]);
    ys.set(key(t.params[y]), t.params[y]);
  }
  const xList = sortValues([...xs.values()]);
  const yList = sortValues([...ys.values()]);
  const xi = new Map(xList.map((v, i) => [key(v), i]));
  const yi = new Map(yList.map((v, i) => [key(v), i]));
  const rows: (HeatCell | null)[][] = yList.map(() => xList.map(() => null));

  for (const t of chosen) {
    const col = xi.get(key(t.params[x]))!;
    const row = yi.get(key(t.params[y]))!;
    const valid = t.status === "done" && typeof t.value === "number" && Number.isFinite(t.value);
    const status: HeatCell["status"] = valid ? "done" : t.status === "queued" ? "pending" : "invalid";
    const held = rows[row]![col];
    const count = (held?.count ?? 0) + 1;
    const better =
      !held ||
      (valid && (held.status !== "done" || (t.value as number) > (held.value as number))) ||
      (!valid && held.status !== "done" && RANK[t.status] > RANK[held.trial.status]);
    rows[row]![col] = better
      ? { x: t.params[x], y: t.params[y], value: valid ? (t.value as number) : null, status, trial: t, count }
      : { ...held!, count };
  }

  let min: number | null = null;
  let max: number | null = null;
  let best: HeatCell | null = null;
  for (const line of rows) {
    for (const cell of line) {
      if (!cell || cell.value === null) continue;
      if (min === null || cell.value < min) min = cell.value;
      if (max === null || cell.value > max) max = cell.value;
      if (!best || cell.value > (best.value as number)) best = cell;
    }
  }
  return { xs: xList, ys: yList, rows, min, max, best };
}

/** 0..1: where `value` lies between min and max (0.5 when they are equal). */
export function heatFraction(value: number, min: number, max: number): number {
  if (!(max > min)) return 0.5;
  return Math.min(1, Math.max(0, (value - min) / (max - min)));
}

/** Red (worst) → amber → green (best), as an `rgb()` colour. */
export function heatColor(fraction: number): string {
  const stops: [number, number, number][] = [
    [176, 48, 72],
    [196, 150, 40],
    [40, 160, 100],
  ];
  const f = Math.min(1, Math.max(0, fraction)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(f));
  const t = f - i;
  const [a, b] = [stops[i]!, stops[i + 1]!];
  const mix = (k: number) => Math.round(a[k]! + (b[k]! - a[k]!) * t);
  return `rgb(${mix(0)}, ${mix(1)}, ${mix(2)})`;
}

/** A parameter value as an axis label. */
export function axisLabel(v: unknown): string {
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  return String(v);
}
