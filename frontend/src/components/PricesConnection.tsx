import { useEffect, useState } from "react";
import { usePricesConnection } from "../live/usePricesConnection";

const LABELS = { open: "Live", connecting: "Connecting…", closed: "Disconnected" } as const;

/** Dot + label for the shared price socket (`data-state`: connecting / open / closed). */
export function PricesConnection() {
  const status = usePricesConnection();
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
    status.state === "open" ? "Streaming live prices" : null,
    status.error,
    retryIn !== null ? `Reconnecting in ${retryIn} s (attempt ${status.attempt})` : null,
  ]
    .filter(Boolean)
    .join(" — ");

  return (
    <span
      className={`conn conn-${status.state}`}
      data-testid="prices-connection"
      data-state={status.state}
      title={title || undefined}
      role="status"
      aria-live="polite"
    >
      <span className="dot" aria-hidden="true" />
      {LABELS[status.state]}
      {retryIn !== null && <span className="muted"> · retry {retryIn}s</span>}
    </span>
  );
}
