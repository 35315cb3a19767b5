/**
 * Walk-forward windows: the plan (the same cut as the server's:
 * `rolling` windows slide with a fixed in-sample length, `anchored` ones
 * all start at the beginning), and each window's row of the table: its
 * in-sample and out-of-sample ranges, best parameters, in-sample value,
 * out-of-sample value and degradation. While the search runs the rows come
 * from the trials so far; once done, from the server's result.
 */
import type { EquityPoint, Optimisation, OptimisationResult, OptimisationWindow, Trial } from "../api/types";

const DAY_MS = 86_400_000;

export interface PlannedWindow {
  window: number;
  in_sample: [string, string];
  out_of_sample: [string, string] | null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The windows of a period (one whole-period window without walk-forward). */
export function planWindows(
  start: string,
  end: string,
  walkForward: Optimisation["walk_forward"],
): PlannedWindow[] {
  const s = Date.parse(start);
  const e = Date.parse(end);
  if (!Number.isFinite(s) || !Number.isFinite(e)) return [];
  if (!walkForward) return [{ window: 0, in_sample: [start, end], out_of_sample: null }];
  const isLen = Number(walkForward.in_sample_days) * DAY_MS;
  const oosLen = Number(walkForward.out_of_sample_days) * DAY_MS;
  if (!(isLen > 0) || !(oosLen > 0)) return [];
  const out: PlannedWindow[] = [];
  for (let i = 0; i < 10_000; i++) {
    const oosStart = s + isLen + i * oosLen;
    const oosEnd = oosStart + oosLen;
    if (oosEnd > e + 1000) break;
    const isStart = walkForward.mode === "anchored" ? s : oosStart - isLen;
    out.push({ window: i, in_sample: [iso(isStart), iso(oosStart)], out_of_sample: [iso(oosStart), iso(oosEnd)] });
  }
  return out;
}

/** Out-of-sample value as a fraction of the in-sample one; null unless the in-sample value is positive. */
export function degradationRatio(oos: number | null | undefined, is: number | null | undefined): number | null {
  if (typeof oos !== "number" || typeof is !== "number" || !Number.isFinite(oos) || !(is > 0)) return null;
  return oos / is;
}

export interface WindowRow extends OptimisationWindow {
  /** Still being searched or tested (a provisional row from the trials so far). */
  provisional: boolean;
}

/**
 * The windows table: the server's result once there, else built from the
 * trials (best finished in-sample trial per window, its out-of-sample test).
 */
export function windowRows(
  optimisation: Pick<Optimisation, "start" | "end" | "walk_forward" | "objective">,
  result: OptimisationResult | null | undefined,
  trials: readonly Trial[] | undefined,
): WindowRow[] {
  if (result?.windows?.length) return result.windows.map((w) => ({ ...w, provisional: false }));
  const plan = planWindows(optimisation.start, optimisation.end, optimisation.walk_forward);
  return plan.map((p) => {
    const inSample = (trials ?? []).filter((t) => t.window === p.window && t.phase === "is");
    const valid = inSample.filter((t) => t.status === "done" && typeof t.value === "number");
    const best = valid.reduce<Trial | null>(
      (b, t) => (!b || (t.value as number) > (b.value as number) || (t.value === b.value && t.number < b.number) ? t : b),
      null,
    );
    const oos = (trials ?? []).find((t) => t.window === p.window && t.phase === "oos" && t.status !== "queued");
    const oosValue = oos?.metrics?.[optimisation.objective];
    const oosNumber = typeof oosValue === "number" && Number.isFinite(oosValue) ? oosValue : null;
    const row: WindowRow = {
      window: p.window,
      in_sample: p.in_sample,
      trials: inSample.length,
      valid_trials: valid.length,
      best_params: best?.params ?? null,
      in_sample_value: best?.value ?? null,
      in_sample_metrics: best?.metrics ?? null,
      provisional: true,
    };
    if (p.out_of_sample) {
      row.out_of_sample = p.out_of_sample;
      row.out_of_sample_metrics = oos?.metrics ?? null;
      row.out_of_sample_value = oos ? oosNumber : null;
      row.degradation = degradationRatio(row.out_of_sample_value, row.in_sample_value);
    }
    return row;
  });
}

/** The stitched out-of-sample equity as chart points, with the drawdown from the running peak. */
export function stitchedPoints(stitched: OptimisationResult["stitched_equity"]): EquityPoint[] {
  const times = stitched?.time ?? [];
  const equity = stitched?.equity ?? [];
  const points: EquityPoint[] = [];
  let peak = -Infinity;
  for (let i = 0; i < Math.min(times.length, equity.length); i++) {
    const t = times[i]!;
    const v = equity[i]!;
    if (!Number.isFinite(t) || !Number.isFinite(v)) continue;
    peak = Math.max(peak, v);
    points.push({ time: iso(t), equity: v, drawdown: peak > 0 ? v / peak - 1 : 0 });
  }
  return points;
}

/** "0.62×" for a ratio; "—" when there is none. */
export function formatDegradation(ratio: number | null | undefined): string {
  return typeof ratio === "number" && Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : "—";
}
