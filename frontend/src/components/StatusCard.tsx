import { useReadyz } from "../api/queries";
import type { CeleryCheck, ReadyCheck, ReadyzResponse } from "../api/types";
import { formatClock, formatLatency } from "./format";

const CHECK_ORDER = ["database", "redis", "channel_layer", "celery"];
const CHECK_LABELS: Record<string, string> = {
  database: "Database",
  redis: "Redis",
  channel_layer: "Channel layer",
  celery: "Celery",
};

function label(name: string): string {
  return CHECK_LABELS[name] ?? name.replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());
}

function orderedChecks(checks: ReadyzResponse["checks"]): [string, ReadyCheck | CeleryCheck][] {
  const names = Object.keys(checks).sort((a, b) => {
    const ia = CHECK_ORDER.indexOf(a);
    const ib = CHECK_ORDER.indexOf(b);
    return (ia === -1 ? 99 : ia) - (ib === -1 ? 99 : ib) || a.localeCompare(b);
  });
  return names.flatMap((name) => {
    const check = checks[name];
    return check ? [[name, check] as [string, ReadyCheck | CeleryCheck]] : [];
  });
}

function Dot({ ok }: { ok: boolean }) {
  return <span className={`dot ${ok ? "dot-ok" : "dot-fail"}`} aria-hidden="true" />;
}

export function StatusCard() {
  const { data, error, isPending, isError, dataUpdatedAt, isFetching } = useReadyz();
  const overall = data ? data.status : isError ? "unreachable" : "unknown";

  return (
    <section className="card" data-testid="status-card" data-status={overall} aria-labelledby="status-card-title">
      <header className="card-header">
        <h2 id="status-card-title">Platform status</h2>
        <span
          className={`pill ${overall === "ok" ? "pill-ok" : overall === "unknown" ? "pill-muted" : "pill-fail"}`}
          data-testid="status-overall"
        >
          {overall === "ok" ? "OK" : overall === "fail" ? "DEGRADED" : overall === "unreachable" ? "UNREACHABLE" : "…"}
        </span>
        <span className={`card-meta${isFetching ? " pulsing" : ""}`}>
          {dataUpdatedAt ? `updated ${formatClock(dataUpdatedAt)}` : ""}
        </span>
      </header>

      {isPending && <div className="muted pad">Checking…</div>}

      {isError && (
        <div className="alert alert-error compact" role="alert">
          {data ? "Last refresh failed: " : "Status endpoint unreachable: "}
          {error.message}
        </div>
      )}

      {data && (
        <table className="table checks">
          <tbody>
            {orderedChecks(data.checks).map(([name, check]) => (
              <CheckRows key={name} name={name} check={check} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function CheckRows({ name, check }: { name: string; check: ReadyCheck | CeleryCheck }) {
  const queues = "queues" in check && check.queues ? Object.entries(check.queues) : [];
  return (
    <>
      <tr data-testid={`status-check-${name}`} data-ok={String(check.ok)}>
        <td className="check-name">
          <Dot ok={check.ok} />
          {label(name)}
        </td>
        <td className={check.ok ? "ok-text" : "fail-text"}>{check.ok ? "ok" : "fail"}</td>
        <td className="num">{formatLatency(check.latency_ms)}</td>
      </tr>
      {check.error && (
        <tr className="check-error-row">
          <td colSpan={3} className="fail-text small">
            {check.error}
          </td>
        </tr>
      )}
      {queues.map(([queue, q]) => (
        <tr key={queue} className="subrow" data-testid={`status-queue-${queue}`} data-ok={String(q.ok)}>
          <td className="check-name">
            <Dot ok={q.ok} />
            <span>queue</span> <code>{queue}</code>
          </td>
          <td className={q.ok ? "ok-text" : "fail-text"}>{q.ok ? "ok" : "fail"}</td>
          <td className="num" title={q.workers.join("\n") || "no workers"}>
            {q.workers.length} worker{q.workers.length === 1 ? "" : "s"}
          </td>
        </tr>
      ))}
    </>
  );
}
