/** Pure helpers for displaying live quotes (no React, no I/O). */
import type { Quote } from "../api/types";

/** -1 down, 0 unchanged/unknown, 1 up. */
export type TickDirection = -1 | 0 | 1;

/** One market-watch row: the latest quote plus what changed on the last update. */
export interface QuoteRow extends Quote {
  bidDir: TickDirection;
  askDir: TickDirection;
  /** Bumped whenever bid (ask) changes, so the cell's flash animation restarts. */
  bidSeq: number;
  askSeq: number;
}

function decimals(value: string): number {
  const match = /\.(\d+)$/.exec(value.trim());
  return match?.[1] ? match[1].length : 0;
}

/**
 * Spread in pips, `(ask - bid) / pip_size`, computed in integer units of the
 * finest decimal place involved so float noise can't turn 1.2 into 1.1999….
 * Null when either side or the pip size is missing/invalid.
 */
export function spreadPips(
  bid: string | null | undefined,
  ask: string | null | undefined,
  pipSize: string | number | null | undefined,
): number | null {
  if (bid == null || ask == null || pipSize == null || bid === "" || ask === "") return null;
  const b = Number(bid);
  const a = Number(ask);
  const p = Number(pipSize);
  if (!Number.isFinite(b) || !Number.isFinite(a) || !Number.isFinite(p) || p <= 0) return null;
  const places = Math.min(12, Math.max(decimals(bid), decimals(ask), decimals(String(pipSize))));
  const scale = 10 ** places;
  const pip = Math.round(p * scale);
  if (pip <= 0) return null;
  return (Math.round(a * scale) - Math.round(b * scale)) / pip;
}

/** "1.2" — one decimal (fractional pips), "—" when unknown. */
export function formatPips(pips: number | null): string {
  if (pips === null || !Number.isFinite(pips)) return "—";
  return pips.toFixed(1);
}

function direction(previous: string | null | undefined, next: string | null): TickDirection {
  if (previous == null || next == null) return 0;
  const a = Number(previous);
  const b = Number(next);
  if (!Number.isFinite(a) || !Number.isFinite(b) || a === b) return 0;
  return b > a ? 1 : -1;
}

function timeOf(quote: Pick<Quote, "time"> | undefined): number | null {
  if (!quote?.time) return null;
  const t = Date.parse(quote.time);
  return Number.isNaN(t) ? null : t;
}

/**
 * Merge a new quote into a row. Returns the previous row unchanged when the
 * quote is empty or older than what the row shows (a late REST response or a
 * snapshot must never rewind a live tick). `flash: false` records the values
 * without an up/down direction (first paint).
 */
export function applyQuote(previous: QuoteRow | undefined, quote: Quote, flash = true): QuoteRow | undefined {
  if (quote.bid === null || quote.ask === null) {
    return previous ?? { ...quote, bidDir: 0, askDir: 0, bidSeq: 0, askSeq: 0 };
  }
  const prevTime = timeOf(previous);
  const nextTime = timeOf(quote);
  if (previous && previous.bid !== null && prevTime !== null && nextTime !== null && nextTime < prevTime) {
    return previous;
  }
  if (
    previous &&
    previous.bid === quote.bid &&
    previous.ask === quote.ask &&
    previous.time === quote.time &&
    previous.source === quote.source &&
    previous.simulated === quote.simulated
  ) {
    return previous;
  }
  const bidChanged = previous?.bid !== quote.bid;
  const askChanged = previous?.ask !== quote.ask;
  return {
    symbol: quote.symbol,
    bid: quote.bid,
    ask: quote.ask,
    time: quote.time,
    source: quote.source,
    simulated: quote.simulated,
    bidDir: flash && bidChanged ? direction(previous?.bid, quote.bid) : (previous?.bidDir ?? 0),
    askDir: flash && askChanged ? direction(previous?.ask, quote.ask) : (previous?.askDir ?? 0),
    bidSeq: (previous?.bidSeq ?? 0) + (bidChanged ? 1 : 0),
    askSeq: (previous?.askSeq ?? 0) + (askChanged ? 1 : 0),
  };
}

/** Which rows' feeds are simulated: "all", "some" (mixed), or "none" (ignores rows without a quote). */
export function simulatedMix(rows: Iterable<Pick<Quote, "bid" | "simulated">>): "all" | "some" | "none" {
  let simulated = 0;
  let real = 0;
  for (const row of rows) {
    if (row.bid === null || row.simulated === null) continue;
    if (row.simulated) simulated += 1;
    else real += 1;
  }
  if (simulated === 0) return "none";
  return real === 0 ? "all" : "some";
}
