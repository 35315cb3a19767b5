/**
 * Exact decimal arithmetic on the API's decimal strings ("1.0843500000") with
 * BigInt, so prices, lots and money never pass through binary floats when
 * they are checked against a grid, converted from pips or formatted.
 */

/** `units / 10^scale`. */
export interface Dec {
  units: bigint;
  scale: number;
}

const DECIMAL_RE = /^\s*([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,3}))?\s*$/;

/**
 * Parse "1.08", "-0.5", ".25", "12." and Python's `str(Decimal)` exponent
 * forms ("0E-8", "1.5E+3"); no grouping. Null when not a number.
 */
export function parseDecimal(text: string | null | undefined): Dec | null {
  if (text == null) return null;
  const match = DECIMAL_RE.exec(text);
  if (!match) return null;
  const [, sign, whole = "", fraction = "", exponent = "0"] = match;
  if (!whole && !fraction) return null;
  let units = BigInt(`${whole || "0"}${fraction}`);
  let scale = fraction.length - Number(exponent);
  if (scale < 0) {
    units *= 10n ** BigInt(-scale);
    scale = 0;
  }
  return { units: sign === "-" ? -units : units, scale };
}

const pow10 = (n: number) => 10n ** BigInt(n);

/** The same value with at least `scale` decimal places (exact). */
export function rescale(d: Dec, scale: number): Dec {
  return widen(d, scale);
}

function widen(d: Dec, scale: number): Dec {
  return scale <= d.scale ? d : { units: d.units * pow10(scale - d.scale), scale };
}

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [widen(a, scale).units, widen(b, scale).units, scale];
}

export function add(a: Dec, b: Dec): Dec {
  const [x, y, scale] = align(a, b);
  return { units: x + y, scale };
}

export function sub(a: Dec, b: Dec): Dec {
  const [x, y, scale] = align(a, b);
  return { units: x - y, scale };
}

export function mul(a: Dec, b: Dec): Dec {
  return { units: a.units * b.units, scale: a.scale + b.scale };
}

export function compare(a: Dec, b: Dec): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sign(a: Dec): -1 | 0 | 1 {
  return a.units < 0n ? -1 : a.units > 0n ? 1 : 0;
}

/** Round to `places` decimals, halves away from zero. */
export function roundTo(d: Dec, places: number): Dec {
  if (places >= d.scale) return widen(d, places);
  const factor = pow10(d.scale - places);
  const negative = d.units < 0n;
  const abs = negative ? -d.units : d.units;
  let q = abs / factor;
  if ((abs % factor) * 2n >= factor) q += 1n;
  return { units: negative ? -q : q, scale: places };
}

/** True when `value` is a whole multiple of `step` (step > 0). */
export function isMultipleOf(value: Dec, step: Dec): boolean {
  const [x, y] = align(value, step);
  return y !== 0n && x % y === 0n;
}

/** Decimal places written in `text` ("1.2300" → 4). */
export function decimalPlaces(text: string): number {
  return parseDecimal(text)?.scale ?? 0;
}

/**
 * Exactly `places` decimals (rounded halves away from zero), optionally with
 * thousands separators: `toFixed(parseDecimal("-1234.5")!, 2, true)` → "-1,234.50".
 */
export function toFixed(d: Dec, places: number, group = false): string {
  const r = roundTo(d, places);
  const negative = r.units < 0n;
  const digits = (negative ? -r.units : r.units).toString().padStart(places + 1, "0");
  let whole = digits.slice(0, digits.length - places);
  const fraction = digits.slice(digits.length - places);
  if (group) whole = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const zero = r.units === 0n;
  return `${negative && !zero ? "-" : ""}${whole}${places > 0 ? `.${fraction}` : ""}`;
}

/** Shortest plain form ("1.50000" → "1.5", "2.000" → "2"). */
export function toPlain(d: Dec): string {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale -= 1;
  }
  return toFixed({ units, scale }, scale);
}

export function toNumber(d: Dec): number {
  return Number(toFixed(d, d.scale));
}
