/** Display formatting of blotter and account numbers (right-aligned, fixed decimals). */
import { parseDecimal, sign, toFixed } from "./decimal";

export const DASH = "—";

/** A price with the instrument's digits: ("1.1001000000", 5) → "1.10010". */
export function formatPrice(value: string | null | undefined, digits: number): string {
  const d = parseDecimal(value);
  return d ? toFixed(d, Math.max(0, digits)) : DASH;
}

/** Money with thousands separators and 2 decimals: "100100.00000000" → "100,100.00". */
export function formatMoney(value: string | number | null | undefined, places = 2): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return DASH;
    value = value.toFixed(Math.max(places, 2) + 2);
  }
  const d = parseDecimal(value);
  return d ? toFixed(d, places, true) : DASH;
}

/** Lots with the step's decimals: ("1", 2) → "1.00"; the sign is dropped (shown as the side). */
export function formatLots(value: string | null | undefined, places = 2): string {
  const d = parseDecimal(value);
  if (!d) return DASH;
  return toFixed({ units: d.units < 0n ? -d.units : d.units, scale: d.scale }, places);
}

/** Margin level "1234.5" → "1,234.50%"; null (no margin used) → "—". */
export function formatPercent(value: string | null | undefined): string {
  const d = parseDecimal(value);
  return d ? `${toFixed(d, 2, true)}%` : DASH;
}

/** CSS class for a P&L figure: "pnl-pos", "pnl-neg" or "" for zero/unknown. */
export function pnlClass(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return value > 0 ? "pnl-pos" : value < 0 ? "pnl-neg" : "";
  const d = parseDecimal(value);
  if (!d) return "";
  const s = sign(d);
  return s > 0 ? "pnl-pos" : s < 0 ? "pnl-neg" : "";
}

/** Decimals to show lots with, from the instrument's lot step ("0.0100" → 2). */
export function lotPlaces(lotStep: string | undefined): number {
  const d = parseDecimal(lotStep);
  if (!d) return 2;
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  return Math.max(scale, 2);
}
