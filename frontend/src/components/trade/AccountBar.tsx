import type { TradingAccount } from "../../api/types";
import { formatMoney, formatPercent, pnlClass } from "../../trading/format";

interface Props {
  account: TradingAccount | null;
  /**
   * Open P&L (and margin) of the account's positions from live quotes, or
   * null when they cannot be computed: equity, free margin and margin level
   * then follow prices between the server's refreshes.
   */
  live?: LiveTotals | null;
  /** Epoch ms of the last refresh (0 when never). */
  updatedAt: number;
  fetching: boolean;
}

interface Stat {
  id: string;
  label: string;
  value: string;
  title?: string;
  className?: string;
}

/** Balance, equity, margin, free margin, margin level and open P&L of the selected account. */
export function AccountBar({ account, live = null, updatedAt, fetching }: Props) {
  if (!account) return null;
  const ccy = account.currency;
  const figures = liveFigures(account, live);
  const source = figures ? "live" : "server";
  const shown = figures ?? account;
  const stats: Stat[] = [
    { id: "balance", label: "Balance", value: formatMoney(account.balance), title: `${account.balance} ${ccy}` },
    {
      id: "equity",
      label: "Equity",
      value: formatMoney(shown.equity),
      title: `Balance plus open P&L (${source === "live" ? "live quotes" : "server"}); server: ${formatMoney(account.equity)}`,
    },
    { id: "margin", label: "Margin", value: formatMoney(shown.margin), title: "Margin used by open positions" },
    { id: "free-margin", label: "Free margin", value: formatMoney(shown.free_margin) },
    {
      id: "margin-level",
      label: "Margin level",
      value: formatPercent(shown.margin_level),
      title: "Equity / margin × 100 (— without open positions)",
      className: marginLevelClass(shown.margin_level),
    },
    {
      id: "open-pnl",
      label: "Open P&L",
      value: formatMoney(shown.open_pnl),
      className: pnlClass(shown.open_pnl),
    },
  ];
  return (
    <section
      className="account-bar panel"
      data-testid="account-bar"
      aria-label={`Account ${account.name}`}
      data-account={account.id}
      data-source={source}
    >
      {stats.map((stat) => (
        <div key={stat.id} className="stat" title={stat.title}>
          <span className="stat-label">{stat.label}</span>
          <span className={`stat-value num ${stat.className ?? ""}`} data-testid={`account-${stat.id}`}>
            {stat.value}
          </span>
        </div>
      ))}
      <div className="stat stat-meta">
        <span className="stat-label">Currency</span>
        <span className="stat-value num">{ccy}</span>
      </div>
      <span
        className={`card-meta account-bar-meta${fetching ? " pulsing" : ""}`}
        title="Refreshed every few seconds and on every fill"
      >
        {account.broker} · {account.status}
        {updatedAt ? ` · ${new Date(updatedAt).toLocaleTimeString(undefined, { hour12: false })}` : ""}
      </span>
    </section>
  );
}

export interface LiveTotals {
  openPnl: number;
  /** Null when some position's margin cannot be computed (the server's figure is used). */
  margin: number | null;
}

/** Equity, margin, free margin, margin level and open P&L from the balance and live totals, like the server's summary. */
export function liveFigures(
  account: Pick<TradingAccount, "balance" | "margin">,
  live: LiveTotals | null,
): Pick<TradingAccount, "equity" | "margin" | "free_margin" | "margin_level" | "open_pnl"> | null {
  const balance = Number(account.balance);
  const margin = live?.margin ?? Number(account.margin);
  if (live === null || !Number.isFinite(balance) || !Number.isFinite(margin)) return null;
  const equity = balance + live.openPnl;
  return {
    equity: equity.toFixed(2),
    margin: margin.toFixed(2),
    free_margin: (equity - margin).toFixed(2),
    margin_level: margin > 0 ? ((equity / margin) * 100).toFixed(2) : null,
    open_pnl: live.openPnl.toFixed(2),
  };
}

function marginLevelClass(level: string | null): string {
  if (level === null) return "";
  const value = Number(level);
  if (!Number.isFinite(value)) return "";
  if (value < 100) return "pnl-neg";
  if (value < 200) return "warn-text";
  return "";
}
