/** Format an ISO timestamp in the given IANA zone (falls back to the browser's zone). */
export function formatDateTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions = {
    year: "numeric",
    month: "short",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
    timeZoneName: "short",
  };
  try {
    return new Intl.DateTimeFormat(undefined, { ...options, timeZone }).format(date);
  } catch {
    return new Intl.DateTimeFormat(undefined, options).format(date);
  }
}

export function formatLatency(ms: number | undefined): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return "—";
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function formatClock(epochMs: number): string {
  return new Date(epochMs).toLocaleTimeString(undefined, { hour12: false });
}

const formatterCache = new Map<string, Intl.DateTimeFormat>();

/** Cached Intl.DateTimeFormat (quotes re-render many times a second); bad zones fall back to the browser's. */
function dateTimeFormat(kind: "time" | "dayTime" | "day", timeZone?: string): Intl.DateTimeFormat {
  const key = `${kind}|${timeZone ?? ""}`;
  let formatter = formatterCache.get(key);
  if (!formatter) {
    const options: Intl.DateTimeFormatOptions =
      kind === "day"
        ? { year: "numeric", month: "2-digit", day: "2-digit" }
        : kind === "dayTime"
          ? { month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }
          : { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
    try {
      formatter = new Intl.DateTimeFormat(undefined, { ...options, timeZone });
    } catch {
      formatter = new Intl.DateTimeFormat(undefined, options);
    }
    formatterCache.set(key, formatter);
  }
  return formatter;
}

/**
 * A quote's time in the user's zone: "14:03:22" today, "Jun 01, 14:03:22"
 * (locale-dependent) on another day (e.g. Friday's close over a weekend).
 */
export function formatQuoteTime(iso: string | null | undefined, timeZone?: string, now: number = Date.now()): string {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const day = dateTimeFormat("day", timeZone);
  const sameDay = day.format(date) === day.format(new Date(now));
  return dateTimeFormat(sameDay ? "time" : "dayTime", timeZone).format(date);
}

/** "2024-06-01 12:00:00.123 UTC" (tooltips). */
export function formatUtc(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toISOString().replace("T", " ").replace("Z", " UTC");
}

/** Feed lag in seconds: "0.4 s", "12 s", "—" when unknown. */
export function formatLag(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  return seconds < 10 ? `${seconds.toFixed(1)} s` : `${Math.round(seconds)} s`;
}
