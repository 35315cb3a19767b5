/**
 * Wall-clock times in the user's profile time zone (not necessarily the
 * browser's): a GTD expiry typed as "2024-06-03T17:00" means 17:00 in
 * `/api/v1/me/`'s `timezone`.
 */

const WALL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

const partsCache = new Map<string, Intl.DateTimeFormat>();

function partsFormat(timeZone: string | undefined): Intl.DateTimeFormat {
  const key = timeZone ?? "";
  let format = partsCache.get(key);
  if (!format) {
    const options: Intl.DateTimeFormatOptions = {
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    };
    try {
      format = new Intl.DateTimeFormat("en-US", { ...options, timeZone });
    } catch {
      format = new Intl.DateTimeFormat("en-US", options);
    }
    partsCache.set(key, format);
  }
  return format;
}

/** The zone's wall clock at `epochMs`, as epoch ms of the same fields read as UTC. */
function wallAsUtc(epochMs: number, timeZone: string | undefined): number {
  const parts: Record<string, number> = {};
  for (const part of partsFormat(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value);
  }
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour! % 24, parts.minute!, parts.second!);
}

/** Offset of the zone from UTC at `epochMs`, in ms (London in summer: +3 600 000). */
export function zoneOffsetMs(epochMs: number, timeZone: string | undefined): number {
  const whole = Math.floor(epochMs / 1000) * 1000;
  return wallAsUtc(whole, timeZone) - whole;
}

/**
 * "YYYY-MM-DDTHH:mm[:ss]" in `timeZone` → ISO UTC ("...Z"), or null if malformed.
 * A time skipped by a DST change resolves to the later offset.
 */
export function zonedWallTimeToIso(wall: string, timeZone: string | undefined): string | null {
  const match = WALL_RE.exec(wall.trim());
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  const asUtc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  if (Number.isNaN(asUtc)) return null;
  let guess = asUtc - zoneOffsetMs(asUtc, timeZone);
  // Second pass: the offset at the guessed instant (DST boundaries).
  guess = asUtc - zoneOffsetMs(guess, timeZone);
  return new Date(guess).toISOString();
}

/** An instant as "YYYY-MM-DDTHH:mm" in `timeZone` (the value of a datetime-local input). */
export function isoToZonedWallTime(epochMs: number, timeZone: string | undefined): string {
  return new Date(wallAsUtc(epochMs, timeZone)).toISOString().slice(0, 16);
}
