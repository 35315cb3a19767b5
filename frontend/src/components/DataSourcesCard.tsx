import { useMutation, useQueryClient } from "@tanstack/react-query";
import { startDataSource, stopDataSource } from "../api/endpoints";
import { queryKeys, useDataSources } from "../api/queries";
import type { DataSource, DataSourceState, Paginated } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { canOperate } from "../pages/RiskPage";
import { toApiError } from "./risk/LimitsEditor";
import { formatClock, formatDateTime, formatLag } from "./format";
import { SimulatedBadge } from "./SimulatedBadge";
import { ZonedTime } from "./ZonedTime";

const STATE_PILL: Record<DataSourceState, string> = {
  running: "pill-ok",
  starting: "pill-warn",
  stopping: "pill-warn",
  stopped: "pill-muted",
  error: "pill-fail",
};

/** A history-import source has no runner to start or stop. */
function hasRunner(source: DataSource): boolean {
  return source.kind !== "import";
}

/**
 * Market data sources with their runner state and feed lag. The `page`
 * variant (the data page) adds the kind, last tick and, for operators,
 * start/stop.
 */
export function DataSourcesCard({ variant = "card" }: { variant?: "card" | "page" }) {
  const { user } = useAuth();
  const { data, error, isPending, isError, dataUpdatedAt, isFetching } = useDataSources();
  const sources = Array.isArray(data?.results) ? data.results : [];
  const page = variant === "page";
  const operator = page && canOperate(user);
  const columns = page ? (operator ? 6 : 5) : 3;

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
              {page && <th scope="col">Kind</th>}
              <th scope="col">State</th>
              {page && (
                <th scope="col" className="num">
                  Last tick
                </th>
              )}
              <th scope="col" className="num" title="Seconds since the last tick">
                Lag
              </th>
              {operator && (
                <th scope="col" className="num">
                  <span className="sr-only">Actions</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {sources.map((source) => (
              <SourceRows
                key={source.name}
                source={source}
                timeZone={user?.timezone || undefined}
                page={page}
                operator={operator}
                columns={columns}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function SourceRows({
  source,
  timeZone,
  page,
  operator,
  columns,
}: {
  source: DataSource;
  timeZone: string | undefined;
  page: boolean;
  operator: boolean;
  columns: number;
}) {
  const instruments = Array.isArray(source.instruments) ? source.instruments : [];
  const queryClient = useQueryClient();
  const action = useMutation({
    mutationFn: (verb: "start" | "stop") => (verb === "start" ? startDataSource(source.name) : stopDataSource(source.name)),
    onSuccess: (updated) => {
      queryClient.setQueryData<Paginated<DataSource>>(queryKeys.sources, (current) =>
        current
          ? { ...current, results: current.results.map((s) => (s.name === updated.name ? { ...s, ...updated } : s)) }
          : current,
      );
      void queryClient.invalidateQueries({ queryKey: queryKeys.sources });
    },
  });
  const running = source.state === "running" || source.state === "starting";
  const busy = action.isPending || source.state === "starting" || source.state === "stopping";
  return (
    <>
      <tr
        data-testid={`source-row-${source.name}`}
        data-state={source.state}
        data-simulated={String(Boolean(source.simulated))}
      >
        <td className="source-name" title={instruments.join(", ") || "no instruments"}>
          <code>{source.name}</code> {!page && <span className="muted small">{source.kind}</span>}
          {source.simulated && <SimulatedBadge compact testId={`source-simulated-${source.name}`} />}
        </td>
        {page && <td className="muted small">{source.kind}</td>}
        <td>
          <span className={`pill ${STATE_PILL[source.state] ?? "pill-muted"}`} data-testid={`source-state-${source.name}`}>
            {source.state}
          </span>
        </td>
        {page && (
          <td className="num muted">
            <ZonedTime iso={source.last_tick_at} timeZone={timeZone} testId={`source-last-tick-${source.name}`} />
          </td>
        )}
        <td
          className="num"
          data-testid={`source-lag-${source.name}`}
          title={source.last_tick_at ? `last tick ${formatDateTime(source.last_tick_at, timeZone)}` : "no ticks yet"}
        >
          {formatLag(source.lag_seconds)}
        </td>
        {operator && (
          <td className="num">
            {hasRunner(source) &&
              (running ? (
                <button
                  type="button"
                  className="btn btn-sm"
                  disabled={busy}
                  onClick={() => action.mutate("stop")}
                  data-testid={`source-stop-${source.name}`}
                >
                  Stop
                </button>
              ) : (
                <button
                  type="button"
                  className="btn btn-sm btn-primary"
                  disabled={busy}
                  onClick={() => action.mutate("start")}
                  data-testid={`source-start-${source.name}`}
                >
                  Start
                </button>
              ))}
          </td>
        )}
      </tr>
      {source.last_error && (
        <tr className="check-error-row">
          <td colSpan={columns} className="fail-text small">
            {source.last_error}
          </td>
        </tr>
      )}
      {action.isError && (
        <tr className="check-error-row">
          <td colSpan={columns} className="fail-text small" role="alert" data-testid={`source-action-error-${source.name}`}>
            Could not {action.variables} {source.name}: {toApiError(action.error).message}
          </td>
        </tr>
      )}
    </>
  );
}
