import { describe, expect, it } from "vitest";
import {
  bollinger,
  computeOverlays,
  DEFAULT_INDICATORS,
  ema,
  parseDeviations,
  parsePeriod,
  sma,
  updateOverlaysLast,
  type IndicatorSettings,
} from "./indicators";

const close = (a: (number | null)[], b: (number | null)[]) => {
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => {
    if (b[i] === null) expect(v).toBeNull();
    else expect(v).toBeCloseTo(b[i]!, 10);
  });
};

describe("sma", () => {
  it("averages the last n values, null until the window is full", () => {
    close(sma([1, 2, 3, 4, 5], 3), [null, null, 2, 3, 4]);
    close(sma([2, 4, 6, 8], 1), [2, 4, 6, 8]);
    close(sma([1, 2], 3), [null, null]);
  });

  it("gives nothing for a nonsensical period", () => {
    close(sma([1, 2, 3], 0), [null, null, null]);
    close(sma([1, 2, 3], 1.5), [null, null, null]);
  });
});

describe("ema", () => {
  it("seeds with the SMA of the first window, then α = 2/(n+1)", () => {
    // n = 3, α = 0.5: seed (1+2+3)/3 = 2; then 0.5·4 + 0.5·2 = 3; 0.5·5 + 0.5·3 = 4; 0.5·10 + 0.5·4 = 7
    close(ema([1, 2, 3, 4, 5, 10], 3), [null, null, 2, 3, 4, 7]);
  });

  it("n = 4 (α = 0.4) on FX-like prices", () => {
    const values = [1.1, 1.2, 1.3, 1.4, 1.5];
    // seed 1.25; then 0.4·1.5 + 0.6·1.25 = 1.35
    close(ema(values, 4), [null, null, null, 1.25, 1.35]);
  });
});

describe("bollinger", () => {
  it("is the SMA ± k population standard deviations", () => {
    // window [2, 4, 4, 4, 5, 5, 7, 9]: mean 5, population sd 2
    const values = [2, 4, 4, 4, 5, 5, 7, 9];
    const bands = bollinger(values, 8, 2);
    expect(bands.middle.slice(0, 7).every((v) => v === null)).toBe(true);
    expect(bands.middle[7]).toBeCloseTo(5, 12);
    expect(bands.upper[7]).toBeCloseTo(9, 12);
    expect(bands.lower[7]).toBeCloseTo(1, 12);
  });

  it("flat prices have zero width", () => {
    const bands = bollinger([1.1, 1.1, 1.1], 3, 2);
    expect(bands.upper[2]).toBeCloseTo(1.1, 12);
    expect(bands.lower[2]).toBeCloseTo(1.1, 12);
  });
});

describe("updateOverlaysLast", () => {
  const settings: IndicatorSettings = {
    sma: { on: true, period: 3 },
    ema: { on: true, period: 3 },
    bb: { on: true, period: 4, deviations: 2 },
  };

  function expectSame(a: ReturnType<typeof computeOverlays>, b: ReturnType<typeof computeOverlays>) {
    close(a.sma!, b.sma!);
    close(a.ema!, b.ema!);
    close(a.bb!.middle, b.bb!.middle);
    close(a.bb!.upper, b.bb!.upper);
    close(a.bb!.lower, b.bb!.lower);
  }

  it("the open bar moving: recomputing the last value equals a full recompute", () => {
    const before = [1, 2, 3, 4, 5, 6];
    const after = [1, 2, 3, 4, 5, 9];
    const incremental = updateOverlaysLast(computeOverlays(before, settings), after, settings, false);
    expectSame(incremental, computeOverlays(after, settings));
    // 9 replaces 6: SMA(3) = (4+5+9)/3, EMA(3) = 0.5·9 + 0.5·EMA₄ (EMA₄ = 4)
    expect(incremental.sma![5]).toBeCloseTo(6, 12);
    expect(incremental.ema![5]).toBeCloseTo(6.5, 12);
  });

  it("a new bar: appends, and the bar that closed in the same batch is recomputed too", () => {
    const before = [1, 2, 3, 4, 5];
    const after = [1, 2, 3, 4, 5.5, 7]; // bar 4 got its final close, bar 5 opened
    const incremental = updateOverlaysLast(computeOverlays(before, settings), after, settings, true);
    expectSame(incremental, computeOverlays(after, settings));
  });

  it("a bar arriving exactly as the window fills seeds the EMA", () => {
    const incremental = updateOverlaysLast(computeOverlays([1, 2], settings), [1, 2, 3], settings, true);
    close(incremental.ema!, [null, null, 2]);
  });

  it("computes in full an overlay just switched on, and leaves out those switched off", () => {
    const only = { ...DEFAULT_INDICATORS, sma: { on: true, period: 2 } };
    const prev = computeOverlays([1, 2, 3], only);
    const next = updateOverlaysLast(prev, [1, 2, 3, 4], { ...only, ema: { on: true, period: 2 } }, true);
    close(next.ema!, ema([1, 2, 3, 4], 2));
    expect(next.bb).toBeUndefined();
  });

  it("does not touch the previous series", () => {
    const prev = computeOverlays([1, 2, 3, 4], settings);
    const copy = structuredClone(prev);
    updateOverlaysLast(prev, [1, 2, 3, 8], settings, false);
    expect(prev).toEqual(copy);
  });
});

describe("inputs", () => {
  it("periods are whole numbers in 1..500", () => {
    expect(parsePeriod("20")).toBe(20);
    expect(parsePeriod(" 7 ")).toBe(7);
    expect(parsePeriod("0")).toBeNull();
    expect(parsePeriod("501")).toBeNull();
    expect(parsePeriod("2.5")).toBeNull();
    expect(parsePeriod("")).toBeNull();
  });

  it("deviations are positive numbers up to 10", () => {
    expect(parseDeviations("2")).toBe(2);
    expect(parseDeviations("2.5")).toBe(2.5);
    expect(parseDeviations("0")).toBeNull();
    expect(parseDeviations("-1")).toBeNull();
    expect(parseDeviations("abc")).toBeNull();
  });
});
