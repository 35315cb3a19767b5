/**
 * The order ticket's rules, without React: which fields an order type needs,
 * client-side validation (the same rules the server applies in
 * `order_validate`, so most mistakes never make a round trip), pips → prices,
 * and the idempotency key that makes a double click place one order.
 */
import type { Instrument, OrderSide, OrderType, PlaceOrderRequest, TimeInForce } from "../api/types";
import { compare, isMultipleOf, parseDecimal, rescale, sign, toFixed, toPlain, type Dec } from "./decimal";
import type { LiveQuote } from "./pnl";
import { pipsToDistance, pipsToPrice, pointOf } from "./pips";
import { zonedWallTimeToIso } from "./zonedTime";

export type PriceMode = "price" | "pips";

/** What the trader typed. Keys match the API's field names so server errors land next to them. */
export interface TicketForm {
  symbol: string;
  side: OrderSide | null;
  type: OrderType;
  /** Lots. */
  quantity: string;
  price: string;
  stop_price: string;
  stop_loss: string;
  sl_mode: PriceMode;
  take_profit: string;
  tp_mode: PriceMode;
  /** A distance (price units or pips), not a price. */
  trailing_stop: string;
  trailing_mode: PriceMode;
  time_in_force: TimeInForce;
  /** "YYYY-MM-DDTHH:mm" in the user's time zone (GTD only). */
  expire_at: string;
}

export const TICKET_FIELDS = [
  "account",
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
] as const;
export type TicketField = (typeof TICKET_FIELDS)[number];
export type TicketErrors = Partial<Record<TicketField, string[]>>;

export const ORDER_TYPES: readonly { value: OrderType; label: string }[] = [
  { value: "market", label: "Market" },
  { value: "limit", label: "Limit" },
  { value: "stop", label: "Stop" },
  { value: "stop_limit", label: "Stop limit" },
];

export const TIME_IN_FORCE: readonly { value: TimeInForce; label: string }[] = [
  { value: "GTC", label: "GTC — good till cancelled" },
  { value: "GTD", label: "GTD — good till date" },
  { value: "IOC", label: "IOC — immediate or cancel" },
  { value: "FOK", label: "FOK — fill or kill" },
];

export const needsPrice = (type: OrderType) => type === "limit" || type === "stop_limit";
export const needsStopPrice = (type: OrderType) => type === "stop" || type === "stop_limit";

/** Which optional inputs the ticket shows. */
export function ticketVisibility(form: Pick<TicketForm, "type" | "time_in_force">): {
  price: boolean;
  stop_price: boolean;
  expire_at: boolean;
} {
  return {
    price: needsPrice(form.type),
    stop_price: needsStopPrice(form.type),
    expire_at: form.time_in_force === "GTD",
  };
}

export function defaultTicket(symbol: string, instrument?: Pick<Instrument, "lot_min">): TicketForm {
  const lotMin = parseDecimal(instrument?.lot_min);
  return {
    symbol,
    side: null,
    type: "market",
    quantity: lotMin ? toFixed(lotMin, lotPlacesOf(lotMin)) : "0.01",
    price: "",
    stop_price: "",
    stop_loss: "",
    sl_mode: "price",
    take_profit: "",
    tp_mode: "price",
    trailing_stop: "",
    trailing_mode: "pips",
    time_in_force: "GTC",
    expire_at: "",
  };
}

function lotPlacesOf(d: Dec): number {
  return Math.max(2, toPlain(d).split(".")[1]?.length ?? 0);
}

export interface TicketContext {
  account: number | null;
  instrument: Instrument | undefined;
  /** Live bid/ask of the ticket's symbol. */
  quote: LiveQuote | undefined;
  /** The user's profile time zone (GTD expiry is typed in it). */
  timeZone: string | undefined;
  now: number;
}

export interface TicketCheck {
  errors: TicketErrors;
  /** The order to send when there are no errors (its client_order_id is added on submit). */
  order: Omit<PlaceOrderRequest, "client_order_id"> | null;
  /** What SL/TP are measured from: the limit price, the stop price, or the live price for market orders. */
  reference: string | null;
  /** SL / TP / trailing distance as they will be sent (pips converted), for previews. */
  resolved: { stop_loss: string | null; take_profit: string | null; trailing_stop: string | null };
}

const TYPE_LABEL: Record<OrderType, string> = { market: "market", limit: "limit", stop: "stop", stop_limit: "stop-limit" };

