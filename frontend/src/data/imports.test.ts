import { describe, expect, it } from "vitest";
import type { ImportProgress, ImportRun } from "../api/types";
import {
  applyImportProgress,
  countReasons,
  importProgressView,
  mergeImportList,
  mergeImportRun,
  reasonLabel,
  summariseReasons,
} from "./imports";

function run(extra: Partial<ImportRun> = {}): ImportRun {
  return {
    id: 7,
    status: "queued",
    progress: 0,
    symbol: "EURUSD",
    file_name: "EURUSD_M1.csv",
    file_size: 2048,
    format: "mt5",
    data_kind: "bar",
    timeframe: "M1",
    tz: "",
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    first_time: null,
    last_time: null,
    error: "",
    created_by: "alice",
    created_at: "2024-06-03T10:00:00Z",
    started_at: null,
    finished_at: null,
    ...extra,
  };
}

function progress(extra: Partial<ImportProgress> = {}): ImportProgress {
  return { type: "import", id: 7, status: "running", progress: 0.5, accepted: 100, duplicates: 2, rejected: 3, error: "", ...extra };
}

describe("applyImportProgress", () => {
  it("moves a run on with the pushed status, progress and counts", () => {
    const next = applyImportProgress(run(), progress());
    expect(next).toMatchObject({ status: "running", progress: 0.5, accepted: 100, duplicates: 2, rejected: 3 });
    const done = applyImportProgress(next, progress({ status: "completed", progress: 1, accepted: 200, rejected: 4 }));
    expect(done).toMatchObject({ status: "completed", progress: 1, accepted: 200, rejected: 4 });
  });

  it("never goes back: stale progress, a running message after the end, another run", () => {
    const mid = applyImportProgress(run(), progress({ progress: 0.6, accepted: 150 }))!;
    expect(applyImportProgress(mid, progress({ progress: 0.4, accepted: 90 }))).toBe(mid);
    const done = applyImportProgress(mid, progress({ status: "completed", progress: 1 }))!;
    expect(applyImportProgress(done, progress({ status: "running", progress: 0.9 }))).toBe(done);
    expect(applyImportProgress(mid, progress({ id: 8, progress: 0.9 }))).toBe(mid);
    expect(applyImportProgress(undefined, progress())).toBeUndefined();
  });

  it("a repeat of the same state changes nothing (same object)", () => {
    const mid = applyImportProgress(run(), progress())!;
    expect(applyImportProgress(mid, progress())).toBe(mid);
  });

  it("clamps progress and keeps the failure's error", () => {
    const failed = applyImportProgress(run({ status: "running" }), progress({ status: "failed", progress: 1.7, error: "bad file" }));
    expect(failed).toMatchObject({ status: "failed", progress: 1, error: "bad file" });
  });
});

describe("mergeImportRun", () => {
  it("keeps what a push moved further than a slower REST answer", () => {
    const held = run({ status: "running", progress: 0.8, accepted: 500 });
    const fetched = run({ status: "running", progress: 0.3, accepted: 100, started_at: "2024-06-03T10:00:01Z" });
    const merged = mergeImportRun(held, fetched);
    expect(merged).toMatchObject({ progress: 0.8, accepted: 500, started_at: "2024-06-03T10:00:01Z" });
    expect(mergeImportRun(run({ status: "completed", progress: 1 }), run({ status: "running", progress: 0.9 })).status).toBe("completed");
  });

  it("takes the REST answer once the run finished or when it is further", () => {
    const fetched = run({ status: "completed", progress: 1, accepted: 990, first_time: "2024-01-02T00:00:00Z" });
    expect(mergeImportRun(run({ status: "running", progress: 0.5 }), fetched)).toBe(fetched);
    expect(mergeImportList([run({ id: 1, status: "running", progress: 0.9 })], [run({ id: 1, status: "running", progress: 0.2 }), run({ id: 2 })]).map((r) => r.progress)).toEqual([0.9, 0]);
  });
});

describe("importProgressView", () => {
  it("labels each stage", () => {
    expect(importProgressView(run())).toEqual({ percent: 0, label: "Queued…", active: true });
    expect(importProgressView(run({ status: "running", progress: 0.426, accepted: 1200, rejected: 34 }))).toEqual({
      percent: 42,
      label: "42% · 1,234 rows read",
      active: true,
    });
    expect(importProgressView(run({ status: "completed", progress: 0.99 }))).toEqual({ percent: 100, label: "Completed", active: false });
    expect(importProgressView(run({ status: "failed", progress: 0.3 })).active).toBe(false);
  });
});

describe("rejected rows by reason", () => {
  it("counts rows and sorts the most frequent first, ties by code", () => {
    const counts = countReasons([
      { reason: "bad_number" },
      { reason: "inconsistent_ohlc" },
      { reason: "bad_number" },
      { reason: "bad_timestamp" },
    ]);
    expect(counts).toEqual({ bad_number: 2, inconsistent_ohlc: 1, bad_timestamp: 1 });
    expect(summariseReasons(counts)).toEqual([
      { reason: "bad_number", label: "Not a number", count: 2 },
      { reason: "bad_timestamp", label: "Bad timestamp", count: 1 },
      { reason: "inconsistent_ohlc", label: "Inconsistent OHLC", count: 1 },
    ]);
  });

  it("drops empty counts and shows unknown codes readably", () => {
    expect(summariseReasons({ spike: 0, weird_thing: 3 })).toEqual([{ reason: "weird_thing", label: "weird thing", count: 3 }]);
    expect(reasonLabel("outside_session")).toBe("Market closed");
  });
});
