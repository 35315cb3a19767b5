/**
 * The chart's candles: bars from `GET /api/v1/marketdata/bars/` and the live
 * open bar from `/ws/prices/` merged into one series (pure, no I/O).
 *
 * Times are epoch seconds (UTC) of the bar's open; lightweight-charts draws
 * times as UTC, so `chartTime` shifts them by the user's zone offset.
 */
import type { ApiBar, LiveBar } from "../api/types";
import { zoneOffsetMs } from "../trading/zonedTime";

export const TIMEFRAMES = ["M1", "M5", "M15", "M30", "H1", "H4", "D1", "W1"] as const;
export type Timeframe = (typeof TIMEFRAMES)[number];
export const DEFAULT_TIMEFRAME: Timeframe = "H1";

export function isTimeframe(value: unknown): value is Timeframe {
  return typeof value === "string" && (TIMEFRAMES as readonly string[]).includes(value);
}

export interface Candle {
  /** Open time, epoch seconds (UTC). */
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** The bar is finished (history, or a `closed` live message): later open updates don't touch it. */
  closed: boolean;
}

function num(value: string | number | null | undefined): number {
  return typeof value === "number" ? value : Number(value);
}

function validPrices(c: Pick<Candle, "open" | "high" | "low" | "close">): boolean {
  return [c.open, c.high, c.low, c.close].every((v) => Number.isFinite(v) && v > 0);
}

/**
 * REST bars (oldest first) → candles, strictly rising in time. The newest
 * stored bar may still be open (the feed updates it in place), so it is not
 * marked closed: live updates of the same bar replace it.
 */
export function candlesFromApi(bars: readonly ApiBar[] | null | undefined): Candle[] {
  const out: Candle[] = [];
  for (const bar of bars ?? []) {
    const ms = Date.parse(bar?.time ?? "");
    if (!Number.isFinite(ms)) continue;
    const candle: Candle = {
      time: Math.floor(ms / 1000),
      open: num(bar.open),
      high: num(bar.high),
      low: num(bar.low),
      close: num(bar.close),
      volume: Number(bar.volume) || 0,
      closed: true,
    };
    if (!validPrices(candle)) continue;
    const last = out[out.length - 1];
    if (last && last.time >= candle.time) continue;
    out.push(candle);
  }
  const last = out[out.length - 1];
  if (last) last.closed = false;
  return out;
}

/** A live bar message → a candle (null if malformed). */
export function candleFromLive(bar: LiveBar): Candle | null {
  const ms = typeof bar.ts === "number" ? bar.ts : Date.parse(bar.time ?? "");
  if (!Number.isFinite(ms)) return null;
  const candle: Candle = {
    time: Math.floor(ms / 1000),
    open: num(bar.open),
    high: num(bar.high),
    low: num(bar.low),
    close: num(bar.close),
    volume: Number(bar.volume) || 0,
    closed: Boolean(bar.closed),
  };
  return validPrices(candle) ? candle : null;
}

/**
 * What a live bar did to the series:
 * - `update`: the last candle changed (the open bar moved, or it closed);
 * - `append`: a new bar started (the previous one is final);
 * - `replace`: an earlier candle changed (a late close message): redraw all;
 * - `ignore`: nothing changed (stale, malformed, or an open update of a closed bar).
 */
export type MergeKind = "update" | "append" | "replace" | "ignore";

export interface MergeResult {
  candles: Candle[];
  kind: MergeKind;
}

function same(a: Candle, b: Candle): boolean {
  return (
    a.open === b.open &&
    a.high === b.high &&
    a.low === b.low &&
    a.close === b.close &&
    a.volume === b.volume &&
    a.closed === b.closed
  );
}

/** Merge one live bar into the candles (never mutates `candles`; unchanged candles keep their identity). */
export function mergeLiveBar(candles: readonly Candle[], bar: LiveBar): MergeResult {
  const candle = candleFromLive(bar);
  const unchanged = { candles: candles as Candle[], kind: "ignore" as const };
  if (!candle) return unchanged;
  const lastIndex = candles.length - 1;
  const last = candles[lastIndex];
  if (!last || candle.time > last.time) {
    const next = candles.slice();
    if (last && !last.closed) next[lastIndex] = { ...last, closed: true };
    next.push(candle);
    return { candles: next, kind: "append" };
  }
  // An update of an existing bar: find it (usually the last).
  let index = lastIndex;
  while (index >= 0 && candles[index]!.time > candle.time) index--;
  const current = candles[index];
  if (!current || current.time !== candle.time) return unchanged; // older than what we hold, or a hole
  if (current.closed && !candle.closed) return unchanged;
  if (same(current, candle)) return unchanged;
  const next = candles.slice();
  next[index] = candle;
  return { candles: next, kind: index === lastIndex ? "update" : "replace" };
}

/** Keep at most `max` candles (the newest). */
export function trimCandles(candles: Candle[], max: number): Candle[] {
  return candles.length > max ? candles.slice(candles.length - max) : candles;
}

/** Epoch seconds (UTC) → the chart's time: the user's wall clock read as UTC. */
export function chartTime(seconds: number, timeZone: string | undefined): number {
  return seconds + Math.round(zoneOffsetMs(seconds * 1000, timeZone) / 1000);
}

/**
 * How `next` differs from `prev` (as `mergeLiveBar` builds them, unchanged
 * candles keeping their identity): `update` — only the last changed;
 * `append` — one more at the end (the one before it may have been closed);
 * `same`; or `reset` for anything else (redraw everything).
 */
export type CandlesDiff = "same" | "update" | "append" | "reset";

export function diffCandles(prev: readonly Candle[], next: readonly Candle[]): CandlesDiff {
  if (prev === next) return "same";
  let prefix: number;
  let kind: CandlesDiff;
  if (next.length === prev.length && prev.length > 0) {
    prefix = prev.length - 1;
    kind = "update";
    if (next[prefix]!.time !== prev[prefix]!.time) return "reset";
  } else if (next.length === prev.length + 1 && prev.length > 0) {
    prefix = prev.length - 1;
    kind = "append";
    if (next[prefix]!.time !== prev[prefix]!.time) return "reset";
  } else {
    return next.length === 0 && prev.length === 0 ? "same" : "reset";
  }
  for (let i = 0; i < prefix; i++) if (next[i] !== prev[i]) return "reset";
  return kind;
}
