import { useEffect, useMemo, useRef, useState, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError, isApiError } from "../../api/client";
import { placeOrder } from "../../api/endpoints";
import { queryKeys, useOrderHistory } from "../../api/queries";
import type { Instrument, Order, OrderSide, PlaceOrderRequest, TradingAccount } from "../../api/types";
import { formatPips, spreadPips } from "../../live/quotes";
import type { QuoteRows } from "../../live/useQuoteRows";
import { formatLots, formatPrice } from "../../trading/format";
import { pointOf, priceToPips } from "../../trading/pips";
import {
  checkTicket,
  defaultTicket,
  ORDER_TYPES,
  OrderIdempotency,
  stepValue,
  ticketFingerprint,
  ticketVisibility,
  TIME_IN_FORCE,
  type PriceMode,
  type TicketField,
  type TicketForm,
} from "../../trading/ticket";
import { isoToZonedWallTime } from "../../trading/zonedTime";

/** Inputs that arrow keys step. */
type SteppedField = "quantity" | "price" | "stop_price" | "stop_loss" | "take_profit" | "trailing_stop";

const SYMBOL_STORAGE_KEY = "fx.trade.symbol";
/** Inputs in focus order: the first with an error gets the focus after a failed submit. */
const FOCUS_ORDER: TicketField[] = [
  "symbol",
  "side",
  "type",
  "quantity",
  "price",
  "stop_price",
  "stop_loss",
  "take_profit",
  "trailing_stop",
  "time_in_force",
  "expire_at",
];

function toApiError(error: unknown): ApiError {
  if (isApiError(error)) return error;
  return new ApiError({
    status: 0,
    code: "unexpected_error",
    message: error instanceof Error ? error.message : "Something went wrong.",
  });
}

function preferredSymbol(instruments: Instrument[], requested?: string | null): string {
  if (requested && instruments.some((i) => i.symbol === requested)) return requested;
  let stored: string | null = null;
  try {
    stored = window.localStorage.getItem(SYMBOL_STORAGE_KEY);
  } catch {
    /* storage unavailable */
  }
  const symbols = instruments.map((i) => i.symbol);
  if (stored && symbols.includes(stored)) return stored;
  if (symbols.includes("EURUSD")) return "EURUSD";
  return symbols[0] ?? "";
}

interface Props {
  account: TradingAccount | null;
  instruments: Instrument[];
  quotes: QuoteRows;
  timeZone: string | undefined;
  /** Whether /ws/trading/ is connected (the result line follows the order's events). */
  live: boolean;
  /** A symbol asked for in the URL (`/trade?symbol=GBPUSD`): the ticket switches to it once. */
  requestedSymbol?: string | null;
}

/**
 * The order ticket: symbol, side with live bid/ask, type, lots, entry prices
 * as the type needs them, SL/TP in price or pips, trailing stop, time in
 * force. Enter submits; a double click or a retry places one order.
 */
