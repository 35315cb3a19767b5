import { describe, expect, it } from "vitest";
import type { Quote } from "../api/types";
import { applyQuote, formatPips, simulatedMix, spreadPips } from "./quotes";

const q = (bid: string | null, ask: string | null, time: string | null, extra: Partial<Quote> = {}): Quote => ({
  symbol: "EURUSD",
  bid,
  ask,
  time,
  source: "demo",
  simulated: true,
  ...extra,
});

describe("spreadPips", () => {
  it("divides by the instrument's pip size (EURUSD 0.0001, USDJPY 0.01)", () => {
    expect(spreadPips("1.08500", "1.08512", "0.00010000")).toBe(1.2);
    expect(spreadPips("1.08500", "1.08512", "0.0001")).toBe(1.2);
    expect(spreadPips("151.230", "151.245", "0.01000000")).toBe(1.5);
    expect(spreadPips("151.230", "151.245", 0.01)).toBe(1.5);
    expect(spreadPips("1.27001", "1.27004", "0.0001")).toBe(0.3);
    expect(spreadPips("1.1", "1.3", "0.0001")).toBe(2000);
  });

  it("has no float noise", () => {
    // Naively (1.08512 - 1.085) / 0.0001 = 1.2000000000000455
    expect(formatPips(spreadPips("1.08500", "1.08512", "0.0001"))).toBe("1.2");
    expect(spreadPips("0.70010", "0.70017", "0.0001")).toBe(0.7);
  });

  it("is null when a side or the pip size is missing or invalid", () => {
    expect(spreadPips(null, "1.1", "0.0001")).toBeNull();
    expect(spreadPips("1.1", null, "0.0001")).toBeNull();
    expect(spreadPips("1.1", "1.2", null)).toBeNull();
    expect(spreadPips("1.1", "1.2", "0")).toBeNull();
    expect(spreadPips("x", "1.2", "0.0001")).toBeNull();
    expect(formatPips(null)).toBe("—");
  });
});

describe("applyQuote", () => {
  it("records the first quote without a direction", () => {
    const row = applyQuote(undefined, q("1.08500", "1.08512", "2024-06-03T12:00:00Z"));
    expect(row).toMatchObject({ bid: "1.08500", ask: "1.08512", bidDir: 0, askDir: 0, bidSeq: 1, askSeq: 1 });
  });

  it("marks up/down per side and bumps only the changed side's sequence", () => {
    const first = applyQuote(undefined, q("1.08500", "1.08512", "2024-06-03T12:00:00Z"))!;
    const up = applyQuote(first, q("1.08503", "1.08512", "2024-06-03T12:00:01Z"))!;
    expect(up).toMatchObject({ bidDir: 1, askDir: 0, bidSeq: 2, askSeq: 1 });
    const down = applyQuote(up, q("1.08501", "1.08510", "2024-06-03T12:00:02Z"))!;
    expect(down).toMatchObject({ bidDir: -1, askDir: -1, bidSeq: 3, askSeq: 2 });
  });

  it("never rewinds to an older quote and ignores empty ones", () => {
    const row = applyQuote(undefined, q("1.08503", "1.08515", "2024-06-03T12:00:05Z"))!;
    expect(applyQuote(row, q("1.08500", "1.08512", "2024-06-03T12:00:00Z"))).toBe(row);
    expect(applyQuote(row, q(null, null, null))).toBe(row);
    expect(applyQuote(row, { ...row })).toBe(row);
  });

  it("does not flash on a non-flashing update", () => {
    const row = applyQuote(undefined, q("1.08500", "1.08512", "2024-06-03T12:00:00Z"))!;
    expect(applyQuote(row, q("1.08600", "1.08612", "2024-06-03T12:00:01Z"), false)).toMatchObject({
      bidDir: 0,
      askDir: 0,
    });
  });
});

describe("simulatedMix", () => {
  it("ignores rows without a quote", () => {
    const sim = q("1", "1", "t", { simulated: true });
    const real = q("1", "1", "t", { simulated: false });
    const empty = q(null, null, null, { simulated: null });
    expect(simulatedMix([])).toBe("none");
    expect(simulatedMix([empty])).toBe("none");
    expect(simulatedMix([sim, empty])).toBe("all");
    expect(simulatedMix([sim, real])).toBe("some");
    expect(simulatedMix([real, empty])).toBe("none");
  });
});
