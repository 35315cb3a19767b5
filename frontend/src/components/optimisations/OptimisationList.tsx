import type { Optimisation } from "../../api/types";
import { objectiveLabel, formatObjective } from "../../optimisations/spaceForm";
import { searchedNames } from "../../optimisations/status";
import { periodText, runRowTitle } from "../backtests/BacktestList";
import { StatusPill } from "../backtests/StatusPill";
import { RunListCard, openableRow, type RunListProps } from "../RunList";

type Props = RunListProps<Optimisation> & { strategyNames: ReadonlyMap<string, string> };

/** Past optimisations, newest first; a click opens one. */
export function OptimisationList({ rows, selected, onOpen, timeZone, error, fetching, strategyNames }: Props) {
  return (
    <RunListCard
      prefix="opt"
      title="Optimisations"
      noun="optimisations"
      empty={<>No optimisations yet.</>}
      count={rows?.length}
      error={error}
      fetching={fetching}
      head={
        <>
          <tr>
            <th className="num">#</th>
            <th>Strategy</th>
            <th>Symbol</th>
            <th>Searched</th>
            <th>Method</th>
            <th>Period (UTC)</th>
            <th>Status</th>
            <th className="num">Trials</th>
            <th className="num">Best</th>
          </tr>
        </>
      }
    >
      {(rows ?? []).map((row) => (
        <tr
          key={row.id}
          {...openableRow(row.id, selected, onOpen)}
          title={runRowTitle(row, timeZone)}
          data-testid={`opt-row-${row.id}`}
          data-status={row.status}
        >
          <td className="num">{row.id}</td>
          <td title={row.strategy}>{strategyNames.get(row.strategy) ?? row.strategy}</td>
          <td className="symbol">
            {row.symbols.join(", ")} <span className="muted">{row.timeframe}</span>
          </td>
          <td className="num">{searchedNames(row).join(" × ")}</td>
          <td>
            {row.method}
            {row.walk_forward ? <span className="muted"> · WF</span> : null}
          </td>
          <td className="num">{periodText(row)}</td>
          <td>
            <StatusPill status={row.status} progress={row.progress} testId={`opt-row-status-${row.id}`} />
          </td>
          <td className="num">{row.trials_done ?? "—"}</td>
          <td className="num" title={objectiveLabel(row.objective)}>
            {row.status === "done" ? formatObjective(row.best_value, row.objective) : ""}
          </td>
        </tr>
      ))}
    </RunListCard>
  );
}