export function OrderTicket({ account, instruments, quotes, timeZone, live, requestedSymbol = null }: Props) {
  const queryClient = useQueryClient();
  const bySymbol = useMemo(() => new Map(instruments.map((i) => [i.symbol, i])), [instruments]);
  const [form, setForm] = useState<TicketForm>(() => defaultTicket(""));
  const instrument = bySymbol.get(form.symbol);
  const quote = quotes[form.symbol];
  const accountId = account?.id ?? null;

  // Pick a symbol once the instruments are known (or when ours was disabled).
  useEffect(() => {
    if (!instruments.length || bySymbol.has(form.symbol)) return;
    const symbol = preferredSymbol(instruments, requestedSymbol);
    setForm((f) => ({ ...defaultTicket(symbol, bySymbol.get(symbol)), side: f.side }));
  }, [instruments, bySymbol, form.symbol, requestedSymbol]);

  const [attempted, setAttempted] = useState(false);
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [serverFields, setServerFields] = useState<Record<string, string[]>>({});
  const [placedOrder, setPlacedOrder] = useState<Order | null>(null);
  const idempotency = useRef(new OrderIdempotency());
  const inFlight = useRef(false);
  const formRef = useRef<HTMLFormElement>(null);

  const mutation = useMutation({ mutationFn: (body: PlaceOrderRequest) => placeOrder(body) });
  const pending = mutation.isPending;

  const history = useOrderHistory(accountId, { live });
  const lastOrder = placedOrder
    ? (history.data?.find((o) => o.id === placedOrder.id) ?? placedOrder)
    : null;

  const check = checkTicket(form, { account: accountId, instrument, quote, timeZone, now: Date.now() });
  const visible = ticketVisibility(form);

  function update<K extends keyof TicketForm>(key: K, value: TicketForm[K]) {
    setForm((f) => ({ ...f, [key]: value }));
    const field = key === "sl_mode" ? "stop_loss" : key === "tp_mode" ? "take_profit" : key === "trailing_mode" ? "trailing_stop" : key;
    setServerFields((fields) => {
      if (!(field in fields)) return fields;
      const next = { ...fields };
      delete next[field];
      return next;
    });
  }

  function changeSymbol(symbol: string) {
    try {
      window.localStorage.setItem(SYMBOL_STORAGE_KEY, symbol);
    } catch {
      /* storage unavailable */
    }
    const next = bySymbol.get(symbol);
    setForm((f) => {
      // Prices of another instrument mean nothing here; pips and lots carry over when valid.
      const fresh = defaultTicket(symbol, next);
      return {
        ...f,
        symbol,
        quantity: f.quantity || fresh.quantity,
        price: "",
        stop_price: "",
        stop_loss: f.sl_mode === "pips" ? f.stop_loss : "",
        take_profit: f.tp_mode === "pips" ? f.take_profit : "",
        trailing_stop: f.trailing_mode === "pips" ? f.trailing_stop : "",
      };
    });
    setServerFields({});
  }

  // A symbol asked for in the URL after the ticket was set up (the initial pick above takes it otherwise).
  const appliedRequest = useRef<string | null>(null);
  useEffect(() => {
    if (!requestedSymbol || appliedRequest.current === requestedSymbol || !bySymbol.has(requestedSymbol)) return;
    appliedRequest.current = requestedSymbol;
    if (form.symbol && form.symbol !== requestedSymbol) changeSymbol(requestedSymbol);
    // changeSymbol reads only stable state setters and `bySymbol`.
  }, [requestedSymbol, bySymbol, form.symbol]);

  function changeTif(value: TicketForm["time_in_force"]) {
    update("time_in_force", value);
    if (value === "GTD" && !form.expire_at) {
      update("expire_at", isoToZonedWallTime(Date.now() + 24 * 3600_000, timeZone));
    }
  }

  const focusField = (field: TicketField) => {
    const target = formRef.current?.querySelector<HTMLElement>(`[data-field="${field}"]`);
    target?.focus();
  };

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (inFlight.current || !account) return;
    setAttempted(true);
    const fresh = checkTicket(form, { account: account.id, instrument, quote, timeZone, now: Date.now() });
    if (!fresh.order) {
      const first = FOCUS_ORDER.find((f) => fresh.errors[f]?.length);
      if (first) focusField(first);
      return;
    }
    // The same ticket keeps its id until the server has answered with the order.
    const clientOrderId = idempotency.current.idFor(ticketFingerprint(account.id, form));
    inFlight.current = true;
    setServerError(null);
    setServerFields({});
    mutation.mutate(
      { ...fresh.order, client_order_id: clientOrderId },
      {
        onSuccess: (order) => {
          idempotency.current.placed();
          setPlacedOrder(order);
          setAttempted(false);
          // The socket's events normally get there first; this covers a disconnected socket.
          void queryClient.invalidateQueries({ queryKey: queryKeys.orders(order.account) });
        },
        onError: (error) => {
          const apiError = toApiError(error);
          setServerError(apiError);
          setServerFields(apiError.fields);
          const first = FOCUS_ORDER.find((f) => apiError.fieldErrors(f).length);
          if (first) focusField(first);
        },
        onSettled: () => {
          inFlight.current = false;
        },
      },
    );
  }

  const errorsFor = (field: TicketField): string[] => [
    ...(attempted ? (check.errors[field] ?? []) : []),
    ...(serverFields[field] ?? []),
  ];
  // Server messages for fields without an input of their own.
  const otherServerMessages = Object.entries(serverFields)
    .filter(([name]) => !FOCUS_ORDER.includes(name as TicketField))
    .flatMap(([name, messages]) => messages.map((m) => (name === "non_field_errors" ? m : `${name}: ${m}`)));
  const accountErrors = attempted ? (check.errors.account ?? []) : [];

  const digits = instrument?.digits ?? 5;
  const point = instrument ? pointOf(instrument) : "0.00001";
  const pip = instrument?.pip_size ?? "0.0001";
  const lotStep = instrument?.lot_step ?? "0.01";

  /** Arrow up/down step a numeric input. */
  const stepper =
    (key: SteppedField, step: string, min?: string, max?: string) => (event: KeyboardEvent<HTMLInputElement>) => {
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") return;
      event.preventDefault();
      const direction = event.key === "ArrowUp" ? 1 : -1;
      let value = form[key];
      if (!value && (key === "price" || key === "stop_price")) {
        value = (form.side === "sell" ? quote?.bid : quote?.ask) ?? "";
        if (value) {
          update(key, formatPrice(value, digits));
          return;
        }
      }
      update(key, stepValue(value, step, direction, min, max));
    };

  const sideLabel = form.side === "buy" ? "Buy" : form.side === "sell" ? "Sell" : null;
  const submitLabel = pending
    ? "Placing…"
    : sideLabel
      ? `${sideLabel} ${form.quantity || "?"} ${form.symbol} ${
          form.type === "market" ? "at market" : `${ORDER_TYPES.find((t) => t.value === form.type)?.label.toLowerCase()}`
        }`
      : "Choose buy or sell";

  return (
    <section className="card ticket" data-testid="order-ticket" aria-labelledby="ticket-title">
      <header className="card-header">
        <h2 id="ticket-title">Order ticket</h2>
        {account && <span className="card-meta">{account.name}</span>}
      </header>
      <form
        ref={formRef}
        className="ticket-form"
        onSubmit={onSubmit}
        onKeyDown={(event) => {
          // Browsers submit on Enter from text inputs only; selects (symbol, type, TIF, modes) too.
          if (event.key === "Enter" && event.target instanceof HTMLSelectElement) {
            event.preventDefault();
            formRef.current?.requestSubmit();
          }
        }}
        noValidate
        aria-describedby="ticket-help"
      >
        {(serverError || accountErrors.length > 0) && (
          <div className="alert alert-error compact-inline" role="alert" data-testid="ticket-error" data-code={serverError?.code}>
            {serverError && (
              <div>
                {serverError.message}
                {serverError.isNetworkError && " The same order id will be reused when you retry."}
              </div>
            )}
            {[...accountErrors, ...otherServerMessages].map((message, i) => (
              <div key={i} className="alert-detail">
                {message}
              </div>
            ))}
          </div>
        )}

        <Field id="ticket-symbol" label="Symbol" errors={errorsFor("symbol")}>
          <select
            id="ticket-symbol"
            className="input"
            data-field="symbol"
            data-testid="ticket-symbol"
            value={form.symbol}
            onChange={(e) => changeSymbol(e.target.value)}
          >
            {!instrument && <option value="">—</option>}
            {instruments.map((i) => (
              <option key={i.symbol} value={i.symbol}>
                {i.symbol}
              </option>
            ))}
          </select>
        </Field>

        <div className="side-buttons" role="group" aria-label="Side">
          <SideButton
            side="sell"
            price={quote?.bid ?? null}
            digits={digits}
            selected={form.side === "sell"}
            invalid={errorsFor("side").length > 0}
            onSelect={(s) => update("side", s)}
          />
          <span className="side-spread num muted" title="Spread in pips" data-testid="ticket-spread">
            {formatPips(spreadPips(quote?.bid, quote?.ask, pip))}
          </span>
          <SideButton
            side="buy"
            price={quote?.ask ?? null}
            digits={digits}
            selected={form.side === "buy"}
            invalid={errorsFor("side").length > 0}
            onSelect={(s) => update("side", s)}
          />
        </div>
        <FieldErrors id="ticket-side-error" errors={errorsFor("side")} testId="ticket-side-error" />

        <div className="field-row">
          <Field id="ticket-type" label="Type" errors={errorsFor("type")}>
            <select
              id="ticket-type"
              className="input"
              data-field="type"
              data-testid="ticket-type"
              value={form.type}
              onChange={(e) => update("type", e.target.value as TicketForm["type"])}
            >
              {ORDER_TYPES.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          </Field>
          <Field id="ticket-quantity" label="Lots" errors={errorsFor("quantity")} hint={instrument ? `step ${formatLots(lotStep, 2)}` : undefined}>
            <input
              id="ticket-quantity"
              className="input num"
              data-field="quantity"
              data-testid="ticket-quantity"
              inputMode="decimal"
              autoComplete="off"
              value={form.quantity}
              onChange={(e) => update("quantity", e.target.value)}
              onKeyDown={stepper("quantity", lotStep, instrument?.lot_min, instrument?.lot_max)}
              aria-invalid={errorsFor("quantity").length > 0 || undefined}
              aria-describedby={errorsFor("quantity").length ? "ticket-quantity-error" : undefined}
            />
          </Field>
        </div>

        {(visible.price || visible.stop_price) && (
          <div className="field-row">
            {visible.stop_price && (
              <Field id="ticket-stop-price" label="Stop price" errors={errorsFor("stop_price")}>
                <input
                  id="ticket-stop-price"
                  className="input num"
                  data-field="stop_price"
                  data-testid="ticket-stop-price"
                  inputMode="decimal"
                  autoComplete="off"
                  placeholder={formatPrice(form.side === "sell" ? quote?.bid : quote?.ask, digits)}
                  value={form.stop_price}
                  onChange={(e) => update("stop_price", e.target.value)}
                  onKeyDown={stepper("stop_price", point)}
                  aria-invalid={errorsFor("stop_price").length > 0 || undefined}
                  aria-describedby={errorsFor("stop_price").length ? "ticket-stop-price-error" : undefined}
                />
              </Field>
            )}
            {visible.price && (
              <Field id="ticket-price" label={form.type === "stop_limit" ? "Limit price" : "Price"} errors={errorsFor("price")}>
                <input
                  id="ticket-price"
                  className="input num"
                  data-field="price"
                  data-testid="ticket-price"
                  inputMode="decimal"
                  autoComplete="off"
                  placeholder={formatPrice(form.side === "sell" ? quote?.bid : quote?.ask, digits)}
                  value={form.price}
                  onChange={(e) => update("price", e.target.value)}
                  onKeyDown={stepper("price", point)}
                  aria-invalid={errorsFor("price").length > 0 || undefined}
                  aria-describedby={errorsFor("price").length ? "ticket-price-error" : undefined}
                />
              </Field>
            )}
          </div>
        )}

        <div className="field-row">
          <ProtectionField
            field="stop_loss"
            label="Stop-loss"
            testId="ticket-sl"
            value={form.stop_loss}
            mode={form.sl_mode}
            onValue={(v) => update("stop_loss", v)}
            onMode={(m) => update("sl_mode", m)}
            errors={errorsFor("stop_loss")}
            preview={previewFor(form.sl_mode, check.resolved.stop_loss, check.reference, form.stop_loss, pip, digits)}
            onKeyDown={stepper("stop_loss", form.sl_mode === "pips" ? "1" : point)}
          />
          <ProtectionField
            field="take_profit"
            label="Take-profit"
            testId="ticket-tp"
            value={form.take_profit}
            mode={form.tp_mode}
            onValue={(v) => update("take_profit", v)}
            onMode={(m) => update("tp_mode", m)}
            errors={errorsFor("take_profit")}
            preview={previewFor(form.tp_mode, check.resolved.take_profit, check.reference, form.take_profit, pip, digits)}
            onKeyDown={stepper("take_profit", form.tp_mode === "pips" ? "1" : point)}
          />
        </div>

        <div className="field-row">
          <ProtectionField
            field="trailing_stop"
            label="Trailing stop"
            testId="ticket-trailing"
            value={form.trailing_stop}
            mode={form.trailing_mode}
            onValue={(v) => update("trailing_stop", v)}
            onMode={(m) => update("trailing_mode", m)}
            errors={errorsFor("trailing_stop")}
            preview={
              form.trailing_mode === "pips" && check.resolved.trailing_stop ? `= ${check.resolved.trailing_stop}` : null
            }
            onKeyDown={stepper("trailing_stop", form.trailing_mode === "pips" ? "1" : point)}
            distance
          />
          <Field id="ticket-tif" label="Time in force" errors={errorsFor("time_in_force")}>
            <select
              id="ticket-tif"
              className="input"
              data-field="time_in_force"
              data-testid="ticket-tif"
              value={form.time_in_force}
              onChange={(e) => changeTif(e.target.value as TicketForm["time_in_force"])}
            >
              {TIME_IN_FORCE.map((t) => (
                <option key={t.value} value={t.value} title={t.label}>
                  {t.value}
                </option>
              ))}
            </select>
          </Field>
        </div>

        {visible.expire_at && (
          <Field id="ticket-expire-at" label={`Expire at (${timeZone ?? "local time"})`} errors={errorsFor("expire_at")}>
            <input
              id="ticket-expire-at"
              type="datetime-local"
              className="input num"
              data-field="expire_at"
              data-testid="ticket-expire-at"
              value={form.expire_at}
              onChange={(e) => update("expire_at", e.target.value)}
              aria-invalid={errorsFor("expire_at").length > 0 || undefined}
              aria-describedby={errorsFor("expire_at").length ? "ticket-expire-at-error" : undefined}
            />
          </Field>
        )}

        <button
          type="submit"
          className={`btn btn-block ticket-submit ${form.side === "sell" ? "btn-sell" : form.side === "buy" ? "btn-buy" : ""}`}
          disabled={pending || !account}
          aria-busy={pending || undefined}
          data-testid="ticket-submit"
        >
          {submitLabel}
        </button>
        <p id="ticket-help" className="muted small ticket-help">
          Enter places the order · ↑/↓ step lots and prices
        </p>

        {lastOrder && <OrderResult order={lastOrder} digits={digits} />}
      </form>
    </section>
  );
}

