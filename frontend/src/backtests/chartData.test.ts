import { describe, expect, it } from "vitest";
import { curveData } from "./chartData";

describe("curve data for the chart", () => {
  it("shifts times to the user's wall clock and gives the drawdown in percent", () => {
    const data = curveData(
      [
        { time: "2024-06-03T11:00:00Z", equity: 100000, drawdown: 0 },
        { time: "2024-06-03T12:00:00Z", equity: 99000, drawdown: -0.01 },
      ],
      "Europe/London",
    );
    // London is UTC+1 in June: 11:00Z reads 12:00.
    expect(data.equity).toEqual([
      { time: Date.UTC(2024, 5, 3, 12) / 1000, value: 100000 },
      { time: Date.UTC(2024, 5, 3, 13) / 1000, value: 99000 },
    ]);
    expect(data.drawdown.map((p) => p.value)).toEqual([0, -1]);
  });

  it("keeps times rising strictly and drops bad points", () => {
    const data = curveData(
      [
        { time: "2024-01-01T00:00:00Z", equity: 1, drawdown: 0 },
        { time: "2024-01-01T00:00:00Z", equity: 2, drawdown: 0 },
        { time: "2023-12-31T00:00:00Z", equity: 3, drawdown: 0 },
        { time: "nope", equity: 4, drawdown: 0 },
        { time: "2024-01-02T00:00:00Z", equity: Number.NaN, drawdown: 0 },
        { time: "2024-01-03T00:00:00Z", equity: 5, drawdown: -0.5 },
      ],
      "UTC",
    );
    expect(data.equity.map((p) => p.value)).toEqual([2, 5]);
    expect(data.drawdown.map((p) => p.value)).toEqual([0, -50]);
  });
});
