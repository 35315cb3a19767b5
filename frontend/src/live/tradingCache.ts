/**
 * `/ws/trading/` events → TanStack Query caches, so the trading desk never
 * needs a reload.
 *
 * Each event patches the cached lists at once (an order changes status or
 * leaves the working list, a fill is prepended, a closed position
 * disappears, the balance changes), then the lists whose rows the event
 * describes only in part are refetched — at most one refetch per list every
 * `delayMs`, however many events arrive, always after the last one.
 * After a (re)connect everything is refetched: events committed while the
 * socket was down are not replayed.
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { BLOTTER_PAGE_SIZE, WORKING_STATUSES } from "../api/endpoints";
import { queryKeys } from "../api/queries";
import type {
  AccountEvent,
  Fill,
  FillEvent,
  Order,
  OrderEvent,
  Position,
  PositionEvent,
  TradingAccount,
  TradingEvent,
} from "../api/types";

export const INVALIDATE_DELAY_MS = 300;

function orderFromEvent(event: OrderEvent, previous?: Order): Order {
  const { type: _kind, order_type, ...fields } = event;
  return {
    ...(previous ?? { created_at: new Date().toISOString() }),
    ...fields,
    type: order_type ?? previous?.type,
  };
}

function positionFromEvent(event: PositionEvent, previous?: Position): Position {
  return {
    ...(previous ?? { unrealized_pnl: null, closed_at: null }),
    id: event.id,
    account: event.account,
    symbol: event.symbol,
    quantity: event.quantity,
    average_price: event.average_price,
    realized_pnl: event.realized_pnl,
  };
}

function isZero(quantity: string): boolean {
  return Number(quantity) === 0;
}

export class TradingCacheSync {
  private readonly queryClient: QueryClient;
  private readonly delayMs: number;
  private readonly pending = new Map<string, QueryKey>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(queryClient: QueryClient, options: { delayMs?: number } = {}) {
    this.queryClient = queryClient;
    this.delayMs = options.delayMs ?? INVALIDATE_DELAY_MS;
  }

  /** Apply the events of one server message. */
  apply(events: readonly TradingEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case "order":
          this.onOrder(event as OrderEvent);
          break;
        case "fill":
          this.onFill(event as FillEvent);
          break;
        case "position":
          this.onPosition(event as PositionEvent);
          break;
        case "account":
          this.onAccount(event as AccountEvent);
          break;
        case "algo": {
          const account = typeof event.account === "number" ? event.account : null;
          this.refetch(account === null ? ["trading", "orders"] : queryKeys.orders(account));
          this.refetch(["trading", "algos"]);
          break;
        }
        case "reconciliation":
        case "risk":
          // Repairs and risk actions can touch anything of the account.
          this.refetch(queryKeys.trading);
          break;
        default:
          break;
      }
    }
  }

  /** After (re)connecting: refetch everything the socket may have missed. */
  resync(): void {
    this.refetch(queryKeys.trading);
    this.flush();
  }

  /** Run pending refetches now. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const keys = [...this.pending.values()];
    this.pending.clear();
    for (const queryKey of keys) void this.queryClient.invalidateQueries({ queryKey });
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }

  // -------------------------------------------------------------------------

  private refetch(queryKey: QueryKey): void {
    this.pending.set(JSON.stringify(queryKey), queryKey);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  private onOrder(event: OrderEvent): void {
    const working = WORKING_STATUSES.includes(event.status);
    this.queryClient.setQueryData<Order[]>(queryKeys.workingOrders(event.account), (rows) => {
      if (!rows) return rows;
      const index = rows.findIndex((o) => o.id === event.id);
      if (!working) return index < 0 ? rows : rows.filter((o) => o.id !== event.id);
      if (index < 0) return [orderFromEvent(event), ...rows];
      const next = [...rows];
      next[index] = orderFromEvent(event, rows[index]);
      return next;
    });
    this.queryClient.setQueryData<Order[]>(queryKeys.orderHistory(event.account), (rows) => {
      if (!rows) return rows;
      const index = rows.findIndex((o) => o.id === event.id);
      if (index < 0) return [orderFromEvent(event), ...rows].slice(0, BLOTTER_PAGE_SIZE);
      const next = [...rows];
      next[index] = orderFromEvent(event, rows[index]);
      return next;
    });
    // Average fill price, times, cancel_requested: only the REST rows have them.
    this.refetch(queryKeys.orders(event.account));
  }

  private onFill(event: FillEvent): void {
    const { type: _kind, ...fill } = event;
    this.queryClient.setQueryData<Fill[]>(queryKeys.fills(event.account), (rows) => {
      if (!rows || rows.some((f) => f.id === fill.id)) return rows;
      return [fill as Fill, ...rows].slice(0, BLOTTER_PAGE_SIZE);
    });
    // Balance (commission, realised P&L), margin and equity follow a fill.
    this.refetch(queryKeys.accounts);
  }

  private onPosition(event: PositionEvent): void {
    const closed = event.closed || isZero(event.quantity);
    this.queryClient.setQueryData<Position[]>(queryKeys.positions(event.account), (rows) => {
      if (!rows) return rows;
      const index = rows.findIndex((p) => p.id === event.id);
      if (closed) return index < 0 ? rows : rows.filter((p) => p.id !== event.id);
      if (index < 0) return [positionFromEvent(event), ...rows];
      const next = [...rows];
      next[index] = positionFromEvent(event, rows[index]);
      return next;
    });
    // Unrealised P&L, swap, commission and the opening time come with the REST rows.
    this.refetch(queryKeys.positions(event.account));
  }

  private onAccount(event: AccountEvent): void {
    const { type: _kind, ...fields } = event;
    this.queryClient.setQueryData<TradingAccount[]>(queryKeys.accounts, (rows) => {
      if (!rows) return rows;
      return rows.map((account) => (account.id === event.id ? { ...account, ...fields } : account));
    });
    // Equity, free margin and margin level are derived from the balance.
    this.refetch(queryKeys.accounts);
  }
}
