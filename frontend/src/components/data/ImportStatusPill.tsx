import type { ImportStatus } from "../../api/types";

const CLASSES: Record<ImportStatus, string> = {
  queued: "pill-muted",
  running: "pill-warn",
  completed: "pill-ok",
  failed: "pill-fail",
  stopped: "pill-muted",
};

export function ImportStatusPill({ status, testId }: { status: ImportStatus; testId?: string }) {
  return (
    <span className={`pill ${CLASSES[status] ?? "pill-muted"}`} data-testid={testId} data-status={status}>
      {status.toUpperCase()}
    </span>
  );
}
