/**
 * Moving averages and Bollinger bands over bar closes (pure, no I/O).
 *
 * Each function returns one value per input, `null` until the window is
 * full. The `*Last` variants recompute only the final value from the ones
 * before it: the open bar changes many times a second, and recomputing the
 * whole series on each tick would be wasted work.
 */

export type Series = (number | null)[];

function validPeriod(period: number): boolean {
  return Number.isInteger(period) && period >= 1;
}

/** Simple moving average: the mean of the last `period` values. */
export function sma(values: readonly number[], period: number): Series {
  const out: Series = new Array(values.length).fill(null);
  if (!validPeriod(period)) return out;
  let sum = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i]!;
    if (i >= period) sum -= values[i - period]!;
    if (i >= period - 1) out[i] = sum / period;
  }
  return out;
}

/** SMA of the window ending at `index` (null before the window is full). */
export function smaAt(values: readonly number[], period: number, index: number): number | null {
  if (!validPeriod(period) || index < period - 1 || index >= values.length) return null;
  let sum = 0;
  for (let i = index - period + 1; i <= index; i++) sum += values[i]!;
  return sum / period;
}

/**
 * Exponential moving average with α = 2 / (period + 1), seeded with the SMA
 * of the first `period` values (so the first value is at index period − 1).
 */
export function ema(values: readonly number[], period: number): Series {
  const out: Series = new Array(values.length).fill(null);
  if (!validPeriod(period) || values.length < period) return out;
  const alpha = 2 / (period + 1);
  let prev = smaAt(values, period, period - 1)!;
  out[period - 1] = prev;
  for (let i = period; i < values.length; i++) {
    prev = alpha * values[i]! + (1 - alpha) * prev;
    out[i] = prev;
  }
  return out;
}

/** The EMA's next value from the previous one (null previous: not enough data yet). */
export function emaNext(previous: number | null, value: number, period: number): number | null {
  if (previous === null || !validPeriod(period)) return null;
  const alpha = 2 / (period + 1);
  return alpha * value + (1 - alpha) * previous;
}

export interface Bands {
  middle: Series;
  upper: Series;
  lower: Series;
}

export interface BandPoint {
  middle: number;
  upper: number;
  lower: number;
}

/** Bollinger bands of the window ending at `index`: SMA ± k · population standard deviation. */
export function bollingerAt(values: readonly number[], period: number, k: number, index: number): BandPoint | null {
  const middle = smaAt(values, period, index);
  if (middle === null) return null;
  let squares = 0;
  for (let i = index - period + 1; i <= index; i++) squares += (values[i]! - middle) ** 2;
  const sd = Math.sqrt(squares / period);
  return { middle, upper: middle + k * sd, lower: middle - k * sd };
}

export function bollinger(values: readonly number[], period: number, k: number): Bands {
  const bands: Bands = { middle: [], upper: [], lower: [] };
  for (let i = 0; i < values.length; i++) {
    const point = bollingerAt(values, period, k, i);
    bands.middle.push(point?.middle ?? null);
    bands.upper.push(point?.upper ?? null);
    bands.lower.push(point?.lower ?? null);
  }
  return bands;
}

// ---------------------------------------------------------------------------
// The chart's overlays
// ---------------------------------------------------------------------------

export interface IndicatorSettings {
  sma: { on: boolean; period: number };
  ema: { on: boolean; period: number };
  bb: { on: boolean; period: number; deviations: number };
}

export const DEFAULT_INDICATORS: IndicatorSettings = {
  sma: { on: false, period: 20 },
  ema: { on: false, period: 50 },
  bb: { on: false, period: 20, deviations: 2 },
};

export const MAX_PERIOD = 500;

/** A period typed in an input: a whole number in 1..MAX_PERIOD, else null. */
export function parsePeriod(text: string): number | null {
  if (!/^\s*\d+\s*$/.test(text)) return null;
  const n = Number(text);
  return n >= 1 && n <= MAX_PERIOD ? n : null;
}

/** Deviations typed in an input: a positive number up to 10, else null. */
export function parseDeviations(text: string): number | null {
  if (!/^\s*\d+(\.\d+)?\s*$/.test(text)) return null;
  const n = Number(text);
  return n > 0 && n <= 10 ? n : null;
}

/** Overlay values, one per bar (null before the window is full), for the overlays that are on. */
export interface Overlays {
  sma?: Series;
  ema?: Series;
  bb?: Bands;
}

export function computeOverlays(closes: readonly number[], settings: IndicatorSettings): Overlays {
  const out: Overlays = {};
  if (settings.sma.on) out.sma = sma(closes, settings.sma.period);
  if (settings.ema.on) out.ema = ema(closes, settings.ema.period);
  if (settings.bb.on) out.bb = bollinger(closes, settings.bb.period, settings.bb.deviations);
  return out;
}

/**
 * The overlays after the last close changed (`appended` false) or a bar was
 * appended (`appended` true): only the final values are recomputed — the
 * last one, and on append also the one before it (the bar that just closed
 * may have got its final close in the same batch). An overlay `previous`
 * lacks (just switched on) or whose length does not fit is computed in full.
 */
export function updateOverlaysLast(
  previous: Overlays,
  closes: readonly number[],
  settings: IndicatorSettings,
  appended: boolean,
): Overlays {
  const last = closes.length - 1;
  if (last < 0) return {};
  const expected = appended ? last : last + 1;
  const from = appended ? Math.max(0, last - 1) : last;
  const keep = (series: Series | undefined): Series | null =>
    series && series.length === expected ? series.slice(0, from) : null;
  const out: Overlays = {};
  if (settings.sma.on) {
    const series = keep(previous.sma);
    if (series) for (let i = from; i <= last; i++) series[i] = smaAt(closes, settings.sma.period, i);
    out.sma = series ?? sma(closes, settings.sma.period);
  }
  if (settings.ema.on) {
    const period = settings.ema.period;
    const series = keep(previous.ema);
    if (series) {
      for (let i = from; i <= last; i++) {
        series[i] = i === period - 1 ? smaAt(closes, period, i) : emaNext(series[i - 1] ?? null, closes[i]!, period);
      }
    }
    out.ema = series ?? ema(closes, period);
  }
  if (settings.bb.on) {
    const { period, deviations } = settings.bb;
    const middle = keep(previous.bb?.middle);
    const upper = keep(previous.bb?.upper);
    const lower = keep(previous.bb?.lower);
    if (middle && upper && lower) {
      for (let i = from; i <= last; i++) {
        const point = bollingerAt(closes, period, deviations, i);
        middle[i] = point?.middle ?? null;
        upper[i] = point?.upper ?? null;
        lower[i] = point?.lower ?? null;
      }
      out.bb = { middle, upper, lower };
    } else {
      out.bb = bollinger(closes, period, deviations);
    }
  }
  return out;
}
