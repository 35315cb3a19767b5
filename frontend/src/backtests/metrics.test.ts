import { describe, expect, it } from "vitest";
import { formatMetric, formatReturn, metricCells } from "./metrics";

describe("metrics formatting", () => {
  it("shows fractions as percentages, ratios to two places, money grouped", () => {
    expect(formatMetric(0.12345, "percent")).toBe("12.35%");
    expect(formatMetric(-0.0842, "percent")).toBe("-8.42%");
    expect(formatMetric(12.5, "percent")).toBe("1,250.00%");
    expect(formatMetric(1.456, "ratio")).toBe("1.46");
    expect(formatMetric(-0.3, "ratio")).toBe("-0.30");
    expect(formatMetric(12345.678, "money")).toBe("12,345.68");
    expect(formatMetric(-35.5, "money")).toBe("-35.50");
    expect(formatMetric(1234, "count")).toBe("1,234");
    expect(formatMetric(12.34, "days")).toBe("12.3 d");
    expect(formatMetric(7.25, "bars")).toBe("7.3");
  });

  it("shows a dash for a missing figure", () => {
    expect(formatMetric(null, "percent")).toBe("—");
    expect(formatMetric(undefined, "ratio")).toBe("—");
    expect(formatMetric(Number.POSITIVE_INFINITY, "money")).toBe("—");
  });

  it("builds the grid's cells, coloured by sign where the sign means something", () => {
    const cells = metricCells({ total_return: 0.1, max_drawdown: 0.05, sharpe: 1.2, profit_factor: null, net_profit: 10000 });
    const byKey = Object.fromEntries(cells.map((c) => [c.key, c]));
    expect(byKey.total_return).toMatchObject({ label: "Total return", text: "10.00%", className: "pnl-pos" });
    expect(byKey.max_drawdown).toMatchObject({ text: "-5.00%", className: "pnl-neg" });
    expect(byKey.sharpe).toMatchObject({ text: "1.20", className: "" });
    expect(byKey.profit_factor!.text).toBe("—");
    expect(byKey.net_profit!.text).toBe("10,000.00");
    expect(byKey.trades!.text).toBe("—");
    expect(metricCells(null)).toHaveLength(cells.length);
    // The drawdown is a loss whichever way the server signs it.
    const dd = metricCells({ max_drawdown: -0.05 }).find((c) => c.key === "max_drawdown")!;
    expect(dd).toMatchObject({ text: "-5.00%", className: "pnl-neg" });
    expect(metricCells({ max_drawdown: 0 }).find((c) => c.key === "max_drawdown")!.text).toBe("0.00%");
  });

  it("shows monthly returns signed, one decimal", () => {
    expect(formatReturn(0.0123)).toBe("+1.2%");
    expect(formatReturn(-0.004)).toBe("-0.4%");
    expect(formatReturn(0.00001)).toBe("0.0%");
    expect(formatReturn(null)).toBe("—");
  });
});
