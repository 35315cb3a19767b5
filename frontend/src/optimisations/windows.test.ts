import { describe, expect, it } from "vitest";
import type { OptimisationResult, Trial } from "../api/types";
import { degradationRatio, formatDegradation, planWindows, stitchedPoints, windowRows } from "./windows";

const START = "2024-01-01T00:00:00Z";
const END = "2024-12-31T00:00:00Z";

describe("the walk-forward plan", () => {
  it("slides rolling windows with a fixed in-sample length, as the server cuts them", () => {
    const plan = planWindows(START, END, { mode: "rolling", in_sample_days: 120, out_of_sample_days: 60 });
    expect(plan).toHaveLength(4); // 120 + 4 × 60 = 360 ≤ 365 < 420
    expect(plan[0]).toEqual({
      window: 0,
      in_sample: ["2024-01-01T00:00:00.000Z", "2024-04-30T00:00:00.000Z"],
      out_of_sample: ["2024-04-30T00:00:00.000Z", "2024-06-29T00:00:00.000Z"],
    });
    expect(plan[1]!.in_sample[0]).toBe("2024-03-01T00:00:00.000Z");
  });

  it("anchors every window at the start", () => {
    const plan = planWindows(START, END, { mode: "anchored", in_sample_days: 120, out_of_sample_days: 60 });
    expect(plan.map((w) => w.in_sample[0])).toEqual(Array(4).fill("2024-01-01T00:00:00.000Z"));
    expect(plan[3]!.in_sample[1]).toBe(plan[3]!.out_of_sample![0]);
  });

  it("is one window without walk-forward", () => {
    expect(planWindows(START, END, null)).toEqual([{ window: 0, in_sample: [START, END], out_of_sample: null }]);
  });
});

let n = 0;
const t = (window: number, phase: "is" | "oos", value: number | null, status: Trial["status"] = "done", metrics = {}): Trial => ({
  id: ++n,
  window,
  phase,
  number: n,
  params: { fast: n },
  status,
  value,
  metrics,
  error: "",
  worker: "",
  seconds: 1,
});

describe("the windows table", () => {
  const opt = { start: START, end: END, walk_forward: { mode: "rolling" as const, in_sample_days: 120, out_of_sample_days: 60 }, objective: "sharpe" as const };

  it("builds provisional rows from the trials while the search runs", () => {
    const trials = [
      t(0, "is", 0.5),
      t(0, "is", 1.2),
      t(0, "is", null, "invalid"),
      t(0, "oos", 0.3, "done", { sharpe: 0.6 }),
      t(1, "is", -0.4),
      t(1, "is", null, "queued"),
    ];
    const rows = windowRows(opt, null, trials);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatchObject({
      provisional: true,
      trials: 3,
      valid_trials: 2,
      in_sample_value: 1.2,
      best_params: { fast: trials[1]!.params.fast },
      out_of_sample_value: 0.6, // the objective of the out-of-sample metrics
      degradation: 0.5,
    });
    expect(rows[1]).toMatchObject({ in_sample_value: -0.4, out_of_sample_value: null, degradation: null, trials: 2 });
    expect(rows[3]).toMatchObject({ trials: 0, in_sample_value: null, best_params: null });
  });

  it("uses the server's windows once it has them", () => {
    const result: OptimisationResult = {
      windows: [
        {
          window: 0,
          in_sample: [START, "2024-04-30T00:00:00Z"],
          out_of_sample: ["2024-04-30T00:00:00Z", "2024-06-29T00:00:00Z"],
          trials: 9,
          valid_trials: 8,
          best_params: { fast: 10 },
          in_sample_value: 2,
          in_sample_metrics: {},
          out_of_sample_value: 0.5,
          out_of_sample_metrics: {},
          degradation: 0.25,
        },
      ],
    };
    expect(windowRows(opt, result, [])).toEqual([{ ...result.windows![0], provisional: false }]);
  });

  it("gives a degradation ratio only over a positive in-sample value", () => {
    expect(degradationRatio(0.5, 2)).toBe(0.25);
    expect(degradationRatio(0.5, 0)).toBeNull();
    expect(degradationRatio(0.5, -1)).toBeNull();
    expect(degradationRatio(null, 1)).toBeNull();
    expect(formatDegradation(0.25)).toBe("0.25×");
    expect(formatDegradation(null)).toBe("—");
  });

  it("turns the stitched equity into chart points with the drawdown from the peak", () => {
    const points = stitchedPoints({ time: [Date.parse(START), Date.parse(START) + 3600_000, Date.parse(START) + 7200_000], equity: [100, 120, 90] });
    expect(points.map((p) => [p.time, p.equity, Number(p.drawdown.toFixed(4))])).toEqual([
      ["2024-01-01T00:00:00.000Z", 100, 0],
      ["2024-01-01T01:00:00.000Z", 120, 0],
      ["2024-01-01T02:00:00.000Z", 90, -0.25],
    ]);
    expect(stitchedPoints(undefined)).toEqual([]);
  });
});
