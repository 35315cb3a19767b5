import type { Deployment, DeploymentStatus } from "../../api/types";
import { STATUS_CLASSES } from "../../deployments/status";
import { zonedText } from "../backtests/BacktestList";
import { ZonedStamp } from "../backtests/BacktestList";

export function DeploymentStatusPill({ status, progress, mode, testId }: { status: DeploymentStatus; progress?: number; mode?: string; testId?: string }) {
  const showProgress = mode === "replay" && status === "running" && typeof progress === "number";
  return (
    <span className={`pill ${STATUS_CLASSES[status] ?? "pill-muted"}`} data-testid={testId} data-status={status}>
      {status.toUpperCase()}
      {showProgress && ` ${Math.floor(Math.min(1, Math.max(0, progress)) * 100)}%`}
    </span>
  );
}

interface Props {
  rows: Deployment[] | undefined;
  selected: number | null;
  onOpen: (id: number) => void;
  timeZone: string | undefined;
  error: Error | null;
  fetching: boolean;
}

/** Every deployment, newest first, with its status kept live; a click opens one. */
export function DeploymentList({ rows, selected, onOpen, timeZone, error, fetching }: Props) {
  return (
    <section className="card" data-testid="dep-list" aria-labelledby="dep-list-title">
      <header className="card-header">
        <h2 id="dep-list-title">Deployments</h2>
        <span className={`card-meta${fetching ? " pulsing" : ""}`}>{rows ? `${rows.length} latest` : ""}</span>
      </header>
      {error && (
        <div className="alert alert-error compact" role="alert">
          Could not load deployments: {error.message}
        </div>
      )}
      {!rows && !error && <div className="muted pad">Loading deployments…</div>}
      {rows && rows.length === 0 && (
        <div className="muted pad" data-testid="dep-list-empty">
          No deployments yet.
        </div>
      )}
      {rows && rows.length > 0 && (
        <div className="bt-list-scroll">
          <table className="table blotter-table bt-list-table">
            <thead>
              <tr>
                <th className="num">#</th>
                <th>Name</th>
                <th>Symbol</th>
                <th>Account</th>
                <th>Mode</th>
                <th>Status</th>
                <th className="num">Bars</th>
                <th className="num">Last bar</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr
                  key={row.id}
                  className={`clickable${row.id === selected ? " selected" : ""}`}
                  onClick={() => onOpen(row.id)}
                  onKeyDown={(e) => {
                    if (e.key === "Enter" || e.key === " ") {
                      e.preventDefault();
                      onOpen(row.id);
                    }
                  }}
                  tabIndex={0}
                  aria-selected={row.id === selected}
                  title={`Created ${zonedText(row.created_at, timeZone)}`}
                  data-testid={`dep-row-${row.id}`}
                  data-status={row.status}
                >
                  <td className="num">{row.id}</td>
                  <td title={row.strategy}>{row.name}</td>
                  <td className="symbol">
                    {row.symbol} <span className="muted">{row.timeframe}</span>
                  </td>
                  <td>
                    {row.account_name} <span className="muted">{row.broker}</span>
                  </td>
                  <td>{row.mode}</td>
                  <td>
                    <DeploymentStatusPill status={row.status} progress={row.progress} mode={row.mode} testId={`dep-row-status-${row.id}`} />
                  </td>
                  <td className="num">{row.bars_seen.toLocaleString("en-US")}</td>
                  <td className="num">
                    <ZonedStamp iso={row.last_bar_at} timeZone={timeZone} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