function previewFor(
  mode: PriceMode,
  resolved: string | null,
  reference: string | null,
  typed: string,
  pipSize: string,
  digits: number,
): string | null {
  if (mode === "pips") return resolved ? `→ ${formatPrice(resolved, digits)}` : null;
  if (!reference || !typed.trim()) return null;
  const pips = priceToPips(reference, typed, pipSize);
  return pips === null ? null : `${Math.abs(pips).toFixed(1)} pips`;
}

function SideButton({
  side,
  price,
  digits,
  selected,
  invalid,
  onSelect,
}: {
  side: OrderSide;
  price: string | null;
  digits: number;
  selected: boolean;
  invalid: boolean;
  onSelect: (side: OrderSide) => void;
}) {
  return (
    <button
      type="button"
      className={`side-button side-${side}${selected ? " selected" : ""}`}
      aria-pressed={selected}
      aria-describedby={invalid ? "ticket-side-error" : undefined}
      title={side === "buy" ? "Buy at the ask" : "Sell at the bid"}
      data-field={side === "sell" ? "side" : undefined}
      data-testid={`ticket-side-${side}`}
      onClick={() => onSelect(side)}
    >
      <span className="side-name">{side === "buy" ? "Buy" : "Sell"}</span>
      <span className="side-price num" data-testid={side === "buy" ? "ticket-ask" : "ticket-bid"}>
        {formatPrice(price, digits)}
      </span>
    </button>
  );
}

