import type { Deployment, DeploymentStatus } from "../../api/types";
import { STATUS_CLASSES } from "../../deployments/status";
import { ZonedStamp, runRowTitle } from "../backtests/BacktestList";
import { RunListCard, openableRow, type RunListProps } from "../RunList";

export function DeploymentStatusPill({ status, progress, mode, testId }: { status: DeploymentStatus; progress?: number; mode?: string; testId?: string }) {
  const showProgress = mode === "replay" && status === "running" && typeof progress === "number";
  return (
    <span className={`pill ${STATUS_CLASSES[status] ?? "pill-muted"}`} data-testid={testId} data-status={status}>
      {status.toUpperCase()}
      {showProgress && ` ${Math.floor(Math.min(1, Math.max(0, progress)) * 100)}%`}
    </span>
  );
}


/** Every deployment, newest first, with its status kept live; a click opens one. */
export function DeploymentList({ rows, selected, onOpen, timeZone, error, fetching }: RunListProps<Deployment>) {
  return (
    <RunListCard
      prefix="dep"
      title="Deployments"
      noun="deployments"
      empty={<>No deployments yet.</>}
      count={rows?.length}
      error={error}
      fetching={fetching}
      head={
        <>
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
        </>
      }
    >
      {(rows ?? []).map((row) => (
        <tr
          key={row.id}
          {...openableRow(row.id, selected, onOpen)}
          title={runRowTitle(row, timeZone)}
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
    </RunListCard>
  );
}