/** The entry reference: limit price, stop price, or the side's live price for a market order. */
export function entryReference(form: TicketForm, quote: LiveQuote | undefined): string | null {
  if (needsPrice(form.type)) return form.price.trim() || null;
  if (form.type === "stop") return form.stop_price.trim() || null;
  if (!form.side || !quote) return null;
  return (form.side === "buy" ? quote.ask : quote.bid) ?? null;
}

/** A positive price on the instrument's point grid, or an error message. */
function checkPrice(text: string, point: Dec, digits: number): string | null {
  const d = parseDecimal(text);
  if (!d || sign(d) <= 0) return "Enter a positive price.";
  if (!isMultipleOf(d, point)) return `Use at most ${digits} decimals.`;
  return null;
}

/** Validate the ticket and build the order. Pure: `ctx.now` is the clock. */
export function checkTicket(form: TicketForm, ctx: TicketContext): TicketCheck {
  const errors: TicketErrors = {};
  const push = (field: TicketField, message: string) => {
    (errors[field] ??= []).push(message);
  };
  const resolved: TicketCheck["resolved"] = { stop_loss: null, take_profit: null, trailing_stop: null };
  const { instrument } = ctx;

  if (ctx.account === null) push("account", "Choose an account.");
  if (!instrument) push("symbol", "Choose a symbol.");
  if (!form.side) push("side", "Choose buy or sell.");
  if (!instrument) return { errors, order: null, reference: null, resolved };

  const digits = instrument.digits;
  const point = parseDecimal(pointOf(instrument))!;

  // Quantity (lots).
  const quantity = parseDecimal(form.quantity);
  const lotMin = parseDecimal(instrument.lot_min);
  const lotMax = parseDecimal(instrument.lot_max);
  const lotStep = parseDecimal(instrument.lot_step);
  if (!form.quantity.trim()) push("quantity", "Enter the quantity in lots.");
  else if (!quantity || sign(quantity) <= 0) push("quantity", "Must be a positive number of lots.");
  else if ((lotMin && compare(quantity, lotMin) < 0) || (lotMax && compare(quantity, lotMax) > 0))
    push("quantity", `${instrument.symbol} trades ${instrument.lot_min ? toPlain(lotMin!) : "?"} to ${instrument.lot_max ? toPlain(lotMax!) : "?"} lots.`);
  else if (lotStep && sign(lotStep) > 0 && !isMultipleOf(quantity, lotStep))
    push("quantity", `Must be a multiple of ${toPlain(lotStep)} lots.`);

  // Entry prices the type needs.
  const visible = ticketVisibility(form);
  for (const [field, shown] of [
    ["price", visible.price],
    ["stop_price", visible.stop_price],
  ] as const) {
    if (!shown) continue;
    const text = form[field].trim();
    if (!text) push(field, `Required for ${TYPE_LABEL[form.type]} orders.`);
    else {
      const problem = checkPrice(text, point, digits);
      if (problem) push(field, problem);
    }
  }
  const rawReference = entryReference(form, ctx.quote);
  const reference =
    rawReference && !errors.price && !errors.stop_price && parseDecimal(rawReference) ? rawReference : null;
  const referenceName = form.type === "market" ? "the current price" : "the entry price";

  // Stop-loss and take-profit: below/above the entry depending on the side.
  const side = form.side;
  for (const [field, mode, belowForBuy] of [
    ["stop_loss", form.sl_mode, true],
    ["take_profit", form.tp_mode, false],
  ] as const) {
    const text = form[field].trim();
    if (!text) continue;
    const below = side === "buy" ? belowForBuy : !belowForBuy;
    let price: string | null = null;
    if (mode === "pips") {
      const pips = parseDecimal(text);
      if (!pips || sign(pips) <= 0) {
        push(field, "Enter a positive number of pips.");
        continue;
      }
      if (!side) continue;
      if (!reference) {
        push(field, form.type === "market" ? "No live price to measure pips from." : "Enter the entry price first.");
        continue;
      }
      price = pipsToPrice(reference, text, below ? -1 : 1, instrument.pip_size, digits);
      if (!price) {
        push(field, "Too many pips: the price would not be positive.");
        continue;
      }
    } else {
      const problem = checkPrice(text, point, digits);
      if (problem) {
        push(field, problem);
        continue;
      }
      price = text;
    }
    resolved[field] = price;
    if (side && reference) {
      const order = compare(parseDecimal(price)!, parseDecimal(reference)!);
      if (below && order >= 0) push(field, `Must be below ${referenceName} ${reference} for a ${side}.`);
      if (!below && order <= 0) push(field, `Must be above ${referenceName} ${reference} for a ${side}.`);
    }
  }

  // Trailing stop: a distance.
  const trailing = form.trailing_stop.trim();
  if (trailing) {
    if (form.trailing_mode === "pips") {
      const distance = pipsToDistance(trailing, instrument.pip_size, digits);
      if (!distance) push("trailing_stop", "Enter a positive number of pips.");
      else resolved.trailing_stop = distance;
    } else {
      const problem = checkPrice(trailing, point, digits);
      if (problem) push("trailing_stop", problem.replace("price", "distance"));
      else resolved.trailing_stop = trailing;
    }
  }

  // Time in force.
  let expireAt: string | null = null;
  if (visible.expire_at) {
    if (!form.expire_at.trim()) push("expire_at", "Required for GTD orders.");
    else {
      expireAt = zonedWallTimeToIso(form.expire_at, ctx.timeZone);
      if (!expireAt) push("expire_at", "Enter a date and time.");
      else if (Date.parse(expireAt) <= ctx.now) push("expire_at", "Must be in the future.");
    }
  }

  const valid = Object.keys(errors).length === 0;
  if (!valid || ctx.account === null || !side || !quantity) return { errors, order: null, reference, resolved };
  const order: Omit<PlaceOrderRequest, "client_order_id"> = {
    account: ctx.account,
    symbol: instrument.symbol,
    side,
    type: form.type,
    quantity: toPlain(quantity),
    time_in_force: form.time_in_force,
    source: "ui",
  };
  if (visible.price) order.price = form.price.trim();
  if (visible.stop_price) order.stop_price = form.stop_price.trim();
  if (resolved.stop_loss) order.stop_loss = resolved.stop_loss;
  if (resolved.take_profit) order.take_profit = resolved.take_profit;
  if (resolved.trailing_stop) order.trailing_stop = resolved.trailing_stop;
  if (expireAt) order.expire_at = expireAt;
  return { errors, order, reference, resolved };
}