function Field({
  id,
  label,
  errors,
  hint,
  children,
}: {
  id: string;
  label: string;
  errors: string[];
  hint?: string;
  children: ReactNode;
}) {
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
        {hint && <span className="field-hint"> {hint}</span>}
      </label>
      {children}
      <FieldErrors id={`${id}-error`} errors={errors} testId={`${id}-error`} />
    </div>
  );
}

function FieldErrors({ id, errors, testId }: { id: string; errors: string[]; testId: string }) {
  if (!errors.length) return null;
  return (
    <span className="field-error" id={id} data-testid={testId}>
      {errors.join(" ")}
    </span>
  );
}

function ProtectionField({
  field,
  label,
  testId,
  value,
  mode,
  onValue,
  onMode,
  errors,
  preview,
  onKeyDown,
  distance = false,
}: {
  field: TicketField;
  label: string;
  testId: string;
  value: string;
  mode: PriceMode;
  onValue: (value: string) => void;
  onMode: (mode: PriceMode) => void;
  errors: string[];
  preview: string | null;
  onKeyDown: (event: KeyboardEvent<HTMLInputElement>) => void;
  distance?: boolean;
}) {
  const id = `ticket-${field.replace(/_/g, "-")}`;
  return (
    <div className="field">
      <label className="field-label" htmlFor={id}>
        {label}
        {preview && (
          <span className="field-hint num" data-testid={`${testId}-preview`}>
            {" "}
            {preview}
          </span>
        )}
      </label>
      <div className="input-group">
        <input
          id={id}
          className="input num"
          data-field={field}
          data-testid={testId}
          inputMode="decimal"
          autoComplete="off"
          placeholder={mode === "pips" ? "pips" : distance ? "distance" : "price"}
          value={value}
          onChange={(e) => onValue(e.target.value)}
          onKeyDown={onKeyDown}
          aria-invalid={errors.length > 0 || undefined}
          aria-describedby={errors.length ? `${id}-error` : undefined}
        />
        <select
          className="input input-mode"
          aria-label={`${label} in`}
          data-testid={`${testId}-mode`}
          value={mode}
          onChange={(e) => onMode(e.target.value as PriceMode)}
        >
          <option value="price">price</option>
          <option value="pips">pips</option>
        </select>
      </div>
      <FieldErrors id={`${id}-error`} errors={errors} testId={`${id}-error`} />
    </div>
  );
}

