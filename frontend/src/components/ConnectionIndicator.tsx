import { useEffect, useState } from "react";
import type { ConnectionStatus } from "../live/liveSocket";

const LABELS = { open: "Live", connecting: "Connecting…", closed: "Disconnected" } as const;

interface Props {
  status: ConnectionStatus;
  testId: string;
  /** Tooltip text while open, e.g. "Streaming live prices". */
  openTitle: string;
  /** Short prefix before the state ("Prices", "Trading"); none by default. */
  label?: string;
}

/** Dot + label for a live socket (`data-state`: connecting / open / closed), counting down to the next retry. */
export function ConnectionIndicator({ status, testId, openTitle, label }: Props) {
  const [now, setNow] = useState(() => Date.now());

  // Count down to the next reconnect attempt.
  const { retryAt } = status;
  useEffect(() => {
    if (retryAt === null) return;
    setNow(Date.now());
    const id = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(id);
  }, [retryAt]);

  const retryIn = retryAt !== null ? Math.max(0, Math.ceil((retryAt - now) / 1000)) : null;
  const title = [
    status.state === "open" ? openTitle : null,
    status.error,
    retryIn !== null ? `Reconnecting in ${retryIn} s (attempt ${status.attempt})` : null,
  ]
    .filter(Boolean)
    .join(" — ");

  return (
    <span
      className={`conn conn-${status.state}`}
      data-testid={testId}
      data-state={status.state}
      title={title || undefined}
      role="status"
      aria-live="polite"
    >
      <span className="dot" aria-hidden="true" />
      {label && <span className="conn-label">{label}</span>}
      {LABELS[status.state]}
      {retryIn !== null && <span className="muted"> · retry {retryIn}s</span>}
    </span>
  );
}
