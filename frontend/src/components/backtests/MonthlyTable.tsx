import type { MonthlyReturn } from "../../api/types";
import { formatReturn } from "../../backtests/metrics";
import { MONTH_NAMES, monthlyTable, returnClass } from "../../backtests/monthly";

/** Monthly returns, a row per year, coloured by sign; the year's compounded total last. */
export function MonthlyTable({ monthly }: { monthly: readonly MonthlyReturn[] }) {
  const years = monthlyTable(monthly);
  return (
    <section className="card" data-testid="bt-monthly" aria-labelledby="bt-monthly-title">
      <header className="card-header">
        <h2 id="bt-monthly-title">Monthly returns</h2>
      </header>
      {years.length === 0 ? (
        <div className="muted pad">No full month.</div>
      ) : (
        <div className="table-scroll">
          <table className="table bt-monthly-table">
            <thead>
              <tr>
                <th>Year</th>
                {MONTH_NAMES.map((m) => (
                  <th key={m} className="num">
                    {m}
                  </th>
                ))}
                <th className="num">Year</th>
              </tr>
            </thead>
            <tbody>
              {years.map((y) => (
                <tr key={y.year} data-testid={`bt-monthly-${y.year}`}>
                  <th scope="row" className="num">
                    {y.year}
                  </th>
                  {y.months.map((r, i) => (
                    <td
                      key={i}
                      className={`num ${r === null ? "muted" : returnClass(r)}`}
                      data-testid={`bt-monthly-${y.year}-${String(i + 1).padStart(2, "0")}`}
                    >
                      {r === null ? "" : formatReturn(r)}
                    </td>
                  ))}
                  <td className={`num bt-year-total ${returnClass(y.total)}`}>{formatReturn(y.total)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
