import type { AccountRiskStatus } from "../../api/types";
import { parseDecimal, toFixed } from "../../trading/decimal";
import { DASH, formatMoney, pnlClass } from "../../trading/format";

interface Props {
  status: AccountRiskStatus;
}

/** "0.95" → "95%"; "0.975" → "97.5%". */
function levelLabel(level: string): string {
  const value = Number(level);
  if (!Number.isFinite(value)) return level;
  const pct = value <= 1 ? value * 100 : value;
  return `${Number(pct.toFixed(2))}%`;
}

/** Correlation with two decimals; the cell's shade follows its strength. */
function corrText(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return DASH;
  return toFixed(parseDecimal(value.toFixed(4))!, 2);
}

function corrClass(value: number | null | undefined, diagonal: boolean): string {
  if (diagonal || value === null || value === undefined || !Number.isFinite(value)) return "corr-diag";
  const a = Math.abs(value);
  const strength = a >= 0.75 ? "strong" : a >= 0.4 ? "mid" : "weak";
  return `corr-${value < 0 ? "neg" : "pos"}-${strength}`;
}

/** Exposure per currency, VaR and ES (one hour, 95 % and 99 %) and the currencies' correlation. */
export function ExposurePanel({ status }: Props) {
  const { exposures, var: report, currency } = status;
  const corr = report.correlation;
  return (
    <section className="card risk-exposure" data-testid="risk-exposure" aria-labelledby="risk-exposure-title">
      <header className="card-header">
        <h2 id="risk-exposure-title">Exposure &amp; tail risk</h2>
        <span className="card-meta">{currency}</span>
      </header>

      <h3 className="risk-subhead">By currency</h3>
      {exposures.length === 0 ? (
        <div className="muted pad" data-testid="exposures-empty">
          No exposure.
        </div>
      ) : (
        <table className="table risk-table" data-testid="exposures-table">
          <thead>
            <tr>
              <th scope="col">Currency</th>
              <th scope="col" className="num" title={`Signed, in ${currency}`}>Net</th>
              <th scope="col" className="num">Gross</th>
            </tr>
          </thead>
          <tbody>
            {exposures.map((e) => (
              <tr key={e.currency} data-testid={`exposure-row-${e.currency}`}>
                <th scope="row" className="symbol">{e.currency}</th>
                <td className={`num ${pnlClass(e.net)}`} data-testid={`exposure-net-${e.currency}`}>
                  {formatMoney(e.net)}
                </td>
                <td className="num" data-testid={`exposure-gross-${e.currency}`}>
                  {formatMoney(e.gross)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h3 className="risk-subhead">
        VaR / ES <span className="muted small">{report.horizon}, historical</span>
      </h3>
      {report.levels.length === 0 ? (
        <div className="muted pad small" data-testid="var-empty">
          {report.currencies.length === 0
            ? "No foreign-currency exposure to measure."
            : `Not enough H1 history (${report.observations} of ${report.window} returns).`}
        </div>
      ) : (
        <table className="table risk-table" data-testid="var-table">
          <thead>
            <tr>
              <th scope="col">Confidence</th>
              <th scope="col" className="num" title="Value at risk over one hour">VaR</th>
              <th scope="col" className="num" title="Expected shortfall beyond the VaR">ES</th>
            </tr>
          </thead>
          <tbody>
            {report.levels.map((l) => (
              <tr key={l.level} data-testid={`var-row-${l.level}`}>
                <th scope="row">{levelLabel(l.level)}</th>
                <td className="num">{formatMoney(l.var)}</td>
                <td className="num">{formatMoney(l.es)}</td>
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={3} className="muted small">
                {report.observations} hourly returns
              </td>
            </tr>
          </tfoot>
        </table>
      )}

      <h3 className="risk-subhead">Correlation</h3>
      {!corr || report.currencies.length < 2 ? (
        <div className="muted pad small" data-testid="correlation-empty">
          {report.currencies.length < 2 ? "Needs two or more exposed currencies." : "Not enough history."}
        </div>
      ) : (
        <div className="table-scroll">
          <table className="table risk-table corr-table" data-testid="correlation-table">
            <thead>
              <tr>
                <th scope="col" aria-label="Currency" />
                {report.currencies.map((c) => (
                  <th key={c} scope="col" className="num">
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {report.currencies.map((row, i) => (
                <tr key={row}>
                  <th scope="row" className="symbol">{row}</th>
                  {report.currencies.map((col, j) => (
                    <td key={col} className={`num ${corrClass(corr[i]?.[j], i === j)}`} title={`${row}/${col}`}>
                      {corrText(corr[i]?.[j])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
