import type { BacktestStatus } from "../../api/types";

const CLASSES: Record<BacktestStatus, string> = {
  queued: "pill-muted",
  running: "pill-warn",
  done: "pill-ok",
  failed: "pill-fail",
  cancelled: "pill-muted",
};

/** A backtest's status; a running one shows how far it got. */
export function StatusPill({ status, progress, testId }: { status: BacktestStatus; progress?: number; testId?: string }) {
  const running = status === "running" && typeof progress === "number";
  return (
    <span className={`pill ${CLASSES[status] ?? "pill-muted"}`} data-testid={testId} data-status={status}>
      {status.toUpperCase()}
      {running && ` ${Math.floor(Math.min(1, Math.max(0, progress)) * 100)}%`}
    </span>
  );
}
