import { afterEach, describe, expect, it, vi } from "vitest";
import {
  computeRefreshDelay,
  decodeJwtPayload,
  getTokenExpiry,
  isTokenExpired,
  MIN_REFRESH_DELAY_MS,
  REFRESH_LEAD_MS,
  scheduleRefresh,
} from "./jwt";
import { makeJwt } from "../test/helpers";

const NOW = Date.UTC(2025, 0, 1, 12, 0, 0);
const nowSec = NOW / 1000;

describe("decodeJwtPayload", () => {
  it("decodes a base64url payload (with - and _ and no padding)", () => {
    // "ü?>" style characters force '-' / '_' into the base64url encoding.
    const payload = { exp: 1700000000, name: "Zoë ü?>~~~", user_id: 7 };
    const token = makeJwt(payload);
    expect(token.split(".")[1]).not.toMatch(/[+/=]/);
    expect(token.split(".")[1]).toMatch(/[-_]/);
    expect(decodeJwtPayload(token)).toEqual(payload);
  });

  it("returns null for malformed tokens", () => {
    expect(decodeJwtPayload("")).toBeNull();
    expect(decodeJwtPayload("abc")).toBeNull();
    expect(decodeJwtPayload("a.b")).toBeNull();
    expect(decodeJwtPayload("a.!!!.c")).toBeNull();
    expect(decodeJwtPayload(`x.${btoa("not json")}.y`)).toBeNull();
    expect(decodeJwtPayload(`x.${btoa("[1,2]")}.y`)).toBeNull();
  });
});

describe("getTokenExpiry / isTokenExpired", () => {
  it("returns exp in milliseconds", () => {
    expect(getTokenExpiry(makeJwt({ exp: nowSec + 300 }))).toBe(NOW + 300_000);
  });

  it("returns null without a numeric exp", () => {
    expect(getTokenExpiry(makeJwt({ sub: "1" }))).toBeNull();
    expect(getTokenExpiry(makeJwt({ exp: "soon" }))).toBeNull();
    expect(getTokenExpiry("garbage")).toBeNull();
  });

  it("knows whether a token is expired", () => {
    expect(isTokenExpired(makeJwt({ exp: nowSec - 1 }), NOW)).toBe(true);
    expect(isTokenExpired(makeJwt({ exp: nowSec + 1 }), NOW)).toBe(false);
    expect(isTokenExpired(makeJwt({}), NOW)).toBe(false);
  });
});

describe("computeRefreshDelay", () => {
  it("refreshes 60 s before expiry", () => {
    expect(REFRESH_LEAD_MS).toBe(60_000);
    expect(computeRefreshDelay(makeJwt({ exp: nowSec + 300 }), NOW)).toBe(240_000);
    expect(computeRefreshDelay(makeJwt({ exp: nowSec + 3600 }), NOW)).toBe(3_540_000);
  });

  it("refreshes immediately when already expired", () => {
    expect(computeRefreshDelay(makeJwt({ exp: nowSec }), NOW)).toBe(0);
    expect(computeRefreshDelay(makeJwt({ exp: nowSec - 100 }), NOW)).toBe(0);
  });

  it("does not spin on tokens that are inside the lead window", () => {
    // 30 s left: min(5 s, 15 s)
    expect(computeRefreshDelay(makeJwt({ exp: nowSec + 30 }), NOW)).toBe(MIN_REFRESH_DELAY_MS);
    // 4 s left: half of the remaining lifetime
    expect(computeRefreshDelay(makeJwt({ exp: nowSec + 4 }), NOW)).toBe(2_000);
  });

  it("returns null when there is no exp", () => {
    expect(computeRefreshDelay(makeJwt({ sub: "x" }), NOW)).toBeNull();
  });

  it("clamps to the maximum setTimeout delay", () => {
    expect(computeRefreshDelay(makeJwt({ exp: nowSec + 365 * 86400 }), NOW)).toBe(2_147_483_647);
  });
});

describe("scheduleRefresh", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("fires the callback ~60 s before expiry", () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    const refresh = vi.fn();
    scheduleRefresh(makeJwt({ exp: nowSec + 300 }), refresh);
    vi.advanceTimersByTime(239_999);
    expect(refresh).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it("can be cancelled", () => {
    vi.useFakeTimers();
    vi.setSystemTime(NOW);
    const refresh = vi.fn();
    const cancel = scheduleRefresh(makeJwt({ exp: nowSec + 120 }), refresh);
    cancel();
    vi.advanceTimersByTime(600_000);
    expect(refresh).not.toHaveBeenCalled();
  });

  it("does nothing for tokens without exp", () => {
    vi.useFakeTimers();
    const refresh = vi.fn();
    scheduleRefresh(makeJwt({}), refresh);
    vi.runAllTimers();
    expect(refresh).not.toHaveBeenCalled();
  });
});
