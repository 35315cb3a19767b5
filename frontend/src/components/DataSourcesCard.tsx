import { useDataSources } from "../api/queries";
import type { DataSource, DataSourceState } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { formatClock, formatDateTime, formatLag } from "./format";
import { SimulatedBadge } from "./SimulatedBadge";

const STATE_PILL: Record<DataSourceState, string> = {
  running: "pill-ok",
  starting: "pill-warn",
  stopping: "pill-warn",
  stopped: "pill-muted",
  error: "pill-fail",
};

/** Market data sources with their runner state and feed lag. */
export function DataSourcesCard() {
  const { user } = useAuth();
  const { data, error, isPending, isError, dataUpdatedAt, isFetching } = useDataSources();
  const sources = Array.isArray(data?.results) ? data.results : [];

  return (
    <section className="card" data-testid="sources-card" aria-labelledby="sources-card-title">
      <header className="card-header">
        <h2 id="sources-card-title">Data sources</h2>
        <span className={`card-meta${isFetching ? " pulsing" : ""}`}>
          {dataUpdatedAt ? `updated ${formatClock(dataUpdatedAt)}` : ""}
        </span>
      </header>

      {isPending && <div className="muted pad">Loading…</div>}
      {isError && (
        <div className="alert alert-error compact" role="alert">
          {data ? "Last refresh failed: " : "Could not load sources: "}
          {error.message}
        </div>
      )}
      {data && sources.length === 0 && <div className="muted pad">No data sources configured.</div>}

      {sources.length > 0 && (
        <table className="table sources">
          <thead>
            <tr>
              <th scope="col">Source</th>
              <th scope="col">State</th>
              <th scope="col" className="num" title="Seconds since the last tick">
                Lag
              </th>
            </tr>
          </thead>
          <tbody>
            {sources.map((source) => (
              <SourceRows key={source.name} source={source} timeZone={user?.timezone || undefined} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SourceRows({ source, timeZone }: { source: DataSource; timeZone: string | undefined }) {
  const instruments = Array.isArray(source.instruments) ? source.instruments : [];
  return (
    <>
      <tr
        data-testid={`source-row-${source.name}`}
        data-state={source.state}
        data-simulated={String(Boolean(source.simulated))}
      >
        <td className="source-name" title={instruments.join(", ") || "no instruments"}>
          <code>{source.name}</code> <span className="muted small">{source.kind}</span>
          {source.simulated && <SimulatedBadge compact testId={`source-simulated-${source.name}`} />}
        </td>
        <td>
          <span className={`pill ${STATE_PILL[source.state] ?? "pill-muted"}`}>{source.state}</span>
        </td>
        <td
          className="num"
          data-testid={`source-lag-${source.name}`}
          title={source.last_tick_at ? `last tick ${formatDateTime(source.last_tick_at, timeZone)}` : "no ticks yet"}
        >
          {formatLag(source.lag_seconds)}
        </td>
      </tr>
      {source.last_error && (
        <tr className="check-error-row">
          <td colSpan={3} className="fail-text small">
            {source.last_error}
          </td>
        </tr>
      )}
    </>
  );
}
