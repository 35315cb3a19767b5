import { describe, expect, it } from "vitest";
import { isBeyond, pipsToDistance, pipsToPrice, pointOf, priceToPips } from "./pips";

const EURUSD = { digits: 5, pip_size: "0.00010000", point: "0.00001000" };
const USDJPY = { digits: 3, pip_size: "0.01000000", point: "0.00100000" };
const XAUUSD = { digits: 2, pip_size: "0.10000000" };

describe("pips", () => {
  it("uses the instrument's point, or 10^-digits without one", () => {
    expect(pointOf(EURUSD)).toBe("0.00001000");
    expect(pointOf(XAUUSD)).toBe("0.01");
    expect(pointOf({ digits: 3, point: "0" })).toBe("0.001");
  });

  it("converts pips into price distances with the pip size, rounded to the digits", () => {
    expect(pipsToDistance("25", EURUSD.pip_size, EURUSD.digits)).toBe("0.00250");
    expect(pipsToDistance("12.5", EURUSD.pip_size, EURUSD.digits)).toBe("0.00125");
    expect(pipsToDistance("12.34", EURUSD.pip_size, EURUSD.digits)).toBe("0.00123");
    expect(pipsToDistance("25", USDJPY.pip_size, USDJPY.digits)).toBe("0.250");
    expect(pipsToDistance("15", XAUUSD.pip_size, XAUUSD.digits)).toBe("1.50");
    expect(pipsToDistance("0", EURUSD.pip_size, 5)).toBeNull();
    expect(pipsToDistance("-3", EURUSD.pip_size, 5)).toBeNull();
    expect(pipsToDistance("0.01", EURUSD.pip_size, 5)).toBeNull(); // rounds to nothing
    expect(pipsToDistance("abc", EURUSD.pip_size, 5)).toBeNull();
  });

  it("places prices pips above or below a reference", () => {
    expect(pipsToPrice("1.08500", "25", -1, EURUSD.pip_size, 5)).toBe("1.08250");
    expect(pipsToPrice("1.08500", "40", 1, EURUSD.pip_size, 5)).toBe("1.08900");
    expect(pipsToPrice("151.230", "25", 1, USDJPY.pip_size, 3)).toBe("151.480");
    expect(pipsToPrice("151.230", "25.5", -1, USDJPY.pip_size, 3)).toBe("150.975");
    expect(pipsToPrice("0.00100", "20", -1, EURUSD.pip_size, 5)).toBeNull(); // would go negative
  });

  it("measures a price's distance from a reference in pips", () => {
    expect(priceToPips("1.08500", "1.08250", EURUSD.pip_size)).toBe(-25);
    expect(priceToPips("1.08500", "1.08512", EURUSD.pip_size)).toBe(1.2);
    expect(priceToPips("151.230", "151.480", USDJPY.pip_size)).toBe(25);
    expect(priceToPips("1.08500", "x", EURUSD.pip_size)).toBeNull();
    expect(isBeyond("1.1", "1.0", 1)).toBe(true);
    expect(isBeyond("1.0", "1.0", 1)).toBe(false);
    expect(isBeyond("0.9", "1.0", -1)).toBe(true);
  });
});
