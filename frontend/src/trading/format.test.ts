import { describe, expect, it } from "vitest";
import { compare, isMultipleOf, parseDecimal, roundTo, toFixed, toPlain } from "./decimal";
import { formatLots, formatMoney, formatPercent, formatPrice, lotPlaces, pnlClass } from "./format";

describe("decimal", () => {
  it("parses the API's decimal strings, including Python's exponent forms", () => {
    expect(parseDecimal("1.0843500000")).toEqual({ units: 10843500000n, scale: 10 });
    expect(parseDecimal("-0.5")).toEqual({ units: -5n, scale: 1 });
    expect(parseDecimal(".25")).toEqual({ units: 25n, scale: 2 });
    expect(parseDecimal(" 12. ")).toEqual({ units: 12n, scale: 0 });
    // str(Decimal("0.00000000")) and friends, as the trading events send them.
    expect(parseDecimal("0E-8")).toEqual({ units: 0n, scale: 8 });
    expect(parseDecimal("1.5E+3")).toEqual({ units: 1500n, scale: 0 });
    expect(parseDecimal("-2.5e-2")).toEqual({ units: -25n, scale: 3 });
    for (const bad of ["", " ", ".", "-", "1,000", "1.2.3", "abc", "1e", null, undefined]) {
      expect(parseDecimal(bad)).toBeNull();
    }
  });

  it("rounds halves away from zero and compares exactly", () => {
    expect(toFixed(roundTo(parseDecimal("1.234565")!, 5), 5)).toBe("1.23457");
    expect(toFixed(parseDecimal("-1.234565")!, 5)).toBe("-1.23457");
    expect(toFixed(parseDecimal("-0.004")!, 2)).toBe("0.00"); // no "-0.00"
    expect(compare(parseDecimal("1.10")!, parseDecimal("1.1")!)).toBe(0);
    expect(compare(parseDecimal("0.1")!, parseDecimal("0.09999")!)).toBe(1);
    // 0.1 + 0.2 style float noise never gets in: grid checks are exact.
    expect(isMultipleOf(parseDecimal("0.30")!, parseDecimal("0.01")!)).toBe(true);
    expect(isMultipleOf(parseDecimal("1.000015")!, parseDecimal("0.00001")!)).toBe(false);
    expect(toPlain(parseDecimal("0.0100")!)).toBe("0.01");
    expect(toPlain(parseDecimal("2.000")!)).toBe("2");
  });
});

describe("number formatting", () => {
  it("formats prices with the instrument's digits", () => {
    expect(formatPrice("1.1001000000", 5)).toBe("1.10010");
    expect(formatPrice("151.2345", 3)).toBe("151.235");
    expect(formatPrice("1.10010000000000000000", 5)).toBe("1.10010");
    expect(formatPrice("2345.6", 2)).toBe("2345.60"); // no grouping in prices
    expect(formatPrice(null, 5)).toBe("—");
    expect(formatPrice("", 5)).toBe("—");
  });

  it("formats money with separators and two decimals, from strings or numbers", () => {
    expect(formatMoney("100100.00000000")).toBe("100,100.00");
    expect(formatMoney("-1234567.885")).toBe("-1,234,567.89");
    expect(formatMoney("0E-8")).toBe("0.00");
    expect(formatMoney(99.995)).toBe("100.00");
    expect(formatMoney(-0.001)).toBe("0.00");
    expect(formatMoney(Number.NaN)).toBe("—");
    expect(formatMoney(null)).toBe("—");
  });

  it("formats lots without sign, percentages and P&L colours", () => {
    expect(formatLots("-1.5")).toBe("1.50");
    expect(formatLots("0.10", 2)).toBe("0.10");
    expect(formatLots("1", 3)).toBe("1.000");
    expect(lotPlaces("0.0100")).toBe(2);
    expect(lotPlaces("0.001")).toBe(3);
    expect(lotPlaces(undefined)).toBe(2);
    expect(formatPercent("2726.8812")).toBe("2,726.88%");
    expect(formatPercent(null)).toBe("—");
    expect(pnlClass("12.5")).toBe("pnl-pos");
    expect(pnlClass("-0.01")).toBe("pnl-neg");
    expect(pnlClass("0E-8")).toBe("");
    expect(pnlClass(-3)).toBe("pnl-neg");
    expect(pnlClass(null)).toBe("");
  });
});
