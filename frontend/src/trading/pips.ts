/**
 * Pips ↔ prices with the instrument's pip size and point, exactly.
 *
 * EURUSD: digits 5, point 0.00001, pip 0.0001 → 25 pips = 0.00250.
 * USDJPY: digits 3, point 0.001,   pip 0.01   → 25 pips = 0.250.
 */
import type { Instrument } from "../api/types";
import { add, compare, parseDecimal, roundTo, sign, sub, toFixed, mul, type Dec } from "./decimal";

/** The instrument's point (smallest price step) as a decimal string. */
export function pointOf(instrument: Pick<Instrument, "digits" | "point">): string {
  const point = parseDecimal(instrument.point);
  if (point && sign(point) > 0) return instrument.point!;
  return toFixed({ units: 1n, scale: Math.max(0, instrument.digits) }, Math.max(0, instrument.digits));
}

/** A price distance of `pips` pips, rounded to the instrument's digits; null if not a positive number. */
export function pipsToDistance(pips: string, pipSize: string, digits: number): string | null {
  const p = parseDecimal(pips);
  const size = parseDecimal(pipSize);
  if (!p || !size || sign(p) <= 0 || sign(size) <= 0) return null;
  const distance = roundTo(mul(p, size), digits);
  return sign(distance) > 0 ? toFixed(distance, digits) : null;
}

/**
 * The price `pips` pips away from `reference`: `direction` +1 above, -1 below.
 * Null when an input is not a positive number or the price would not be positive.
 */
export function pipsToPrice(
  reference: string,
  pips: string,
  direction: 1 | -1,
  pipSize: string,
  digits: number,
): string | null {
  const ref = parseDecimal(reference);
  const distance = parseDecimal(pipsToDistance(pips, pipSize, digits));
  if (!ref || !distance || sign(ref) <= 0) return null;
  const price: Dec = direction > 0 ? add(ref, distance) : sub(ref, distance);
  return sign(price) > 0 ? toFixed(price, digits) : null;
}

/** Signed pips from `reference` to `price` (one decimal, e.g. 12.5); null when unknown. */
export function priceToPips(reference: string, price: string, pipSize: string): number | null {
  const ref = parseDecimal(reference);
  const p = parseDecimal(price);
  const size = parseDecimal(pipSize);
  if (!ref || !p || !size || sign(size) <= 0) return null;
  const diff = sub(p, ref);
  // diff / size with 1 decimal: scale both to integers first.
  const scale = Math.max(diff.scale, size.scale);
  const num = roundTo(diff, scale).units * 10n;
  const den = roundTo(size, scale).units;
  const tenths = (num * 2n + (num >= 0n ? den : -den)) / (2n * den); // rounded half away from zero
  return Number(tenths) / 10;
}

/** True when `price` lies strictly on the `side` of `reference` (+1 above, -1 below). */
export function isBeyond(price: string, reference: string, side: 1 | -1): boolean {
  const p = parseDecimal(price);
  const r = parseDecimal(reference);
  if (!p || !r) return false;
  return compare(p, r) === side;
}
