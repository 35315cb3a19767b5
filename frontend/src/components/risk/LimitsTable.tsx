import type { AccountRiskStatus, EffectiveLimits } from "../../api/types";
import { DASH } from "../../trading/format";
import { BREACH_ACTIONS } from "../../risk/limitsForm";
import { formatLimitValue, USAGE_ROWS, usageOf } from "../../risk/usage";
import { UsageBar } from "./UsageBar";

interface Props {
  status: AccountRiskStatus;
}

const ACTION_ROWS: readonly { key: keyof EffectiveLimits & `${string}_action`; label: string }[] = [
  { key: "daily_loss_action", label: "Daily loss" },
  { key: "drawdown_action", label: "Drawdown" },
  { key: "margin_action", label: "Margin" },
  { key: "exposure_action", label: "Exposure" },
  { key: "leverage_action", label: "Leverage" },
];

const actionLabel = (value: string) => BREACH_ACTIONS.find((a) => a.value === value)?.label ?? value;

function hours(limits: EffectiveLimits): string {
  if (!limits.hours_start || !limits.hours_end) return "Any time";
  const hm = (t: string) => t.slice(0, 5);
  return `${hm(limits.hours_start)}–${hm(limits.hours_end)} ${limits.hours_timezone || "UTC"}`;
}

/** Every limit in force with what is used of it now. */
export function LimitsTable({ status }: Props) {
  const { limits, usage, currency } = status;
  return (
    <section className="card risk-limits" data-testid="risk-limits" aria-labelledby="risk-limits-title">
      <header className="card-header">
        <h2 id="risk-limits-title">Limits</h2>
        <span className="card-meta">money in {currency}</span>
      </header>
      {status.figures.error && (
        <div className="alert alert-error compact" role="alert" data-testid="risk-figures-error">
          {status.figures.error}
        </div>
      )}
      <div className="table-scroll">
        <table className="table risk-table" data-testid="risk-limits-table">
          <thead>
            <tr>
              <th scope="col">Limit</th>
              <th scope="col" className="num">Limit</th>
              <th scope="col" className="num">Current</th>
              <th scope="col" className="usage-col">% used</th>
            </tr>
          </thead>
          <tbody>
            {USAGE_ROWS.map((row) => {
              const use = usageOf(usage, row.key, limits[row.key] as string | number | null);
              const limit = limits[row.key] as string | number | null;
              return (
                <tr
                  key={row.key}
                  data-testid={`limit-row-${row.key}`}
                  className={use.breached ? "breached" : undefined}
                  data-breached={use.breached || undefined}
                >
                  <th scope="row" className="limit-name" title={row.help}>
                    {row.label}
                    {row.floor && <span className="tag">floor</span>}
                    {use.breached && <span className="tag tag-fail">breached</span>}
                  </th>
                  <td className="num" data-testid={`limit-value-${row.key}`}>
                    {limit === null ? <span className="muted">none</span> : formatLimitValue(limit, row.unit)}
                  </td>
                  <td className="num" data-testid={`limit-current-${row.key}`}>
                    {formatLimitValue(use.value, row.unit)}
                  </td>
                  <td className="usage-col">
                    {row.floor || limit === null || (use.used_pct === null && !use.breached) ? (
                      <span className="muted">{DASH}</span>
                    ) : (
                      <UsageBar usedPct={use.used_pct} breached={use.breached} testId={`limit-usage-${row.key}`} />
                    )}
                  </td>
                </tr>
              );
            })}
            <tr data-testid="limit-row-stop_out_level">
              <th scope="row" className="limit-name" title="Paper accounts: margin level at which the largest losing position is closed">
                Stop-out level
              </th>
              <td className="num">{limits.stop_out_level === null ? <span className="muted">none</span> : formatLimitValue(limits.stop_out_level, "percent")}</td>
              <td className="num">{DASH}</td>
              <td className="usage-col muted">{DASH}</td>
            </tr>
            <tr data-testid="limit-row-allowed_symbols">
              <th scope="row" className="limit-name">Allowed symbols</th>
              <td className="risk-text" colSpan={3}>
                {limits.allowed_symbols?.length ? limits.allowed_symbols.join(" ") : <span className="muted">all</span>}
              </td>
            </tr>
            <tr data-testid="limit-row-hours">
              <th scope="row" className="limit-name">Trading hours</th>
              <td className="risk-text" colSpan={3}>
                {hours(limits)}
              </td>
            </tr>
          </tbody>
        </table>
      </div>
      <dl className="risk-actions" aria-label="Action on a breach">
        <dt className="field-label">On breach</dt>
        {ACTION_ROWS.map((row) => (
          <dd key={row.key} data-testid={`limit-action-${row.key}`}>
            <span className="muted">{row.label}</span> {actionLabel(limits[row.key])}
          </dd>
        ))}
      </dl>
    </section>
  );
}
