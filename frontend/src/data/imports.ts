/**
 * History imports on the data page (pure): a run's state as REST answers and
 * `/ws/prices/` pushes move it on, and its rejected rows counted by reason.
 */
import type { ImportProgress, ImportRun, ImportStatus, RejectedRow } from "../api/types";

export const IMPORT_FORMATS = ["mt5", "histdata", "dukascopy", "generic"] as const;

export function isImportActive(status: ImportStatus | undefined | null): boolean {
  return status === "queued" || status === "running";
}

/** queued < running < finished (completed, failed, stopped). */
function stage(status: ImportStatus): number {
  if (status === "queued") return 0;
  if (status === "running") return 1;
  return 2;
}

/** True if `next` is not behind `held` (a later stage, or the same stage at least as far). */
function notBehind(held: Pick<ImportRun, "status" | "progress" | "accepted" | "rejected" | "duplicates">, next: typeof held): boolean {
  const a = stage(held.status);
  const b = stage(next.status);
  if (b !== a) return b > a;
  if (a === 2) return true; // a finished run's REST answer is the truth
  return (
    next.progress >= held.progress &&
    next.accepted + next.rejected + next.duplicates >= held.accepted + held.rejected + held.duplicates
  );
}

/**
 * Apply a pushed progress message to the run. Out-of-order or stale messages
 * (behind what the run shows) change nothing; a message of another run neither.
 */
export function applyImportProgress(run: ImportRun | undefined, message: ImportProgress): ImportRun | undefined {
  if (!run || message.id !== run.id) return run;
  if (!notBehind(run, message)) return run;
  const next: ImportRun = {
    ...run,
    status: message.status,
    progress: typeof message.progress === "number" ? Math.min(1, Math.max(0, message.progress)) : run.progress,
    accepted: message.accepted ?? run.accepted,
    duplicates: message.duplicates ?? run.duplicates,
    rejected: message.rejected ?? run.rejected,
    error: message.error ?? run.error,
  };
  const same =
    next.status === run.status &&
    next.progress === run.progress &&
    next.accepted === run.accepted &&
    next.duplicates === run.duplicates &&
    next.rejected === run.rejected &&
    next.error === run.error;
  return same ? run : next;
}

/** A fetched run against the one held (a push may have moved it on while the request was in flight). */
export function mergeImportRun(held: ImportRun | undefined, fetched: ImportRun): ImportRun {
  if (!held || held.id !== fetched.id) return fetched;
  if (notBehind(held, fetched)) return fetched;
  return {
    ...fetched,
    status: held.status,
    progress: held.progress,
    accepted: held.accepted,
    duplicates: held.duplicates,
    rejected: held.rejected,
    error: held.error,
  };
}

/** The fetched list with rows a push moved further kept as held. */
export function mergeImportList(held: ImportRun[] | undefined, fetched: ImportRun[]): ImportRun[] {
  if (!held) return fetched;
  const byId = new Map(held.map((r) => [r.id, r]));
  return fetched.map((row) => mergeImportRun(byId.get(row.id), row));
}

export interface ProgressView {
  /** 0..100, whole. */
  percent: number;
  label: string;
  active: boolean;
}

export function importProgressView(run: Pick<ImportRun, "status" | "progress" | "accepted" | "duplicates" | "rejected">): ProgressView {
  const active = isImportActive(run.status);
  const raw = run.status === "completed" ? 1 : Math.min(1, Math.max(0, Number(run.progress) || 0));
  const percent = Math.floor(raw * 100);
  const rows = run.accepted + run.duplicates + run.rejected;
  let label: string;
  if (run.status === "queued") label = "Queued…";
  else if (run.status === "running") label = `${percent}% · ${rows.toLocaleString("en-US")} rows read`;
  else label = run.status.charAt(0).toUpperCase() + run.status.slice(1);
  return { percent, label, active };
}

const REASON_LABELS: Record<string, string> = {
  parse_error: "Unreadable row",
  empty_line: "Blank line",
  bad_timestamp: "Bad timestamp",
  bad_number: "Not a number",
  missing_value: "Missing value",
  non_positive_price: "Price ≤ 0",
  inconsistent_ohlc: "Inconsistent OHLC",
  crossed_quote: "Ask below bid",
  spread_too_wide: "Spread too wide",
  future_timestamp: "In the future",
  outside_session: "Market closed",
  spike: "Price spike",
};

/** "bad_number" → "Not a number"; unknown codes are shown as they are. */
export function reasonLabel(code: string): string {
  return REASON_LABELS[code] ?? code.replace(/_/g, " ");
}

export interface ReasonCount {
  reason: string;
  label: string;
  count: number;
}

/** Counts by reason, most frequent first (ties by code). */
export function summariseReasons(counts: Record<string, number>): ReasonCount[] {
  return Object.entries(counts)
    .filter(([, count]) => Number.isFinite(count) && count > 0)
    .map(([reason, count]) => ({ reason, label: reasonLabel(reason), count }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

/** Rejected rows counted by reason. */
export function countReasons(rows: readonly Pick<RejectedRow, "reason">[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const row of rows) counts[row.reason] = (counts[row.reason] ?? 0) + 1;
  return counts;
}
