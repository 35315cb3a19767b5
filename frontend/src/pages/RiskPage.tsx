import { useMemo } from "react";
import {
  useAccountLimits,
  useAccounts,
  usePlatformState,
  useRiskDefaults,
  useRiskEvents,
  useRiskStatus,
  useStateChanges,
} from "../api/queries";
import type { AccountRiskStatus, Me } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { AccountSelect, useAccountChoice } from "../components/AccountSelect";
import { ConnectionIndicator } from "../components/ConnectionIndicator";
import { ZonedTime } from "../components/ZonedTime";
import { ExposurePanel } from "../components/risk/ExposurePanel";
import { KillSwitch } from "../components/risk/KillSwitch";
import { LimitsEditor } from "../components/risk/LimitsEditor";
import { LimitsTable } from "../components/risk/LimitsTable";
import { RiskEvents } from "../components/risk/RiskEvents";
import { StateControl } from "../components/risk/StateControl";
import { StateHistory, StatePanel } from "../components/risk/StatePanel";
import { useRiskLive } from "../live/useRiskLive";
import { useTradingLive } from "../live/useTradingLive";
import { formatMoney, formatPercent, pnlClass } from "../trading/format";
import { formatLimitValue } from "../risk/usage";

const ACCOUNT_STORAGE_KEY = "fx.risk.account";

/** Operators edit limits, set states and pull the kill switch (the server checks `accounts.operate`). */
export function canOperate(user: Pick<Me, "roles" | "permissions"> | null): boolean {
  if (!user) return false;
  return user.roles.includes("operator") || user.permissions.includes("accounts.operate");
}

/** Risk of one account: state, limits and their use, exposure and tail risk, events; operators' controls. */
export function RiskPage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const tradingStatus = useTradingLive();
  useRiskLive();
  const live = tradingStatus.state === "open";
  const operator = canOperate(user);

  const accountsQuery = useAccounts();
  const accounts = useMemo(() => accountsQuery.data ?? [], [accountsQuery.data]);
  const { account, choose } = useAccountChoice(accounts, ACCOUNT_STORAGE_KEY);
  const accountId = account?.id ?? null;

  const status = useRiskStatus(accountId);
  const events = useRiskEvents(accountId, { live });
  const changes = useStateChanges(accountId, { live });
  const platform = usePlatformState({ live });
  const limits = useAccountLimits(operator ? accountId : null);
  const defaults = useRiskDefaults(operator);
  // A status of the previous account while the new one loads would mislead.
  const shown = status.data?.account === accountId ? status.data : undefined;

  return (
    <div className="page risk-page" data-testid="risk-page">
      <div className="page-header trade-header">
        <h1>Risk</h1>
        {accounts.length > 0 && (
          <AccountSelect
            accounts={accounts}
            value={accountId}
            onChange={choose}
            username={user?.username}
            testId="risk-account-select"
          />
        )}
        <span className="trade-conns">
          <ConnectionIndicator
            status={tradingStatus}
            testId="trading-connection"
            openTitle="Risk events and account changes stream live"
            label="Events"
          />
        </span>
      </div>

      {accountsQuery.isError && (
        <div className="alert alert-error" role="alert">
          Could not load accounts: {accountsQuery.error.message}
        </div>
      )}
      {accountsQuery.isPending && <div className="muted pad">Loading accounts…</div>}
      {accountsQuery.isSuccess && accounts.length === 0 && (
        <div className="notice" data-testid="risk-no-account">
          No trading account to show.
        </div>
      )}

      {account && (
        <>
          {status.isError && (
            <div className="alert alert-error" role="alert" data-testid="risk-status-error">
              {shown ? "Last refresh failed: " : "Could not load the risk status: "}
              {status.error.message}
            </div>
          )}
          {!shown && !status.isError && <div className="muted pad">Loading risk status…</div>}
          {shown && (
            <>
              <StatePanel status={shown} platform={platform.data} changes={changes.data} timeZone={timeZone} />
              <RiskFigures status={shown} timeZone={timeZone} fetching={status.isFetching} />
              <div className="risk-layout">
                <LimitsTable status={shown} />
                <ExposurePanel status={shown} />
              </div>
            </>
          )}
          <div className="risk-layout">
            <RiskEvents
              events={events.data}
              timeZone={timeZone}
              error={events.isError ? events.error : null}
              fetching={events.isFetching}
            />
            <StateHistory changes={changes.data} timeZone={timeZone} error={changes.isError ? changes.error : null} />
          </div>
          {operator ? (
            <div className="risk-layout risk-operator" data-testid="risk-operator">
              {limits.data && limits.data.account === account.id ? (
                <LimitsEditor key={account.id} limits={limits.data} defaults={defaults.data} />
              ) : (
                <section className="card">
                  <div className="muted pad">{limits.isError ? `Could not load limits: ${limits.error.message}` : "Loading limits…"}</div>
                </section>
              )}
              <div className="risk-side">
                <KillSwitch key={`kill-${account.id}`} account={account} />
                <StateControl key={`state-${account.id}`} account={account} />
              </div>
            </div>
          ) : (
            <div className="notice small" data-testid="risk-readonly">
              Limits are read-only for your role; operators change them and the trading state.
            </div>
          )}
        </>
      )}
    </div>
  );
}

/** Equity, daily P&L, drawdown, margin level and leverage the limits are measured on. */
function RiskFigures({ status, timeZone, fetching }: { status: AccountRiskStatus; timeZone: string | undefined; fetching: boolean }) {
  const f = status.figures;
  const stats = [
    { id: "equity", label: "Equity", value: formatMoney(f.equity) },
    { id: "daily-pnl", label: "Daily P&L", value: formatMoney(f.daily_pnl), className: pnlClass(f.daily_pnl) },
    { id: "drawdown", label: "Drawdown", value: formatPercent(f.drawdown_pct) },
    { id: "margin-level", label: "Margin level", value: formatPercent(f.margin_level) },
    { id: "leverage", label: "Leverage", value: formatLimitValue(f.leverage ?? null, "ratio") },
    { id: "gross", label: "Gross notional", value: formatMoney(f.gross_notional) },
  ];
  return (
    <section className="account-bar panel" data-testid="risk-figures" aria-label="Risk figures">
      {stats.map((s) => (
        <div key={s.id} className="stat">
          <span className="stat-label">{s.label}</span>
          <span className={`stat-value num ${s.className ?? ""}`} data-testid={`risk-figure-${s.id}`}>
            {s.value}
          </span>
        </div>
      ))}
      <span className={`card-meta account-bar-meta${fetching ? " pulsing" : ""}`} title="Refreshed every 5 s and on account changes">
        {status.currency} · monitored <ZonedTime iso={status.monitored_at} timeZone={timeZone} />
      </span>
    </section>
  );
}
