import { useEffect, useRef, useState, type KeyboardEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { isApiError } from "../../api/client";
import { amendOrder, cancelOrder, closeAllPositions, closePosition } from "../../api/endpoints";
import { queryKeys, useFills, useOrderHistory, usePositions, useWorkingOrders } from "../../api/queries";
import type { AmendOrderRequest, Fill, Instrument, Order, Position, TradingAccount } from "../../api/types";
import type { QuoteRows } from "../../live/useQuoteRows";
import { parseDecimal, compare } from "../../trading/decimal";
import { DASH, formatLots, formatMoney, formatPrice, pnlClass } from "../../trading/format";
import { pointOf } from "../../trading/pips";
import { livePnl, markPrice } from "../../trading/pnl";
import { needsPrice, needsStopPrice, stepValue } from "../../trading/ticket";
import { formatQuoteTime, formatUtc } from "../format";

type Tab = "positions" | "working" | "history" | "fills";
const TABS: readonly { id: Tab; label: string }[] = [
  { id: "positions", label: "Positions" },
  { id: "working", label: "Working orders" },
  { id: "history", label: "Order history" },
  { id: "fills", label: "Fills" },
];

const TAB_STORAGE_KEY = "fx.trade.blotterTab";
/** How long a Close button stays disabled waiting for the position to close. */
const CLOSE_PENDING_MS = 10_000;

interface Props {
  account: TradingAccount;
  instruments: ReadonlyMap<string, Instrument>;
  quotes: QuoteRows;
  timeZone: string | undefined;
  /** Show cancel / amend / close (traders and operators). */
  canAct: boolean;
  /** Whether /ws/trading/ is connected. */
  live: boolean;
}

function errorMessage(error: unknown): string {
  if (isApiError(error)) {
    const fields = Object.entries(error.fields).flatMap(([name, messages]) =>
      messages.map((m) => (name === "non_field_errors" ? m : `${name}: ${m}`)),
    );
    return [error.message, ...fields].join(" ");
  }
  return error instanceof Error ? error.message : "Something went wrong.";
}

function initialTab(): Tab {
  try {
    const stored = window.localStorage.getItem(TAB_STORAGE_KEY);
    if (TABS.some((t) => t.id === stored)) return stored as Tab;
  } catch {
    /* storage unavailable */
  }
  return "positions";
}

/** Working orders, order history, fills and positions of one account, kept live by /ws/trading/. */
export function Blotter({ account, instruments, quotes, timeZone, canAct, live }: Props) {
  const [tab, setTab] = useState<Tab>(initialTab);
  const positions = usePositions(account.id);
  const working = useWorkingOrders(account.id, { live });
  const history = useOrderHistory(account.id, { live });
  const fills = useFills(account.id, { live });
  const tabRefs = useRef<Record<Tab, HTMLButtonElement | null>>({ positions: null, working: null, history: null, fills: null });

  const select = (next: Tab) => {
    setTab(next);
    try {
      window.localStorage.setItem(TAB_STORAGE_KEY, next);
    } catch {
      /* storage unavailable */
    }
  };
  const onTabKey = (event: KeyboardEvent<HTMLButtonElement>) => {
    const index = TABS.findIndex((t) => t.id === tab);
    const delta = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
    if (!delta) return;
    event.preventDefault();
    const next = TABS[(index + delta + TABS.length) % TABS.length]!.id;
    select(next);
    tabRefs.current[next]?.focus();
  };

  const counts: Record<Tab, number | undefined> = {
    positions: positions.data?.length,
    working: working.data?.length,
    history: undefined,
    fills: undefined,
  };
  const query = { positions, working, history, fills }[tab];
  const digitsOf = (symbol: string) => instruments.get(symbol)?.digits ?? 5;

  return (
    <section className="card blotter" data-testid="blotter" aria-label="Blotter">
      <div className="tabs" role="tablist" aria-label="Blotter">
        {TABS.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              tabRefs.current[t.id] = el;
            }}
            type="button"
            role="tab"
            id={`blotter-tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`blotter-panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            className={`tab${tab === t.id ? " active" : ""}`}
            data-testid={`blotter-tab-${t.id}`}
            onClick={() => select(t.id)}
            onKeyDown={onTabKey}
          >
            {t.label}
            {counts[t.id] !== undefined && (
              <span className="tab-count num" data-testid={`blotter-count-${t.id}`}>
                {counts[t.id]}
              </span>
            )}
          </button>
        ))}
        <span className={`card-meta${query.isFetching ? " pulsing" : ""}`}>
          {query.dataUpdatedAt ? `updated ${new Date(query.dataUpdatedAt).toLocaleTimeString(undefined, { hour12: false })}` : ""}
        </span>
      </div>
      <div
        className="tab-panel table-scroll"
        role="tabpanel"
        id={`blotter-panel-${tab}`}
        aria-labelledby={`blotter-tab-${tab}`}
        data-testid={`blotter-panel-${tab}`}
      >
        {query.isPending && <div className="muted pad">Loading…</div>}
        {query.isError && (
          <div className="alert alert-error compact" role="alert">
            {query.data ? "Last refresh failed: " : "Could not load: "}
            {query.error.message}
          </div>
        )}
        {tab === "positions" && positions.data && (
          <PositionsTable
            account={account}
            positions={positions.data}
            instruments={instruments}
            quotes={quotes}
            timeZone={timeZone}
            canAct={canAct}
          />
        )}
        {tab === "working" && working.data && (
          <WorkingTable account={account} orders={working.data} instruments={instruments} timeZone={timeZone} canAct={canAct} />
        )}
        {tab === "history" && history.data && <HistoryTable orders={history.data} digitsOf={digitsOf} timeZone={timeZone} />}
        {tab === "fills" && fills.data && (
          <FillsTable fills={fills.data} digitsOf={digitsOf} timeZone={timeZone} currency={account.currency} />
        )}
      </div>
    </section>
  );
}