/**
 * One more (or one less) `step` from `value`, kept on the step grid and
 * within [min, max]; an empty or invalid value starts at `min` (or `step`).
 */
export function stepValue(value: string, step: string, direction: 1 | -1, min?: string, max?: string): string {
  const s = parseDecimal(step);
  if (!s || sign(s) <= 0) return value;
  const lo = parseDecimal(min);
  const placesOf = (d: Dec | null) => (d ? (toPlain(d).split(".")[1]?.length ?? 0) : 0);
  const places = Math.max(placesOf(s), placesOf(lo));
  const hi = parseDecimal(max);
  const current = parseDecimal(value);
  let next: Dec;
  if (!current || sign(current) <= 0) next = lo ?? s;
  else {
    const scale = Math.max(current.scale, s.scale);
    const units = rescale(current, scale).units;
    const stepUnits = rescale(s, scale).units;
    const remainder = ((units % stepUnits) + stepUnits) % stepUnits;
    const floor = units - remainder;
    // On the grid: one step. Off the grid: to the grid line in the direction of travel.
    const target =
      remainder === 0n ? floor + BigInt(direction) * stepUnits : direction > 0 ? floor + stepUnits : floor;
    next = { units: target, scale };
  }
  if (lo && compare(next, lo) < 0) next = lo;
  if (hi && compare(next, hi) > 0) next = hi;
  return toFixed(next, places);
}

// ---------------------------------------------------------------------------
// Idempotency
// ---------------------------------------------------------------------------

/** "ui-" and 17 random hex digits: 20 characters, whole in a MetaTrader comment. */
export function newClientOrderId(): string {
  const bytes = new Uint8Array(9);
  crypto.getRandomValues(bytes);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `ui-${hex.slice(0, 17)}`;
}

/**
 * The `client_order_id` of the order being placed. The same ticket (same
 * fingerprint of what was typed) keeps the same id until the server has
 * answered with the order, so a retry after a lost answer, or a second click,
 * can never place a second order: the server returns the first one.
 */
export class OrderIdempotency {
  private current: { fingerprint: string; id: string } | null = null;
  private readonly generate: () => string;

  constructor(generate: () => string = newClientOrderId) {
    this.generate = generate;
  }

  idFor(fingerprint: string): string {
    if (!this.current || this.current.fingerprint !== fingerprint) {
      this.current = { fingerprint, id: this.generate() };
    }
    return this.current.id;
  }

  /** The server placed (or returned) the order: the next submit is a new order. */
  placed(): void {
    this.current = null;
  }
}

/** What identifies "the same order" for retries: the account and everything typed. */
export function ticketFingerprint(account: number | null, form: TicketForm): string {
  return JSON.stringify([account, form]);
}
