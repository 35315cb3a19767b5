import { useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { useAccounts, useInstruments, usePositions } from "../api/queries";
import type { Me, TradingAccount } from "../api/types";
import { useAuth } from "../auth/AuthContext";
import { AccountSelect, useAccountChoice } from "../components/AccountSelect";
import { ConnectionIndicator } from "../components/ConnectionIndicator";
import { PricesConnection } from "../components/PricesConnection";
import { AccountBar, type LiveTotals } from "../components/trade/AccountBar";
import { Blotter } from "../components/trade/Blotter";
import { OrderTicket } from "../components/trade/OrderTicket";
import { useQuoteRows } from "../live/useQuoteRows";
import { useTradingLive } from "../live/useTradingLive";
import { liveMargin, livePnl } from "../trading/pnl";

const ACCOUNT_STORAGE_KEY = "fx.trade.account";

/** Traders and operators trade (the server checks `accounts.trade`); viewers only look. */
export function canTrade(user: Pick<Me, "roles" | "permissions"> | null): boolean {
  if (!user) return false;
  return (
    user.roles.includes("trader") || user.roles.includes("operator") || user.permissions.includes("accounts.trade")
  );
}

/** Without a stored choice: the user's own first active account, else the first. */
function defaultAccount(accounts: TradingAccount[], username: string | undefined) {
  return accounts.find((a) => a.owner === username && a.status === "active") ?? accounts[0] ?? null;
}

/** The trading desk: account summary, order ticket and blotter, all live. */
export function TradePage() {
  const { user } = useAuth();
  const timeZone = user?.timezone || undefined;
  const tradingStatus = useTradingLive();
  // `/trade?symbol=GBPUSD` (the market watch's and the chart's trade actions) opens the ticket on that symbol.
  const [search] = useSearchParams();
  const requestedSymbol = search.get("symbol")?.toUpperCase() || null;
  const live = tradingStatus.state === "open";

  const accountsQuery = useAccounts();
  const accounts = useMemo(() => accountsQuery.data ?? [], [accountsQuery.data]);
  const { account, choose } = useAccountChoice(accounts, ACCOUNT_STORAGE_KEY, (list) =>
    defaultAccount(list, user?.username),
  );

  const instrumentsQuery = useInstruments();
  const instruments = useMemo(() => {
    const results = instrumentsQuery.data?.results;
    return Array.isArray(results) ? results.filter((i) => i && typeof i.symbol === "string" && i.enabled) : [];
  }, [instrumentsQuery.data]);
  const bySymbol = useMemo(() => new Map(instruments.map((i) => [i.symbol, i])), [instruments]);
  const symbols = useMemo(() => instruments.map((i) => i.symbol), [instruments]);
  const { rows: quotes, liveError } = useQuoteRows(symbols);

  // Equity follows prices between the account's refreshes (same query as the blotter's positions).
  const positions = usePositions(account?.id ?? null);
  const liveTotals = useMemo((): LiveTotals | null => {
    if (!account || !positions.data) return null;
    let openPnl = 0;
    let margin: number | null = 0;
    for (const position of positions.data) {
      const instrument = bySymbol.get(position.symbol);
      const pnl = livePnl(position, instrument, account.currency, quotes);
      if (pnl === null) return null;
      openPnl += pnl;
      const used = liveMargin(position, instrument, account.currency, account.leverage, quotes);
      margin = margin === null || used === null ? null : margin + used;
    }
    return { openPnl, margin };
  }, [account, positions.data, bySymbol, quotes]);

  const trader = canTrade(user);
  const ownsAccount = account !== null && account.owner === user?.username;
  const accountActive = account?.status === "active";

  let ticketNotice: string | null = null;
  if (!trader) ticketNotice = "View only: your role cannot trade.";
  else if (account && !ownsAccount) ticketNotice = `You can only trade your own accounts (this one is ${account.owner}'s).`;
  else if (account && !accountActive) ticketNotice = `This account is ${account.status}.`;

  return (
    <div className="page trade-page" data-testid="trade-page">
      <div className="page-header trade-header">
        <h1>Trading desk</h1>
        {accounts.length > 0 && (
          <AccountSelect
            accounts={accounts}
            value={account?.id ?? null}
            onChange={choose}
            username={user?.username}
            testId="trade-account-select"
          />
        )}
        <span className="trade-conns">
          <ConnectionIndicator
            status={tradingStatus}
            testId="trading-connection"
            openTitle="Orders, fills and positions stream live"
            label="Trading"
          />
          <PricesConnection label="Prices" />
        </span>
      </div>

      {accountsQuery.isError && (
        <div className="alert alert-error" role="alert">
          Could not load accounts: {accountsQuery.error.message}
        </div>
      )}
      {liveError && (
        <div className="alert alert-error" role="alert">
          Live prices: {liveError}
        </div>
      )}
      {accountsQuery.isPending && <div className="muted pad">Loading accounts…</div>}
      {accountsQuery.isSuccess && accounts.length === 0 && (
        <div className="notice" data-testid="trade-no-account">
          You have no trading account. An operator can open one for you.
        </div>
      )}

      {account && (
        <>
          <AccountBar account={account} live={liveTotals} updatedAt={accountsQuery.dataUpdatedAt} fetching={accountsQuery.isFetching} />
          <div className={`trade-layout${ticketNotice && !trader ? " no-ticket" : ""}`}>
            {ticketNotice ? (
              <section className="card ticket" data-testid="ticket-readonly" aria-label="Order ticket">
                <header className="card-header">
                  <h2>Order ticket</h2>
                </header>
                <div className="muted pad">{ticketNotice}</div>
              </section>
            ) : (
              <OrderTicket
                key={account.id}
                account={account}
                instruments={instruments}
                quotes={quotes}
                timeZone={timeZone}
                live={live}
                requestedSymbol={requestedSymbol}
              />
            )}
            <Blotter
              account={account}
              instruments={bySymbol}
              quotes={quotes}
              timeZone={timeZone}
              canAct={trader}
              live={live}
            />
          </div>
        </>
      )}
    </div>
  );
}
