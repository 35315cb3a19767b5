/**
 * A deployment's status and the `deployment` pushes of `/ws/trading/`.
 *
 * running ⇄ paused; running, paused or failed → stopped; a replay that
 * reaches its end → finished. Stopped and finished are final: a late push
 * saying "running" never brings a stopped row back, and the bars seen (and
 * a replay's progress) never go back either.
 */
import type { Deployment, DeploymentPushEvent, DeploymentStatus, TradingEvent } from "../api/types";
import type { DeploymentAction } from "../api/endpoints";

const STATUSES = new Set<string>(["running", "paused", "stopped", "finished", "failed"]);
const RANK: Record<DeploymentStatus, number> = { running: 0, paused: 0, failed: 1, stopped: 2, finished: 2 };

export const FINAL_DEPLOYMENT_STATUSES: readonly DeploymentStatus[] = ["stopped", "finished"];

export function isFinalDeployment(status: DeploymentStatus | undefined): boolean {
  return status === "stopped" || status === "finished";
}

export function isDeploymentPush(event: TradingEvent): event is TradingEvent & DeploymentPushEvent {
  const e = event as Partial<DeploymentPushEvent>;
  return e.type === "deployment" && typeof e.id === "number" && typeof e.status === "string" && STATUSES.has(e.status);
}

/** What a user may ask of a deployment in this status (the server's transitions). */
export function allowedActions(status: DeploymentStatus): DeploymentAction[] {
  switch (status) {
    case "running":
      return ["pause", "stop"];
    case "paused":
      return ["resume", "stop"];
    case "failed":
      return ["stop"];
    default:
      return [];
  }
}

const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** `row` after a push about it. */
export function applyDeploymentEvent<T extends Deployment>(row: T, event: DeploymentPushEvent): T {
  if (row.id !== event.id) return row;
  if (RANK[event.status] < RANK[row.status]) return row;
  if (isFinalDeployment(row.status) && row.status !== event.status) return row;
  const bars = num(event.bars_seen) ? Math.max(row.bars_seen ?? 0, event.bars_seen) : row.bars_seen;
  const progress = num(event.progress) ? Math.min(1, Math.max(row.progress ?? 0, event.progress)) : row.progress;
  const error = typeof event.error === "string" && event.error ? event.error : row.error;
  if (row.status === event.status && row.bars_seen === bars && row.progress === progress && row.error === error) return row;
  return { ...row, status: event.status, bars_seen: bars, progress, error };
}

/**
 * The row to keep when a fetch answers: the fetched one, unless the held one
 * is further along (a push arrived while the request was in flight).
 */
export function mergeDeployment<T extends Deployment>(held: T | undefined, fetched: T): T {
  if (!held || held.id !== fetched.id) return fetched;
  let out = fetched;
  if (RANK[held.status] > RANK[fetched.status] || (isFinalDeployment(held.status) && !isFinalDeployment(fetched.status))) {
    out = { ...out, status: held.status };
  }
  if ((held.bars_seen ?? 0) > (fetched.bars_seen ?? 0)) out = { ...out, bars_seen: held.bars_seen, progress: Math.max(held.progress, fetched.progress) };
  return out;
}

export function mergeDeploymentList<T extends Deployment>(held: readonly T[] | undefined, fetched: T[]): T[] {
  if (!held?.length) return fetched;
  const byId = new Map(held.map((row) => [row.id, row]));
  return fetched.map((row) => mergeDeployment(byId.get(row.id), row));
}

/** The deployment an order belongs to (`source_ref` "deployment:12" → 12). */
export function deploymentOfRef(ref: unknown): number | null {
  if (typeof ref !== "string") return null;
  const m = /^deployment:(\d+)$/.exec(ref);
  return m ? Number(m[1]) : null;
}

export const STATUS_CLASSES: Record<DeploymentStatus, string> = {
  running: "pill-ok",
  paused: "pill-warn",
  stopped: "pill-muted",
  finished: "pill-muted",
  failed: "pill-fail",
};
