import { describe, expect, it } from "vitest";
import { monthlyTable, returnClass } from "./monthly";

describe("monthly returns table", () => {
  it("makes a row per year, January first, with the year's compounded total", () => {
    const years = monthlyTable([
      { month: "2023-11", return: 0.01 },
      { month: "2023-12", return: -0.02 },
      { month: "2024-01", return: 0.1 },
      { month: "2024-02", return: 0.1 },
      { month: "2024-03", return: null },
    ]);
    expect(years.map((y) => y.year)).toEqual([2023, 2024]);
    expect(years[0]!.months).toEqual([null, null, null, null, null, null, null, null, null, null, 0.01, -0.02]);
    expect(years[0]!.total).toBeCloseTo(1.01 * 0.98 - 1, 12);
    expect(years[1]!.months.slice(0, 4)).toEqual([0.1, 0.1, null, null]);
    expect(years[1]!.total).toBeCloseTo(0.21, 12);
  });

  it("sorts years, skips malformed months and keeps a repeated month's last value", () => {
    const years = monthlyTable([
      { month: "2025-02", return: 0.03 },
      { month: "bad", return: 0.5 },
      { month: "2024-13", return: 0.5 },
      { month: "2024-05", return: 0.01 },
      { month: "2024-05", return: 0.02 },
    ]);
    expect(years.map((y) => y.year)).toEqual([2024, 2025]);
    expect(years[0]!.months[4]).toBe(0.02);
    expect(years[0]!.months.filter((m) => m !== null)).toHaveLength(1);
  });

  it("has nothing without months", () => {
    expect(monthlyTable([])).toEqual([]);
    expect(monthlyTable(undefined)).toEqual([]);
    expect(monthlyTable([{ month: "2024-01", return: null }])[0]!.total).toBeNull();
  });

  it("colours cells by sign, stronger from 2%", () => {
    expect(returnClass(0.005)).toBe("ret-pos");
    expect(returnClass(0.03)).toBe("ret-pos-strong");
    expect(returnClass(-0.005)).toBe("ret-neg");
    expect(returnClass(-0.02)).toBe("ret-neg-strong");
    expect(returnClass(0)).toBe("ret-zero");
    expect(returnClass(null)).toBe("ret-zero");
  });
});