const STATUS_TEXT: Record<string, string> = {
  new: "sent",
  accepted: "working",
  partially_filled: "partially filled",
  filled: "filled",
  cancelled: "cancelled",
  rejected: "rejected",
  expired: "expired",
};

/** The last order placed from this ticket, following its events (rejections included). */
function OrderResult({ order, digits }: { order: Order; digits: number }) {
  const rejected = order.status === "rejected";
  const fill =
    order.average_fill_price && Number(order.filled_quantity) > 0
      ? ` @ ${formatPrice(order.average_fill_price, digits)}`
      : "";
  return (
    <div
      className={rejected ? "alert alert-error compact-inline ticket-result" : "notice ticket-result"}
      role={rejected ? "alert" : "status"}
      aria-live="polite"
      data-testid="ticket-result"
      data-status={order.status}
      data-order={order.id}
    >
      <div>
        Order #{order.id} {order.side} {formatLots(order.quantity)} {order.symbol}:{" "}
        <strong>{STATUS_TEXT[order.status] ?? order.status}</strong>
        {order.status === "filled" || order.status === "partially_filled"
          ? ` ${formatLots(order.filled_quantity)}${fill}`
          : ""}
      </div>
      {rejected && (
        <div className="alert-detail" data-testid="ticket-reject">
          {order.reject_code && <code>{order.reject_code}</code>} {order.reject_reason}
        </div>
      )}
    </div>
  );
}
