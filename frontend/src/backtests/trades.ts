/** The trade list's sorting and paging (the detail carries every trade). */
import type { BacktestTrade } from "../api/types";

export type TradeSortKey = keyof BacktestTrade | "index";
export type SortDirection = "asc" | "desc";

export interface TradeRow extends BacktestTrade {
  /** 1-based position in the backtest's own order (by exit). */
  index: number;
}

export function numberTrades(trades: readonly BacktestTrade[] | null | undefined): TradeRow[] {
  return (trades ?? []).map((t, i) => ({ ...t, index: i + 1 }));
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a).localeCompare(String(b));
}

/** A sorted copy; ties keep the backtest's order. ISO times sort as text. */
export function sortTrades(rows: readonly TradeRow[], key: TradeSortKey, direction: SortDirection): TradeRow[] {
  const sign = direction === "asc" ? 1 : -1;
  return [...rows].sort((a, b) => {
    const c = compareValues(a[key], b[key]);
    // Missing values last whichever the direction.
    if (a[key] === null || a[key] === undefined || b[key] === null || b[key] === undefined) return c || a.index - b.index;
    return sign * c || a.index - b.index;
  });
}

/** The next sort after a click on `key`: the same column flips, a new one starts descending for numbers. */
export function nextSort(
  current: { key: TradeSortKey; direction: SortDirection },
  key: TradeSortKey,
  numeric: boolean,
): { key: TradeSortKey; direction: SortDirection } {
  if (current.key === key) return { key, direction: current.direction === "asc" ? "desc" : "asc" };
  return { key, direction: numeric ? "desc" : "asc" };
}

export interface PageOf<T> {
  rows: T[];
  page: number;
  pages: number;
  from: number;
  to: number;
}

/** Page `page` (1-based, clamped) of `rows`. */
export function pageOf<T>(rows: readonly T[], page: number, size: number): PageOf<T> {
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(1, Math.floor(page) || 1), pages);
  const start = (p - 1) * size;
  const slice = rows.slice(start, start + size);
  return { rows: slice, page: p, pages, from: slice.length ? start + 1 : 0, to: start + slice.length };
}
