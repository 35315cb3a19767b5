import { lazy, Suspense, useMemo } from "react";
import type { Optimisation, OptimisationResult } from "../../api/types";
import { formatReturn } from "../../backtests/metrics";
import { formatObjective, objectiveLabel } from "../../optimisations/spaceForm";
import { formatDegradation, stitchedPoints, type WindowRow } from "../../optimisations/windows";
import { pnlClass } from "../../trading/format";
import { ZonedStamp } from "../backtests/BacktestList";

const EquityChart = lazy(() => import("../backtests/EquityChart"));

const day = (iso: string | undefined) => (iso ? iso.slice(0, 10) : "—");

function Range({ range }: { range: [string, string] | undefined }) {
  if (!range) return <span className="muted">—</span>;
  return (
    <span title={`${range[0]} → ${range[1]} UTC`}>
      {day(range[0])} → {day(range[1])}
    </span>
  );
}

const paramsText = (p: Record<string, unknown> | null) =>
  p ? Object.entries(p).map(([k, v]) => `${k}=${String(v)}`).join(" ") : "—";

interface Props {
  optimisation: Optimisation;
  rows: WindowRow[];
  result: OptimisationResult | null;
  timeZone: string | undefined;
}

/** Walk-forward: each window's ranges, winner and values, the overall degradation, and the stitched out-of-sample equity. */
export function WindowsTable({ optimisation, rows, result, timeZone }: Props) {
  const objective = optimisation.objective;
  const points = useMemo(() => stitchedPoints(result?.stitched_equity), [result]);
  const currency = optimisation.settings?.account_currency ?? "USD";
  const provisional = rows.some((r) => r.provisional);
  return (
    <section className="card" data-testid="opt-windows" aria-labelledby="opt-windows-title">
      <header className="card-header">
        <h2 id="opt-windows-title">Walk-forward windows</h2>
        <span className="tab-count">{rows.length}</span>
        <span className="card-meta">
          {optimisation.walk_forward?.mode} · {optimisation.walk_forward?.in_sample_days} d in / {optimisation.walk_forward?.out_of_sample_days} d out
          {provisional ? " · so far" : ""}
        </span>
      </header>
      {result && !provisional && (
        <dl className="bt-metrics opt-wf-summary" data-testid="opt-wf-summary">
          <div className="bt-metric" title="Mean out-of-sample value / mean in-sample value (only over a positive in-sample mean)">
            <dt>Degradation</dt>
            <dd className="num" data-testid="opt-degradation">
              {formatDegradation(result.degradation)}
            </dd>
          </div>
          <div className="bt-metric" title="Mean out-of-sample minus mean in-sample value">
            <dt>OOS − IS</dt>
            <dd className={`num ${pnlClass(result.degradation_difference ?? null)}`} data-testid="opt-degradation-difference">
              {formatObjective(result.degradation_difference, objective)}
            </dd>
          </div>
          <div className="bt-metric">
            <dt>Mean IS {objectiveLabel(objective)}</dt>
            <dd className="num">{formatObjective(result.mean_in_sample_value, objective)}</dd>
          </div>
          <div className="bt-metric">
            <dt>Mean OOS {objectiveLabel(objective)}</dt>
            <dd className="num">{formatObjective(result.mean_out_of_sample_value, objective)}</dd>
          </div>
          <div className="bt-metric" title="Return of the stitched out-of-sample equity">
            <dt>OOS return</dt>
            <dd className={`num ${pnlClass(result.out_of_sample_return ?? null)}`} data-testid="opt-oos-return">
              {formatReturn(result.out_of_sample_return, 2)}
            </dd>
          </div>
        </dl>
      )}
      <div className="table-scroll">
        <table className="table blotter-table bt-trades-table opt-windows-table">
          <thead>
            <tr>
              <th className="num">#</th>
              <th className="num">In sample (UTC)</th>
              <th className="num">Out of sample (UTC)</th>
              <th className="num" title="Valid / all in-sample trials">
                Trials
              </th>
              <th>Best parameters</th>
              <th className="num">IS {objectiveLabel(objective)}</th>
              <th className="num">OOS {objectiveLabel(objective)}</th>
              <th className="num" title="OOS / IS value (only over a positive in-sample value)">
                Degradation
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((w) => (
              <tr key={w.window} data-testid="opt-window-row" data-provisional={w.provisional || undefined}>
                <td className="num muted">{w.window + 1}</td>
                <td className="num">
                  <Range range={w.in_sample} />
                </td>
                <td className="num">
                  <Range range={w.out_of_sample} />
                </td>
                <td className="num">
                  {w.valid_trials}/{w.trials}
                </td>
                <td className="num opt-params-cell" title={paramsText(w.best_params)}>
                  {paramsText(w.best_params)}
                </td>
                <td className={`num ${pnlClass(w.in_sample_value)}`} data-testid="opt-window-is">
                  {formatObjective(w.in_sample_value, objective)}
                </td>
                <td className={`num ${pnlClass(w.out_of_sample_value ?? null)}`} data-testid="opt-window-oos">
                  {formatObjective(w.out_of_sample_value, objective)}
                </td>
                <td className="num" data-testid="opt-window-degradation">
                  {formatDegradation(w.degradation)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {points.length > 1 && (
        <div className="bt-body">
          <div className="bt-chart-head small muted">
            Stitched out-of-sample equity ({currency}) and drawdown (%), times in {timeZone || "your browser's zone"}; last point{" "}
            <ZonedStamp iso={points[points.length - 1]!.time} timeZone={timeZone} />
          </div>
          <Suspense fallback={<div className="bt-chart muted pad">Loading chart…</div>}>
            <EquityChart points={points} timeZone={timeZone} currency={currency} height={240} testId="opt-stitched-chart" />
          </Suspense>
        </div>
      )}
    </section>
  );
}
