import { describe, expect, it } from "vitest";
import { barWidth, formatLimitValue, formatUsedPct, usageLevel } from "./usage";

describe("usageLevel", () => {
  it("is ok up to 80 %, amber above it, red from 100 %", () => {
    expect(usageLevel("0")).toBe("ok");
    expect(usageLevel("80.0")).toBe("ok");
    expect(usageLevel("80.1")).toBe("warn");
    expect(usageLevel("99.9")).toBe("warn");
    expect(usageLevel("100.0")).toBe("breach");
    expect(usageLevel("250")).toBe("breach");
    expect(usageLevel(85)).toBe("warn");
  });

  it("has no level without a percentage, unless the monitor recorded a breach", () => {
    expect(usageLevel(null)).toBe("none");
    expect(usageLevel(undefined)).toBe("none");
    expect(usageLevel("abc")).toBe("none");
    expect(usageLevel(null, true)).toBe("breach");
    expect(usageLevel("12.0", true)).toBe("breach");
  });
});

describe("barWidth", () => {
  it("clamps to 0..100", () => {
    expect(barWidth("45.5")).toBe(45.5);
    expect(barWidth("180")).toBe(100);
    expect(barWidth("-3")).toBe(0);
    expect(barWidth(null)).toBe(0);
  });
});

describe("formatLimitValue", () => {
  it("writes each unit as the desk does", () => {
    expect(formatLimitValue("0.50", "lots")).toBe("0.50");
    expect(formatLimitValue("25000.00000000", "money")).toBe("25,000.00");
    expect(formatLimitValue("150.0", "percent")).toBe("150.00%");
    expect(formatLimitValue(12, "count")).toBe("12");
    expect(formatLimitValue("2.5", "ratio")).toBe("2.50×");
    expect(formatLimitValue(null, "money")).toBe("—");
  });

  it("keeps one decimal for the share used", () => {
    expect(formatUsedPct("85.04")).toBe("85.0%");
    expect(formatUsedPct(null)).toBe("—");
  });
});
