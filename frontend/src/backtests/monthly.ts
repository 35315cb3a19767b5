/** Monthly returns as a year × month table, each year with its compounded total. */
import type { MonthlyReturn } from "../api/types";

export const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

export interface MonthlyYear {
  year: number;
  /** Twelve cells, January first; null where the backtest has no such month. */
  months: (number | null)[];
  /** The months compounded: (1 + r1)(1 + r2)... − 1; null with no month. */
  total: number | null;
}

const MONTH_RE = /^(\d{4})-(\d{2})/;

/** Rows by year, oldest first. Malformed months are skipped; a repeated month keeps the last. */
export function monthlyTable(rows: readonly MonthlyReturn[] | null | undefined): MonthlyYear[] {
  const years = new Map<number, (number | null)[]>();
  for (const row of rows ?? []) {
    const match = MONTH_RE.exec(row?.month ?? "");
    if (!match) continue;
    const year = Number(match[1]);
    const month = Number(match[2]) - 1;
    if (month < 0 || month > 11) continue;
    const value = typeof row.return === "number" && Number.isFinite(row.return) ? row.return : null;
    let cells = years.get(year);
    if (!cells) {
      cells = Array<number | null>(12).fill(null);
      years.set(year, cells);
    }
    cells[month] = value;
  }
  return [...years.entries()]
    .sort(([a], [b]) => a - b)
    .map(([year, months]) => {
      const present = months.filter((m): m is number => m !== null);
      const total = present.length ? present.reduce((acc, r) => acc * (1 + r), 1) - 1 : null;
      return { year, months, total };
    });
}

/** A cell's class: the sign's colour, stronger for bigger moves. */
export function returnClass(value: number | null): string {
  if (value === null || value === 0) return "ret-zero";
  const strong = Math.abs(value) >= 0.02;
  return value > 0 ? (strong ? "ret-pos-strong" : "ret-pos") : strong ? "ret-neg-strong" : "ret-neg";
}
