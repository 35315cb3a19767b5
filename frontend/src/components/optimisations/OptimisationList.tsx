import type { Optimisation } from "../../api/types";
import { objectiveLabel, formatObjective } from "../../optimisations/spaceForm";
import { searchedNames } from "../../optimisations/status";
import { zonedText } from "../backtests/BacktestList";
import { StatusPill } from "../backtests/StatusPill";

interface Props {
  rows: Optimisation[] | undefined;
  selected: number | null;
  onOpen: (id: number) => void;
  timeZone: string | undefined;
  error: Error | null;
  fetching: boolean;
  strategyNames: ReadonlyMap<string, string>;
}

const day = (iso: string) => iso.slice(0, 10);

/** Past optimisations, newest first; a click opens one. */
export function OptimisationList({ rows, selected, onOpen, timeZone, error, fetching, strategyNames }: Props) {
  return (
    <section className="card" data-testid="opt-list" aria-labelledby="opt-list-title">
      <header className="card-header">
        <h2 id="opt-list-title">Optimisations</h2>
        <span className={`card-meta${fetching ? " pulsing" : ""}`}>{rows ? `${rows.length} latest` : ""}</span>
      </header>
      {error && (
        <div className="alert alert-error compact" role="alert">
          Could not load optimisations: {error.message}
        </div>
      )}
      {!rows && !error && <div className="muted pad">Loading optimisations…</div>}
      {rows && rows.length === 0 && (
        <div className="muted pad" data-testid="opt-list-empty">
          No optimisations yet.
        </div>
      )}
      {rows && rows.length > 0 && (
        <div className="bt-list-scroll">
          <table className="table blotter-table bt-list-table">
            <thead>
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
                  title={`Created ${zonedText(row.created_at, timeZone)}${row.finished_at ? `, finished ${zonedText(row.finished_at, timeZone)}` : ""}`}
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
                  <td className="num">
                    {day(row.start)} → {day(row.end)}
                  </td>
                  <td>
                    <StatusPill status={row.status} progress={row.progress} testId={`opt-row-status-${row.id}`} />
                  </td>
                  <td className="num">{row.trials_done ?? "—"}</td>
                  <td className="num" title={objectiveLabel(row.objective)}>
                    {row.status === "done" ? formatObjective(row.best_value, row.objective) : ""}
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
