/**
 * `/ws/trading/` → the risk page's TanStack Query caches.
 *
 * A `risk` message is put at the top of the cached event list at once (the
 * push carries no time: it is stamped with its arrival until the refetch
 * brings the server's row), then everything of the risk page is refetched:
 * a breach, a kill switch or a change of limits or state moves the state,
 * the limits and the usage. An account summary push refetches that
 * account's status (equity moves usage). At most one refetch per key every
 * `delayMs`, after the last event; after a (re)connect everything is
 * refetched, as events sent while the socket was down are not replayed.
 */
import type { QueryClient, QueryKey } from "@tanstack/react-query";
import { RISK_LIST_PAGE_SIZE } from "../api/endpoints";
import { queryKeys } from "../api/queries";
import type { RiskEvent, RiskPushEvent, TradingEvent } from "../api/types";

export const RISK_INVALIDATE_DELAY_MS = 300;

export function isRiskPush(event: TradingEvent): event is TradingEvent & RiskPushEvent {
  return event.type === "risk" && typeof (event as { id?: unknown }).id === "number";
}

/** The list row of a pushed event, stamped `receivedAt` (ISO). */
export function riskEventFromPush(event: RiskPushEvent, receivedAt: string): RiskEvent {
  return {
    id: event.id,
    time: receivedAt,
    account: typeof event.account === "number" ? event.account : null,
    kind: event.kind,
    code: event.code ?? "",
    message: event.message ?? "",
    actor: "",
    data: event.data ?? {},
  };
}

/** `rows` with `event` on top (or in place of the row with its id), newest first. */
export function insertRiskEvent(rows: readonly RiskEvent[], event: RiskEvent): RiskEvent[] {
  if (rows.some((r) => r.id === event.id)) return [...rows];
  return [event, ...rows].slice(0, RISK_LIST_PAGE_SIZE);
}

export class RiskCacheSync {
  private readonly queryClient: QueryClient;
  private readonly delayMs: number;
  private readonly now: () => number;
  private readonly pending = new Map<string, QueryKey>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(queryClient: QueryClient, options: { delayMs?: number; now?: () => number } = {}) {
    this.queryClient = queryClient;
    this.delayMs = options.delayMs ?? RISK_INVALIDATE_DELAY_MS;
    this.now = options.now ?? Date.now;
  }

  /** Apply the events of one server message. */
  apply(events: readonly TradingEvent[]): void {
    for (const event of events) {
      if (isRiskPush(event)) this.onRisk(event);
      else if (event.type === "account" && typeof (event as { id?: unknown }).id === "number") {
        this.refetch(queryKeys.riskStatus((event as { id: number }).id));
      }
    }
  }

  /** After (re)connecting: refetch everything the socket may have missed. */
  resync(): void {
    this.refetch(queryKeys.risk);
    this.flush();
  }

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

  private refetch(queryKey: QueryKey): void {
    this.pending.set(JSON.stringify(queryKey), queryKey);
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  private onRisk(event: RiskPushEvent): void {
    const row = riskEventFromPush(event, new Date(this.now()).toISOString());
    // An account's event goes to its list; a platform-wide one to every account's.
    const queryKey = row.account === null ? ["risk", "events"] : queryKeys.riskEvents(row.account);
    this.queryClient.setQueriesData<RiskEvent[]>({ queryKey }, (rows) => (rows ? insertRiskEvent(rows, row) : rows));
    this.refetch(queryKeys.risk);
  }
}