function TimeCell({ iso, timeZone }: { iso: string | null | undefined; timeZone: string | undefined }) {
  return (
    <td className="num muted" title={formatUtc(iso) || undefined}>
      {formatQuoteTime(iso, timeZone)}
    </td>
  );
}

function SideCell({ side }: { side: string }) {
  return <td className={`side-text side-${side}`}>{side === "buy" ? "Buy" : side === "sell" ? "Sell" : side}</td>;
}

/** Track which rows have an action in flight. */
function usePendingIds() {
  const [ids, setIds] = useState<ReadonlySet<number>>(new Set());
  const add = (id: number) => setIds((s) => new Set(s).add(id));
  const remove = (id: number) =>
    setIds((s) => {
      const next = new Set(s);
      next.delete(id);
      return next;
    });
  return { ids, add, remove };
}

// ---------------------------------------------------------------------------
// Positions
// ---------------------------------------------------------------------------

function PositionsTable({
  account,
  positions,
  instruments,
  quotes,
  timeZone,
  canAct,
}: {
  account: TradingAccount;
  positions: Position[];
  instruments: ReadonlyMap<string, Instrument>;
  quotes: QuoteRows;
  timeZone: string | undefined;
  canAct: boolean;
}) {
  const queryClient = useQueryClient();
  const pending = usePendingIds();
  const [error, setError] = useState<string | null>(null);
  const [confirmAll, setConfirmAll] = useState(false);
  const [closingAll, setClosingAll] = useState(false);

  useEffect(() => {
    if (!confirmAll) return;
    const id = setTimeout(() => setConfirmAll(false), 4_000);
    return () => clearTimeout(id);
  }, [confirmAll]);

  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: queryKeys.positions(account.id) });
    void queryClient.invalidateQueries({ queryKey: queryKeys.orders(account.id) });
  };

  const close = async (position: Position) => {
    setError(null);
    pending.add(position.id);
    try {
      await closePosition(position.id);
      refresh();
      // The row leaves with the position's closing event; if it does not (a rejected close), re-enable.
      setTimeout(() => pending.remove(position.id), CLOSE_PENDING_MS);
    } catch (e) {
      setError(`Could not close ${position.symbol}: ${errorMessage(e)}`);
      pending.remove(position.id);
    }
  };

  const closeAll = async () => {
    if (!confirmAll) {
      setConfirmAll(true);
      return;
    }
    setConfirmAll(false);
    setError(null);
    setClosingAll(true);
    try {
      await closeAllPositions(account.id);
      refresh();
    } catch (e) {
      setError(`Could not close all positions: ${errorMessage(e)}`);
    } finally {
      setClosingAll(false);
    }
  };

  const rows = positions.map((position) => {
    const instrument = instruments.get(position.symbol);
    const live = livePnl(position, instrument, account.currency, quotes);
    return { position, instrument, live };
  });
  const total = rows.reduce<number | null>((sum, r) => {
    const value = r.live ?? (r.position.unrealized_pnl !== null ? Number(r.position.unrealized_pnl) : null);
    return sum === null || value === null ? null : sum + value;
  }, 0);

  return (
    <>
      {error && (
        <div className="alert alert-error compact" role="alert" data-testid="blotter-error">
          {error}
        </div>
      )}
      {positions.length === 0 ? (
        <div className="muted pad" data-testid="positions-empty">
          No open positions.
        </div>
      ) : (
        <table className="table blotter-table" data-testid="positions-table">
          <thead>
            <tr>
              <th scope="col">Symbol</th>
              <th scope="col">Side</th>
              <th scope="col" className="num">Lots</th>
              <th scope="col" className="num">Open price</th>
              <th scope="col" className="num" title="Bid for longs, ask for shorts">Price</th>
              <th scope="col" className="num" title={`Unrealised P&L in ${account.currency}`}>P&amp;L</th>
              <th scope="col" className="num">Realised</th>
              <th scope="col" className="num">Swap</th>
              <th scope="col" className="num">Comm.</th>
              <th scope="col" className="num">Opened</th>
              {canAct && <th scope="col" className="actions" aria-label="Actions" />}
            </tr>
          </thead>
          <tbody>
            {rows.map(({ position, instrument, live }) => {
              const digits = instrument?.digits ?? 5;
              const quantity = Number(position.quantity);
              const mark = markPrice(quantity, quotes[position.symbol]);
              const pnl = live ?? position.unrealized_pnl;
              const closing = pending.ids.has(position.id);
              return (
                <tr key={position.id} data-testid={`position-row-${position.id}`} data-symbol={position.symbol}>
                  <td className="symbol">{position.symbol}</td>
                  <SideCell side={quantity >= 0 ? "buy" : "sell"} />
                  <td className="num" data-testid={`position-quantity-${position.id}`}>
                    {formatLots(position.quantity)}
                  </td>
                  <td className="num">{formatPrice(position.average_price, digits)}</td>
                  <td className="num">{formatPrice(mark, digits)}</td>
                  <td
                    className={`num ${pnlClass(pnl)}`}
                    data-testid={`position-pnl-${position.id}`}
                    data-source={live !== null ? "live" : "server"}
                    title={
                      live !== null
                        ? `Live from quotes; server: ${position.unrealized_pnl ?? DASH}`
                        : "From the server's last quotes"
                    }
                  >
                    {formatMoney(pnl)}
                  </td>
                  <td className={`num ${pnlClass(position.realized_pnl)}`}>{formatMoney(position.realized_pnl)}</td>
                  <td className="num">{formatMoney(position.swap)}</td>
                  <td className="num">{formatMoney(position.commission)}</td>
                  <TimeCell iso={position.opened_at} timeZone={timeZone} />
                  {canAct && (
                    <td className="actions">
                      <button
                        type="button"
                        className="btn btn-sm"
                        disabled={closing}
                        onClick={() => void close(position)}
                        data-testid={`position-close-${position.id}`}
                        aria-label={`Close ${position.symbol} position`}
                      >
                        {closing ? "Closing…" : "Close"}
                      </button>
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={5} className="muted small">
                {positions.length} open position{positions.length === 1 ? "" : "s"}
              </td>
              <td className={`num ${pnlClass(total)}`} data-testid="positions-total-pnl">
                {formatMoney(total)}
              </td>
              <td colSpan={4} />
              {canAct && (
                <td className="actions">
                  <button
                    type="button"
                    className={`btn btn-sm${confirmAll ? " btn-danger" : ""}`}
                    disabled={closingAll}
                    onClick={() => void closeAll()}
                    data-testid="positions-close-all"
                  >
                    {closingAll ? "Closing…" : confirmAll ? `Confirm close ${positions.length}` : "Close all"}
                  </button>
                </td>
              )}
            </tr>
          </tfoot>
        </table>
      )}
    </>
  );
}

// ---------------------------------------------------------------------------
// Working orders (cancel, inline amend)
// ---------------------------------------------------------------------------

const ROLE_TAG: Record<string, string> = {
  stop_loss: "SL",
  take_profit: "TP",
  trailing_stop: "TS",
  close: "close",
};

function statusText(order: Order): string {
  if (order.cancel_requested) return "cancel requested";
  return order.status.replace(/_/g, " ");
}

function WorkingTable({
  account,
  orders,
  instruments,
  timeZone,
  canAct,
}: {
  account: TradingAccount;
  orders: Order[];
  instruments: ReadonlyMap<string, Instrument>;
  timeZone: string | undefined;
  canAct: boolean;
}) {
  const queryClient = useQueryClient();
  const pending = usePendingIds();
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState<number | null>(null);

  const cancel = async (order: Order) => {
    setError(null);
    pending.add(order.id);
    try {
      await cancelOrder(order.id);
      void queryClient.invalidateQueries({ queryKey: queryKeys.orders(account.id) });
    } catch (e) {
      setError(`Could not cancel order #${order.id}: ${errorMessage(e)}`);
    } finally {
      pending.remove(order.id);
    }
  };

  if (orders.length === 0) {
    return (
      <div className="muted pad" data-testid="working-empty">
        No working orders.
      </div>
    );
  }
  return (
    <>
      {error && (
        <div className="alert alert-error compact" role="alert" data-testid="blotter-error">
          {error}
        </div>
      )}
      <table className="table blotter-table" data-testid="working-table">
        <thead>
          <tr>
            <th scope="col" className="num">Time</th>
            <th scope="col">Symbol</th>
            <th scope="col">Side</th>
            <th scope="col">Type</th>
            <th scope="col" className="num">Lots</th>
            <th scope="col" className="num">Filled</th>
            <th scope="col" className="num">Price</th>
            <th scope="col" className="num">Stop</th>
            <th scope="col">TIF</th>
            <th scope="col">Status</th>
            {canAct && <th scope="col" className="actions" aria-label="Actions" />}
          </tr>
        </thead>
        <tbody>
          {orders.map((order) => {
            const instrument = instruments.get(order.symbol);
            const digits = instrument?.digits ?? 5;
            if (editing === order.id && canAct) {
              return (
                <AmendRow
                  key={order.id}
                  order={order}
                  instrument={instrument}
                  timeZone={timeZone}
                  onDone={() => {
                    setEditing(null);
                    void queryClient.invalidateQueries({ queryKey: queryKeys.orders(account.id) });
                  }}
                  onCancel={() => setEditing(null)}
                />
              );
            }
            const busy = pending.ids.has(order.id) || Boolean(order.cancel_requested);
            return (
              <tr key={order.id} data-testid={`working-row-${order.id}`} data-status={order.status}>
                <TimeCell iso={order.created_at} timeZone={timeZone} />
                <td className="symbol">
                  {order.symbol}
                  {order.role && ROLE_TAG[order.role] && <span className="tag">{ROLE_TAG[order.role]}</span>}
                </td>
                <SideCell side={order.side} />
                <td>{order.type.replace("_", " ")}</td>
                <td className="num">{formatLots(order.quantity)}</td>
                <td className="num">{formatLots(order.filled_quantity)}</td>
                <td className="num">{formatPrice(order.price, digits)}</td>
                <td className="num">{formatPrice(order.stop_price, digits)}</td>
                <td title={order.expire_at ? `expires ${formatUtc(order.expire_at)}` : undefined}>
                  {order.time_in_force ?? DASH}
                </td>
                <td>{statusText(order)}</td>
                {canAct && (
                  <td className="actions">
                    {order.type !== "market" && (
                      <button
                        type="button"
                        className="btn btn-sm btn-ghost"
                        disabled={busy}
                        onClick={() => setEditing(order.id)}
                        data-testid={`order-amend-${order.id}`}
                        aria-label={`Amend order ${order.id}`}
                      >
                        Amend
                      </button>
                    )}
                    <button
                      type="button"
                      className="btn btn-sm"
                      disabled={busy}
                      onClick={() => void cancel(order)}
                      data-testid={`order-cancel-${order.id}`}
                      aria-label={`Cancel order ${order.id}`}
                    >
                      {pending.ids.has(order.id) ? "Cancelling…" : "Cancel"}
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

/** Only the fields that differ from the order (the server refuses "nothing to change"). */
export function amendChanges(
  order: Pick<Order, "quantity" | "price" | "stop_price" | "type">,
  values: { quantity: string; price: string; stop_price: string },
): AmendOrderRequest {
  const changes: AmendOrderRequest = {};
  const differs = (typed: string, current: string | null) => {
    const a = parseDecimal(typed);
    const b = parseDecimal(current);
    return a !== null && (b === null || compare(a, b) !== 0);
  };
  if (differs(values.quantity, order.quantity)) changes.quantity = values.quantity.trim();
  if (needsPrice(order.type) && differs(values.price, order.price)) changes.price = values.price.trim();
  if (needsStopPrice(order.type) && differs(values.stop_price, order.stop_price)) changes.stop_price = values.stop_price.trim();
  return changes;
}

function AmendRow({
  order,
  instrument,
  timeZone,
  onDone,
  onCancel,
}: {
  order: Order;
  instrument: Instrument | undefined;
  timeZone: string | undefined;
  onDone: () => void;
  onCancel: () => void;
}) {
  const digits = instrument?.digits ?? 5;
  const point = instrument ? pointOf(instrument) : "0.00001";
  const [values, setValues] = useState({
    quantity: formatLots(order.quantity),
    price: order.price ? formatPrice(order.price, digits) : "",
    stop_price: order.stop_price ? formatPrice(order.stop_price, digits) : "",
  });
  const [saving, setSaving] = useState(false);
  const [errors, setErrors] = useState<{ message: string; fields: Record<string, string[]> } | null>(null);
  const firstInput = useRef<HTMLInputElement>(null);
  useEffect(() => firstInput.current?.focus(), []);

  const save = async () => {
    if (saving) return;
    const changes = amendChanges(order, values);
    if (Object.keys(changes).length === 0) {
      setErrors({ message: "Nothing to change.", fields: {} });
      return;
    }
    setSaving(true);
    setErrors(null);
    try {
      await amendOrder(order.id, changes);
      onDone();
    } catch (e) {
      setErrors({ message: isApiError(e) ? e.message : errorMessage(e), fields: isApiError(e) ? e.fields : {} });
      setSaving(false);
    }
  };

  const onKeyDown = (field: keyof typeof values, step: string) => (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === "Enter") {
      event.preventDefault();
      void save();
    } else if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "ArrowUp" || event.key === "ArrowDown") {
      event.preventDefault();
      const direction = event.key === "ArrowUp" ? 1 : -1;
      setValues((v) => ({ ...v, [field]: stepValue(v[field], step, direction, field === "quantity" ? instrument?.lot_min : undefined) }));
    }
  };

  const input = (field: keyof typeof values, label: string, step: string, ref?: typeof firstInput) => (
    <input
      ref={ref}
      className="input input-sm num"
      aria-label={`${label} of order ${order.id}`}
      inputMode="decimal"
      autoComplete="off"
      value={values[field]}
      onChange={(e) => setValues((v) => ({ ...v, [field]: e.target.value }))}
      onKeyDown={onKeyDown(field, step)}
      aria-invalid={(errors?.fields[field]?.length ?? 0) > 0 || undefined}
      data-testid={`amend-${field.replace("_", "-")}-${order.id}`}
    />
  );
  const fieldMessages = errors
    ? Object.entries(errors.fields).flatMap(([name, messages]) =>
        messages.map((m) => (name === "non_field_errors" ? m : `${name.replace("_", " ")}: ${m}`)),
      )
    : [];

  return (
    <>
      <tr className="editing" data-testid={`working-row-${order.id}`} data-status={order.status} data-editing="true">
        <TimeCell iso={order.created_at} timeZone={timeZone} />
        <td className="symbol">{order.symbol}</td>
        <SideCell side={order.side} />
        <td>{order.type.replace("_", " ")}</td>
        <td className="num">{input("quantity", "Lots", instrument?.lot_step ?? "0.01", firstInput)}</td>
        <td className="num">{formatLots(order.filled_quantity)}</td>
        <td className="num">{needsPrice(order.type) ? input("price", "Price", point) : DASH}</td>
        <td className="num">{needsStopPrice(order.type) ? input("stop_price", "Stop price", point) : DASH}</td>
        <td>{order.time_in_force ?? DASH}</td>
        <td>{statusText(order)}</td>
        <td className="actions">
          <button
            type="button"
            className="btn btn-sm btn-primary"
            disabled={saving}
            onClick={() => void save()}
            data-testid={`amend-save-${order.id}`}
          >
            {saving ? "Saving…" : "Save"}
          </button>
          <button type="button" className="btn btn-sm btn-ghost" onClick={onCancel} data-testid={`amend-cancel-${order.id}`}>
            Esc
          </button>
        </td>
      </tr>
      {errors && (
        <tr className="check-error-row">
          <td colSpan={11} className="fail-text small" role="alert" data-testid={`amend-error-${order.id}`}>
            {[errors.message, ...fieldMessages].join(" ")}
          </td>
        </tr>
      )}
    </>
  );
}

// ---------------------------------------------------------------------------
// History and fills
// ---------------------------------------------------------------------------

const STATUS_PILL: Record<string, string> = {
  filled: "pill-ok",
  partially_filled: "pill-warn",
  accepted: "pill-muted",
  new: "pill-muted",
  cancelled: "pill-muted",
  expired: "pill-muted",
  rejected: "pill-fail",
};

function HistoryTable({
  orders,
  digitsOf,
  timeZone,
}: {
  orders: Order[];
  digitsOf: (symbol: string) => number;
  timeZone: string | undefined;
}) {
  if (orders.length === 0) return <div className="muted pad">No orders yet.</div>;
  return (
    <table className="table blotter-table" data-testid="history-table">
      <thead>
        <tr>
          <th scope="col" className="num">Time</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col">Type</th>
          <th scope="col" className="num">Lots</th>
          <th scope="col" className="num">Filled</th>
          <th scope="col" className="num">Avg fill</th>
          <th scope="col" className="num">Price</th>
          <th scope="col" className="num">Stop</th>
          <th scope="col">Status</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((order) => {
          const digits = digitsOf(order.symbol);
          return (
            <tr key={order.id} data-testid={`history-row-${order.id}`} data-status={order.status}>
              <TimeCell iso={order.created_at} timeZone={timeZone} />
              <td className="symbol" title={order.client_order_id}>
                {order.symbol}
                {order.role && ROLE_TAG[order.role] && <span className="tag">{ROLE_TAG[order.role]}</span>}
              </td>
              <SideCell side={order.side} />
              <td>{order.type.replace("_", " ")}</td>
              <td className="num">{formatLots(order.quantity)}</td>
              <td className="num">{formatLots(order.filled_quantity)}</td>
              <td className="num">{formatPrice(order.average_fill_price, digits)}</td>
              <td className="num">{formatPrice(order.price, digits)}</td>
              <td className="num">{formatPrice(order.stop_price, digits)}</td>
              <td>
                <span className={`pill ${STATUS_PILL[order.status] ?? "pill-muted"}`} data-testid={`history-status-${order.id}`}>
                  {order.status.replace(/_/g, " ")}
                </span>
              </td>
              <td className="reason small" data-testid={`history-reason-${order.id}`} title={order.reject_reason || undefined}>
                {order.reject_code && <code>{order.reject_code}</code>} {order.reject_reason}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function FillsTable({
  fills,
  digitsOf,
  timeZone,
  currency,
}: {
  fills: Fill[];
  digitsOf: (symbol: string) => number;
  timeZone: string | undefined;
  currency: string;
}) {
  if (fills.length === 0) return <div className="muted pad">No fills yet.</div>;
  return (
    <table className="table blotter-table" data-testid="fills-table">
      <thead>
        <tr>
          <th scope="col" className="num">Time</th>
          <th scope="col">Symbol</th>
          <th scope="col">Side</th>
          <th scope="col" className="num">Lots</th>
          <th scope="col" className="num">Price</th>
          <th scope="col" className="num" title={currency}>Commission</th>
          <th scope="col" className="num" title={currency}>Swap</th>
          <th scope="col" className="num" title={`Realised P&L in ${currency}`}>Realised</th>
          <th scope="col" className="num">Order</th>
        </tr>
      </thead>
      <tbody>
        {fills.map((fill) => (
          <tr key={fill.id} data-testid={`fill-row-${fill.id}`}>
            <TimeCell iso={fill.time} timeZone={timeZone} />
            <td className="symbol">{fill.symbol}</td>
            <SideCell side={fill.side} />
            <td className="num">{formatLots(fill.quantity)}</td>
            <td className="num" data-testid={`fill-price-${fill.id}`}>
              {formatPrice(fill.price, digitsOf(fill.symbol))}
            </td>
            <td className="num">{formatMoney(fill.commission)}</td>
            <td className="num">{formatMoney(fill.swap)}</td>
            <td className={`num ${pnlClass(fill.realized_pnl)}`}>{formatMoney(fill.realized_pnl)}</td>
            <td className="num muted">#{fill.order}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
