import { useMemo, useState } from "react";
import type { Optimisation, Trial } from "../../api/types";
import { axisLabel, heatColor, heatFraction, heatmapMatrix, type HeatCell } from "../../optimisations/heatmap";
import { formatObjective, objectiveLabel } from "../../optimisations/spaceForm";

interface Props {
  optimisation: Optimisation;
  /** Exactly two searched parameters. */
  params: [string, string];
  trials: readonly Trial[] | undefined;
  windows: number;
}

function cellTitle(cell: HeatCell, x: string, y: string, objective: string): string {
  const head = `${x}=${axisLabel(cell.x)}, ${y}=${axisLabel(cell.y)}`;
  if (cell.status === "pending") return `${head}: queued`;
  if (cell.status === "invalid") return `${head}: ${cell.trial.status}${cell.trial.error ? ` (${cell.trial.error})` : ""}`;
  const trades = cell.trial.metrics?.trades;
  return `${head}: ${objectiveLabel(objective)} ${formatObjective(cell.value, objective)}${typeof trades === "number" ? `, ${trades} trades` : ""}${cell.count > 1 ? ` (best of ${cell.count})` : ""}`;
}

/** The objective over the two searched parameters (in-sample trials; per window for a walk-forward). */
export function Heatmap({ optimisation, params, trials, windows }: Props) {
  const [swap, setSwap] = useState(false);
  const [window, setWindow] = useState(0);
  const [x, y] = swap ? [params[1], params[0]] : params;
  const wf = !!optimisation.walk_forward;
  const matrix = useMemo(() => heatmapMatrix(trials ?? [], x, y, wf ? window : null), [trials, x, y, wf, window]);
  const dense = matrix.xs.length > 14;

  return (
    <section className="card opt-heatmap-card" data-testid="opt-heatmap" aria-labelledby="opt-heatmap-title">
      <header className="card-header">
        <h2 id="opt-heatmap-title">
          {objectiveLabel(optimisation.objective)} by {x} × {y}
        </h2>
        <span className="opt-filters">
          {wf && (
            <select
              className="input input-sm"
              value={window}
              onChange={(e) => setWindow(Number(e.target.value))}
              aria-label="Window"
              data-testid="opt-heatmap-window"
            >
              {Array.from({ length: Math.max(windows, 1) }, (_, i) => (
                <option key={i} value={i}>
                  Window {i + 1} (in sample)
                </option>
              ))}
            </select>
          )}
          <button type="button" className="btn btn-ghost btn-sm" onClick={() => setSwap((s) => !s)} title="Swap the axes" data-testid="opt-heatmap-swap">
            ⇄
          </button>
        </span>
      </header>
      {!trials && <div className="muted pad">Loading trials…</div>}
      {trials && matrix.xs.length === 0 && <div className="muted pad">No trials in this window yet.</div>}
      {matrix.xs.length > 0 && (
        <div className="opt-heatmap-wrap">
          <table className={`opt-heatmap${dense ? " dense" : ""}`} data-testid="opt-heatmap-grid" data-cols={matrix.xs.length} data-rows={matrix.ys.length}>
            <thead>
              <tr>
                <th className="opt-hm-corner" scope="col">
                  <span className="muted">
                    {y} ↓ / {x} →
                  </span>
                </th>
                {matrix.xs.map((v, i) => (
                  <th key={i} scope="col" className="num">
                    {axisLabel(v)}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {matrix.rows.map((line, yi) => (
                <tr key={yi}>
                  <th scope="row" className="num">
                    {axisLabel(matrix.ys[yi])}
                  </th>
                  {line.map((cell, xi) => {
                    if (!cell) return <td key={xi} className="opt-hm-cell empty" data-state="empty" />;
                    const best = matrix.best === cell;
                    const style =
                      cell.status === "done" && cell.value !== null && matrix.min !== null && matrix.max !== null
                        ? { background: heatColor(heatFraction(cell.value, matrix.min, matrix.max)) }
                        : undefined;
                    return (
                      <td
                        key={xi}
                        className={`opt-hm-cell ${cell.status}${best ? " best" : ""}`}
                        style={style}
                        title={cellTitle(cell, x, y, optimisation.objective)}
                        data-testid="opt-heatmap-cell"
                        data-state={cell.status}
                      >
                        {cell.status === "done" ? (dense ? "" : formatObjective(cell.value, optimisation.objective)) : cell.status === "invalid" ? "×" : "…"}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
          <div className="opt-hm-legend small muted">
            <span className="num">{formatObjective(matrix.min, optimisation.objective)}</span>
            <span className="opt-hm-scale" aria-hidden="true" />
            <span className="num">{formatObjective(matrix.max, optimisation.objective)}</span>
            <span className="opt-hm-key invalid">×</span> invalid (too few trades, refused or failed)
            <span className="opt-hm-key best" /> best
          </div>
        </div>
      )}
    </section>
  );
}
