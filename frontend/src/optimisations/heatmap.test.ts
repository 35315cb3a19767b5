import { describe, expect, it } from "vitest";
import type { Trial } from "../api/types";
import { axisLabel, heatColor, heatFraction, heatmapMatrix } from "./heatmap";

let n = 0;
function trial(fast: unknown, slow: unknown, value: number | null, status: Trial["status"] = value === null ? "invalid" : "done", extra: Partial<Trial> = {}): Trial {
  n += 1;
  return { id: n, window: 0, phase: "is", number: n, params: { fast, slow }, status, value, metrics: {}, error: "", worker: "", seconds: 0.1, ...extra };
}

describe("the heatmap matrix", () => {
  it("puts each trial at its (x, y), sorts the axes numerically and finds the range and the best", () => {
    const m = heatmapMatrix(
      [trial(10, 30, 0.5), trial(5, 30, -0.2), trial(5, 40, 1.5), trial(10, 40, null)],
      "fast",
      "slow",
    );
    expect(m.xs).toEqual([5, 10]);
    expect(m.ys).toEqual([30, 40]);
    expect(m.rows.map((r) => r.map((c) => c && (c.status === "done" ? c.value : c.status)))).toEqual([
      [-0.2, 0.5],
      [1.5, "invalid"],
    ]);
    expect([m.min, m.max]).toEqual([-0.2, 1.5]);
    expect(m.best?.x).toBe(5);
    expect(m.best?.y).toBe(40);
  });

  it("marks refused and failed points invalid, queued ones pending, and leaves untried ones empty", () => {
    const m = heatmapMatrix(
      [trial(1, 1, null, "failed", { error: "boom" }), trial(2, 1, null, "queued"), trial(1, 2, 0.3)],
      "fast",
      "slow",
    );
    expect(m.rows[0]![0]).toMatchObject({ status: "invalid" });
    expect(m.rows[0]![0]!.trial.error).toBe("boom");
    expect(m.rows[0]![1]).toMatchObject({ status: "pending" });
    expect(m.rows[1]![1]).toBeNull();
  });

  it("keeps the best of trials at the same point (random searches repeat) and counts them", () => {
    const m = heatmapMatrix([trial(1, 1, 0.2), trial(1, 1, null), trial(1, 1, 0.9), trial(1, 1, 0.4)], "fast", "slow");
    expect(m.rows[0]![0]).toMatchObject({ value: 0.9, status: "done", count: 4 });
  });

  it("reads one window's in-sample trials only", () => {
    const trials = [
      trial(1, 1, 0.1, "done", { window: 0 }),
      trial(1, 1, 0.7, "done", { window: 1 }),
      trial(2, 1, 5, "done", { window: 1, phase: "oos" }),
    ];
    const w1 = heatmapMatrix(trials, "fast", "slow", 1);
    expect(w1.xs).toEqual([1]);
    expect(w1.rows[0]![0]!.value).toBe(0.7);
    const all = heatmapMatrix(trials, "fast", "slow");
    expect(all.rows[0]![0]!.value).toBe(0.7);
    expect(all.xs).toEqual([1]); // out-of-sample tests are not on the map
  });

  it("swaps axes and orders text values", () => {
    const m = heatmapMatrix([trial("sma", true, 1), trial("ema", false, 2)], "slow", "fast");
    expect(m.xs).toEqual([false, true]);
    expect(m.ys).toEqual(["ema", "sma"]);
  });

  it("colours from red (worst) to green (best)", () => {
    expect(heatFraction(5, 0, 10)).toBe(0.5);
    expect(heatFraction(3, 3, 3)).toBe(0.5);
    expect(heatFraction(-1, 0, 10)).toBe(0);
    expect(heatColor(0)).toBe("rgb(176, 48, 72)");
    expect(heatColor(1)).toBe("rgb(40, 160, 100)");
    expect(heatColor(0.5)).toBe("rgb(196, 150, 40)");
    expect(axisLabel(0.30000000000000004)).toBe("0.3");
  });
});
