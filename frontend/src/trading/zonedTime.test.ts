import { describe, expect, it } from "vitest";
import { isoToZonedWallTime, zonedWallTimeToIso, zoneOffsetMs } from "./zonedTime";

describe("zoned wall times", () => {
  it("reads a wall time in the profile's zone, across DST", () => {
    expect(zonedWallTimeToIso("2024-06-03T17:00", "Europe/London")).toBe("2024-06-03T16:00:00.000Z");
    expect(zonedWallTimeToIso("2024-01-15T17:00", "Europe/London")).toBe("2024-01-15T17:00:00.000Z");
    expect(zonedWallTimeToIso("2024-06-03T17:00", "America/New_York")).toBe("2024-06-03T21:00:00.000Z");
    expect(zonedWallTimeToIso("2024-06-03T17:00:30", "Asia/Tokyo")).toBe("2024-06-03T08:00:30.000Z");
    expect(zonedWallTimeToIso("2024-06-03T17:00", "UTC")).toBe("2024-06-03T17:00:00.000Z");
    // Just after the spring-forward gap in New York (02:00 → 03:00 on 10 March 2024).
    expect(zonedWallTimeToIso("2024-03-10T03:30", "America/New_York")).toBe("2024-03-10T07:30:00.000Z");
    expect(zonedWallTimeToIso("tomorrow", "UTC")).toBeNull();
  });

  it("writes an instant as the zone's wall time (datetime-local value)", () => {
    const t = Date.parse("2024-06-03T16:00:00Z");
    expect(isoToZonedWallTime(t, "Europe/London")).toBe("2024-06-03T17:00");
    expect(isoToZonedWallTime(t, "Asia/Tokyo")).toBe("2024-06-04T01:00");
    expect(zoneOffsetMs(t, "Europe/London")).toBe(3_600_000);
    expect(zoneOffsetMs(t, "America/New_York")).toBe(-4 * 3_600_000);
    // Unknown zone: the browser's own, never a crash.
    expect(zonedWallTimeToIso("2024-06-03T17:00", "Mars/Olympus")).not.toBeNull();
  });
});
