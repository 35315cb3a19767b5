"""Writes of the risk domain: the pre-trade check, trading states, the kill
switch, the account monitor (breaches, stop-out) and changes of limits.

Locking (how two orders racing on one account cannot together breach a limit)

- ``pre_trade_check`` runs inside the caller's transaction while the caller
  holds the account's row lock (``TradingAccount`` ``select_for_update``),
  and the order it approves is inserted in that same transaction. Orders of
  one account are therefore checked one at a time, and each check sees every
  order accepted before it: filled (in the positions) or working (in the
  working orders, which count as if filled in the direction that adds to
  risk). The check itself takes no lock and writes nothing.
- Every writer of an account's risk state locks the account row first, then
  its ``AccountRisk`` row (state changes, kill switch, monitor). An order
  either committed before a halt (and is cancelled by it) or is checked
  after the halt committed (and is refused).
- A platform-wide halt commits the platform state first, then visits every
  account under its lock to cancel (and flatten), so no order slips between.
- Lock order everywhere: account → account risk row → orders. The platform
  row is written in a transaction of its own.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import NoReturn
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from apps.accounts.roles import PERM_OPERATE
from apps.marketdata import live
from apps.risk import analytics, selectors
from apps.risk.analytics import Holding
from apps.risk.errors import InvalidRiskRequest, RiskPermissionDenied, RiskRejected
from apps.risk.models import (
    SEVERITY,
    AccountRisk,
    BreachAction,
    PlatformRisk,
    RiskEvent,
    TradingState,
    TradingStateChange,
)
from apps.trading import events
from apps.trading.accounting import ConversionError, Quote
from apps.trading.errors import InvalidOrder, InvalidTransition
from apps.trading.models import Order, Position, TradingAccount
from apps.trading.selectors import LiveQuotes, live_quotes, spec_of

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
WORKING = selectors.WORKING
# What a breach found by the monitor does, strictest last.
ACTION_STATE = {
    BreachAction.ALERT: None,
    BreachAction.REDUCE: TradingState.REDUCING,
    BreachAction.HALT: TradingState.HALTED,
    BreachAction.FLATTEN: TradingState.HALTED,
}
ACTION_RANK = {
    BreachAction.ALERT: 0,
    BreachAction.REDUCE: 1,
    BreachAction.HALT: 2,
    BreachAction.FLATTEN: 3,
}


def _actor(actor) -> tuple[str, object | None]:
    """``(label, user)`` of whoever acts: a user, or a label such as ``monitor``."""
    if actor is None:
        return "system", None
    if isinstance(actor, str):
        return actor, None
    return f"user:{actor.username}", actor


def _lots(value: Decimal) -> str:
    return f"{value:+.2f}"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _reject(code: str, message: str, **extra) -> NoReturn:
    raise RiskRejected(
        message,
        code=code,
        extra={k: (None if v is None else str(v)) for k, v in extra.items()},
    )


# --- pre-trade check ---------------------------------------------------------


def _reduces(book: selectors.Book, symbol: str, side: str, quantity: Decimal) -> bool:
    """Whether an order only reduces the account's net position in ``symbol``
    (netting accounts), counting working orders on the same side that also
    reduce it: the position never grows nor flips."""
    if not book.netting:
        return False
    net = book.net(symbol)
    if net == 0 or (net > 0) == (side == Order.Side.BUY):
        return False
    same_side = (
        book.working_sells.get(symbol, ZERO)
        if side == Order.Side.SELL
        else book.working_buys.get(symbol, ZERO)
    ) + book.closing.get((symbol, side), ZERO)
    return same_side + quantity <= abs(net)


def pre_trade_check(
    *,
    account: TradingAccount,
    instrument,
    side: str,
    quantity: Decimal,
    order_type: str,
    price: Decimal | None = None,
    reduces_position: bool | None = None,
    now: datetime | None = None,
) -> None:
    """Accept or refuse (``RiskRejected`` with a ``RISK_*`` code) a new order.

    Call it inside the transaction that inserts the order, after locking the
    account row (see the module docstring). ``reduces_position``: ``True``
    for an order against an existing position (a position close, a bracket's
    stop-loss or take-profit): it never adds risk and is always accepted, in
    any state. ``None``: inferred on netting accounts (an order that only
    reduces the net position). ``False``: the order opens risk.

    Order of the checks: state (halted, reducing), instrument, hours, order
    size, open orders, order rate; then, for orders that add risk: position,
    daily loss, drawdown, exposure, leverage, margin. Working orders count as
    if filled in the direction that adds to risk; exposure, leverage and
    margin are valued at the live quotes (the order's price when its
    instrument has none)."""
    if reduces_position:
        return
    now = now or timezone.now()
    snap = selectors.snapshot(account, now)
    evaluate(
        account=account,
        snap=snap,
        quotes=LiveQuotes(snap.symbols),
        instrument=instrument,
        side=side,
        quantity=quantity,
        order_type=order_type,
        price=price,
        reduces_position=reduces_position,
        now=now,
    )


def evaluate(
    *,
    account: TradingAccount,
    snap: selectors.Snapshot,
    quotes: Mapping[str, Quote],
    instrument,
    side: str,
    quantity: Decimal,
    order_type: str,
    price: Decimal | None = None,
    reduces_position: bool | None = None,
    now: datetime,
) -> None:
    """The checks of ``pre_trade_check`` on what it read: the account's
    ``snapshot`` and the live ``quotes`` (read only when a limit needs a
    valuation). No I/O of its own."""
    risk, platform, book = snap.risk, snap.platform, snap.book
    limits = selectors.limits_for(risk, platform)
    state, scope = selectors.effective_state(risk, platform)
    symbol = instrument.symbol
    buy = side == Order.Side.BUY
    signed = quantity if buy else -quantity
    what = f"this {side} of {quantity} {symbol}"
    reducing = reduces_position is None and _reduces(book, symbol, side, quantity)
    net = book.net(symbol)
    working = book.working_buys.get(symbol, ZERO) if buy else -book.working_sells.get(symbol, ZERO)
    after = net + working + signed

    if state != TradingState.ACTIVE:
        owner = "the platform" if scope == "platform" else f"account {account.name}"
        reason = (platform if scope == "platform" else risk).state_reason or "no reason given"
        if state == TradingState.HALTED:
            _reject(
                RiskRejected.HALTED,
                f"Trading is halted on {owner} ({reason}); only closing positions is possible.",
                state=state,
                scope=scope,
            )
        if not reducing:
            _reject(
                RiskRejected.REDUCING,
                f"Trading on {owner} is reducing only ({reason}): {what} would take the "
                f"{symbol} position from {_lots(net)} to {_lots(after)} lots.",
                state=state,
                scope=scope,
                position=net,
                after=after,
            )
    if not reducing:
        if limits.allowed_symbols is not None and symbol not in limits.allowed_symbols:
            _reject(
                RiskRejected.INSTRUMENT,
                f"{symbol} is not among the instruments allowed on this account "
                f"({', '.join(limits.allowed_symbols) or 'none'}).",
                limit="allowed_symbols",
                value=symbol,
            )
        if limits.hours_start is not None and not analytics.within_hours(
            now, limits.hours_start, limits.hours_end, limits.hours_timezone
        ):
            local = now.astimezone(ZoneInfo(limits.hours_timezone))
            _reject(
                RiskRejected.HOURS,
                f"Trading is allowed from {limits.hours_start:%H:%M} to "
                f"{limits.hours_end:%H:%M} {limits.hours_timezone}; it is {local:%H:%M} there.",
                limit="hours",
                value=f"{local:%H:%M}",
            )
    if limits.max_order_lots is not None and quantity > limits.max_order_lots:
        _reject(
            RiskRejected.MAX_ORDER_SIZE,
            f"Max order size is {limits.max_order_lots} lots: {what} is larger.",
            limit="max_order_lots",
            limit_value=limits.max_order_lots,
            value=quantity,
        )
    if limits.max_open_orders is not None and book.working_count + 1 > limits.max_open_orders:
        _reject(
            RiskRejected.OPEN_ORDERS,
            f"Max open orders is {limits.max_open_orders}: the account has "
            f"{book.working_count} working orders, {what} would make "
            f"{book.working_count + 1}.",
            limit="max_open_orders",
            limit_value=limits.max_open_orders,
            value=book.working_count,
            after=book.working_count + 1,
        )
    if limits.max_orders_per_minute is not None:
        cap = limits.max_orders_per_minute
        if snap.recent_orders >= cap:
            _reject(
                RiskRejected.ORDER_RATE,
                f"Max orders per minute is {cap}: the account placed {cap} orders in the "
                f"last minute, {what} would be number {cap + 1}.",
                limit="max_orders_per_minute",
                limit_value=cap,
                value=cap,
                after=cap + 1,
            )
    if reducing:
        return

    if limits.max_position_lots is not None and abs(after) > limits.max_position_lots:
        _reject(
            RiskRejected.MAX_POSITION,
            f"Max position per instrument is {limits.max_position_lots} lots: {what} would "
            f"take the {symbol} position to {_lots(after)} lots (now {_lots(net)}, working "
            f"orders {_lots(working)}).",
            limit="max_position_lots",
            limit_value=limits.max_position_lots,
            value=net,
            after=after,
        )
    if not limits.needs_valuation:
        return

    quotes = dict(quotes)  # read now (a lazy ``LiveQuotes``), looked up often below
    if symbol not in quotes and price is not None:
        quotes[symbol] = Quote(price, price)
    spec = spec_of(instrument)
    holdings = book.holdings(
        with_working=True, order_spec=spec, direction=1 if buy else -1, lots=signed
    )
    try:
        val = selectors.value(account, holdings, book.positions, quotes)
        order_legs = analytics.legs(
            Holding(spec, signed), quotes, analytics.Rates(quotes, account.currency)
        )
    except ConversionError as exc:
        code = _first_valuation_code(limits)
        _reject(code, f"Cannot value {what} against the limits: {exc}.", limit="quotes")
    ccy = account.currency
    equity = val.equity

    if limits.max_daily_loss is not None or limits.max_drawdown_pct is not None:
        day_start, peak = selectors.day_start_and_peak(risk, equity, now, snap.flows)
        loss = day_start - equity
        if limits.max_daily_loss is not None and loss >= limits.max_daily_loss:
            _reject(
                RiskRejected.DAILY_LOSS,
                f"Max daily loss is {_money(limits.max_daily_loss)} {ccy}: the account has lost "
                f"{_money(loss)} {ccy} since 17:00 New York (day start equity "
                f"{_money(day_start)}); only orders that reduce a position are accepted.",
                limit="max_daily_loss",
                limit_value=limits.max_daily_loss,
                value=loss,
            )
        drawdown = analytics.drawdown_pct(peak, equity)
        if limits.max_drawdown_pct is not None and drawdown >= limits.max_drawdown_pct:
            _reject(
                RiskRejected.DRAWDOWN,
                f"Max drawdown is {limits.max_drawdown_pct}%: equity {_money(equity)} {ccy} is "
                f"{drawdown:.2f}% below its peak of {_money(peak)} {ccy}; only orders that "
                "reduce a position are accepted.",
                limit="max_drawdown_pct",
                limit_value=limits.max_drawdown_pct,
                value=drawdown,
            )
    for leg_ccy, leg in order_legs:
        exposure = val.exposures[leg_ccy]
        before = exposure.net - leg
        if (
            limits.max_net_exposure is not None
            and abs(exposure.net) > limits.max_net_exposure
            and abs(exposure.net) > abs(before)
        ):
            _reject(
                RiskRejected.EXPOSURE,
                f"Max net exposure per currency is {_money(limits.max_net_exposure)} {ccy}: "
                f"{what} would take the net {leg_ccy} exposure from {before:+,.2f} to "
                f"{exposure.net:+,.2f} {ccy}.",
                limit="max_net_exposure",
                limit_value=limits.max_net_exposure,
                currency=leg_ccy,
                value=before,
                after=exposure.net,
            )
        if limits.max_gross_exposure is not None and exposure.gross > limits.max_gross_exposure:
            _reject(
                RiskRejected.EXPOSURE,
                f"Max gross exposure per currency is {_money(limits.max_gross_exposure)} {ccy}: "
                f"{what} would take the gross {leg_ccy} exposure from "
                f"{_money(exposure.gross - abs(leg))} to {_money(exposure.gross)} {ccy}.",
                limit="max_gross_exposure",
                limit_value=limits.max_gross_exposure,
                currency=leg_ccy,
                value=exposure.gross - abs(leg),
                after=exposure.gross,
            )
    if limits.max_leverage is not None and (
        val.leverage is None or val.leverage > limits.max_leverage
    ):
        shown = "unbounded" if val.leverage is None else f"{val.leverage:.2f}"
        _reject(
            RiskRejected.LEVERAGE,
            f"Max leverage is {limits.max_leverage}: {what} would take leverage to {shown} "
            f"(gross notional {_money(val.notional)} {ccy} on equity {_money(equity)} {ccy}).",
            limit="max_leverage",
            limit_value=limits.max_leverage,
            after=val.leverage,
        )
    if (
        limits.min_margin_level is not None
        and val.margin_level is not None
        and val.margin_level < limits.min_margin_level
    ):
        _reject(
            RiskRejected.MARGIN,
            f"Min margin level is {limits.min_margin_level}%: {what} would take the margin "
            f"level to {val.margin_level:.2f}% (margin {_money(val.margin)} {ccy} on equity "
            f"{_money(equity)} {ccy}).",
            limit="min_margin_level",
            limit_value=limits.min_margin_level,
            after=val.margin_level,
        )


def _first_valuation_code(limits: selectors.Limits) -> str:
    for code, value in (
        (RiskRejected.DAILY_LOSS, limits.max_daily_loss),
        (RiskRejected.DRAWDOWN, limits.max_drawdown_pct),
        (RiskRejected.EXPOSURE, limits.max_net_exposure),
        (RiskRejected.EXPOSURE, limits.max_gross_exposure),
        (RiskRejected.LEVERAGE, limits.max_leverage),
    ):
        if value is not None:
            return code
    return RiskRejected.MARGIN


# --- rows, locks, events -----------------------------------------------------


def _lock_account(account_id: int) -> TradingAccount | None:
    return TradingAccount.objects.select_for_update(of=("self",)).filter(pk=account_id).first()


def _account_risk_locked(account_id: int) -> AccountRisk:
    """The account's risk row, created if missing, locked. The caller holds
    the account's lock (or does not need the account's orders consistent)."""
    AccountRisk.objects.get_or_create(account_id=account_id)
    return AccountRisk.objects.select_for_update().get(pk=account_id)


def _platform_locked() -> PlatformRisk:
    PlatformRisk.objects.get_or_create(pk=1)
    return PlatformRisk.objects.select_for_update().get(pk=1)


def _event(
    *,
    account: TradingAccount | None,
    kind: str,
    message: str,
    code: str = "",
    actor: str = "",
    data: dict | None = None,
) -> RiskEvent:
    """Record a risk event and push it to the account owner's ``/ws/trading/``
    (a platform-wide event to every account owner) once committed."""
    event = RiskEvent.objects.create(
        account=account, kind=kind, code=code, message=message[:500], actor=actor, data=data or {}
    )
    payload = {
        "id": event.pk,
        "account": account.pk if account else None,
        "kind": kind,
        "code": code,
        "message": event.message,
        "actor": actor,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    if account is not None:
        events.publish(account.owner_id, "risk", payload)
        events.publish_operators("risk", payload, owner=account.owner_id)
    else:
        owners = TradingAccount.objects.values_list("owner_id", flat=True).distinct()
        for owner_id in owners:
            events.publish(owner_id, "risk", payload)
        events.publish_operators("risk", payload, owner=None)
    return event


def _write_state(
    row: AccountRisk | PlatformRisk,
    *,
    account: TradingAccount | None,
    state: str,
    label: str,
    user,
    reason: str,
    data: dict | None = None,
) -> TradingStateChange | None:
    """Set the state of a locked row, recording the change; ``None`` if it
    was already in that state."""
    if row.state == state:
        return None
    now = timezone.now()
    previous = row.state
    row.state, row.state_reason, row.state_actor, row.state_changed_at = (
        state,
        reason[:300],
        label[:100],
        now,
    )
    row.save(update_fields=["state", "state_reason", "state_actor", "state_changed_at"])
    change = TradingStateChange.objects.create(
        account=account,
        from_state=previous,
        to_state=state,
        actor=label[:100],
        user=user,
        reason=reason[:300],
        data=data or {},
    )
    scope = f"Account {account.name}" if account is not None else "The platform"
    _event(
        account=account,
        kind=RiskEvent.Kind.STATE,
        message=f"{scope} is now {state} (was {previous}): {reason}",
        actor=label,
        data={"from": previous, "to": state, "scope": "account" if account else "platform"},
    )
    return change


def _cancel_working(account: TradingAccount, label: str, reason: str) -> int:
    """Cancel the account's working orders through their broker, except
    orders closing a position (they only reduce risk)."""
    from apps.trading.services import order_cancel

    cancelled = 0
    orders = (
        Order.objects.filter(account_id=account.pk, status__in=WORKING, cancel_requested=False)
        .exclude(role=Order.Role.CLOSE)
        .order_by("id")
    )
    for order in orders:
        try:
            order_cancel(order=order, actor=label, reason=reason)
        except InvalidTransition:
            continue  # ended meanwhile
        cancelled += 1
    return cancelled


def _flatten(account: TradingAccount, user) -> list[Order]:
    """Close every open position that has no working close order yet."""
    from apps.trading.services import position_close

    closing = set(
        Order.objects.filter(
            account_id=account.pk, status__in=WORKING, role=Order.Role.CLOSE
        ).values_list("position_id", flat=True)
    )
    orders = []
    positions = (
        Position.objects.filter(account_id=account.pk, closed_at__isnull=True)
        .exclude(quantity=0)
        .exclude(pk__in=[p for p in closing if p is not None])
        .order_by("id")
    )
    for position in positions:
        try:
            orders.append(position_close(position=position, user=user, source=Order.Source.SYSTEM))
        except InvalidOrder:
            continue  # closed meanwhile
    return orders


def _cancel_algos(account_id: int, user) -> int:
    """Cancel the account's running algos (each under its own lock, after
    the account's transaction, see the lock order)."""
    from apps.trading import algos
    from apps.trading.models import AlgoOrder

    cancelled = 0
    for algo in AlgoOrder.objects.filter(account_id=account_id).exclude(status__in=AlgoOrder.FINAL):
        try:
            algos.algo_cancel(algo=algo, user=user)
        except InvalidTransition:
            continue
        cancelled += 1
    return cancelled


# --- trading states ----------------------------------------------------------


def trading_state_set(
    *, state: str, account: TradingAccount | None = None, actor, reason: str
) -> TradingStateChange | None:
    """Set an account's (or, without ``account``, the platform's) trading state.

    Halting cancels working orders (and running algos); halting the platform
    does so on every account. Only operators (or the platform itself) may
    relax a state: a trader cannot lift a halt. Returns the recorded change,
    ``None`` when the state was already ``state``."""
    if state not in TradingState.values:
        raise InvalidRiskRequest(f"Unknown state {state!r}.", fields={"state": ["Unknown."]})
    if not (reason or "").strip():
        raise InvalidRiskRequest("Say why.", fields={"reason": ["Required."]})
    label, user = _actor(actor)
    if account is None:
        with transaction.atomic():
            row = _platform_locked()
            _check_may_relax(row.state, state, user)
            change = _write_state(
                row, account=None, state=state, label=label, user=user, reason=reason
            )
        if state == TradingState.HALTED:
            _sweep_accounts(label=label, user=user, reason=reason, flatten=False)
        return change
    with transaction.atomic():
        _lock_account(account.pk)
        row = _account_risk_locked(account.pk)
        _check_may_relax(row.state, state, user)
        change = _write_state(
            row, account=account, state=state, label=label, user=user, reason=reason
        )
        if state == TradingState.HALTED:
            _cancel_working(account, label, reason)
    if state == TradingState.HALTED:
        _cancel_algos(account.pk, user)
    return change


def _check_may_relax(current: str, target: str, user) -> None:
    if SEVERITY[target] < SEVERITY[current] and user is not None:
        if not user.has_perm(PERM_OPERATE):
            raise RiskPermissionDenied(
                f"Only an operator can lift the {current} state.",
                extra={"state": current},
            )


# --- kill switch -------------------------------------------------------------


def _kill_account(account_id: int, *, label: str, user, reason: str, flatten: bool, halt: bool):
    """One account under its lock: (halt,) cancel working orders, (flatten)."""
    with transaction.atomic():
        account = _lock_account(account_id)
        if account is None:
            return None
        changed = None
        if halt:
            row = _account_risk_locked(account_id)
            changed = _write_state(
                row,
                account=account,
                state=TradingState.HALTED,
                label=label,
                user=user,
                reason=reason,
                data={"kill_switch": True, "flatten": flatten},
            )
        cancelled = _cancel_working(account, label, reason)
        closing = _flatten(account, user) if flatten else []
        if changed or cancelled or closing:
            _event(
                account=account,
                kind=RiskEvent.Kind.KILL_SWITCH,
                message=f"Kill switch on account {account.name}: {cancelled} working orders "
                f"cancelled, {len(closing)} positions closing. {reason}",
                actor=label,
                data={
                    "cancelled": cancelled,
                    "closing": [o.pk for o in closing],
                    "flatten": flatten,
                },
            )
    algos_cancelled = _cancel_algos(account_id, user)
    return {
        "state_changed": changed is not None,
        "cancelled": cancelled,
        "closing": len(closing),
        "algos_cancelled": algos_cancelled,
    }


def _sweep_accounts(*, label: str, user, reason: str, flatten: bool) -> dict:
    """After a platform halt committed: every account, each under its lock."""
    totals = {"accounts": 0, "cancelled": 0, "closing": 0, "algos_cancelled": 0}
    for account_id in TradingAccount.objects.order_by("id").values_list("id", flat=True):
        result = _kill_account(
            account_id, label=label, user=user, reason=reason, flatten=flatten, halt=False
        )
        if result is None:
            continue
        totals["accounts"] += 1
        for key in ("cancelled", "closing", "algos_cancelled"):
            totals[key] += result[key]
    return totals


def kill_switch(
    *,
    scope: str = "account",
    account: TradingAccount | None = None,
    flatten: bool = False,
    actor=None,
    reason: str,
) -> dict:
    """Halt an account (``scope="account"``) or the platform (``"all"``),
    cancel every working order (through the broker: MT5 orders get a cancel
    request answered by the terminal) and running algo, and with ``flatten``
    close every open position with a market order. Orders closing positions
    are left working.

    Idempotent: run again, it finds the state halted, nothing left to cancel
    and the positions already closing, and records nothing new."""
    if not (reason or "").strip():
        raise InvalidRiskRequest("Say why.", fields={"reason": ["Required."]})
    label, user = _actor(actor)
    if scope == "account":
        if account is None:
            raise InvalidRiskRequest(
                "Name the account to halt.", fields={"account": ["Required for scope account."]}
            )
        result = _kill_account(
            account.pk, label=label, user=user, reason=reason, flatten=flatten, halt=True
        )
        return {"scope": scope, "accounts": 1, **result}
    if scope != "all":
        raise InvalidRiskRequest(
            f"Unknown scope {scope!r}.", fields={"scope": ["Use account or all."]}
        )
    with transaction.atomic():
        changed = _write_state(
            _platform_locked(),
            account=None,
            state=TradingState.HALTED,
            label=label,
            user=user,
            reason=reason,
            data={"kill_switch": True, "flatten": flatten},
        )
    totals = _sweep_accounts(label=label, user=user, reason=reason, flatten=flatten)
    if changed or totals["cancelled"] or totals["closing"]:
        _event(
            account=None,
            kind=RiskEvent.Kind.KILL_SWITCH,
            message=f"Platform kill switch: {totals['cancelled']} working orders cancelled, "
            f"{totals['closing']} positions closing on {totals['accounts']} accounts. {reason}",
            actor=label,
            data={**totals, "flatten": flatten},
        )
    return {"scope": scope, "state_changed": changed is not None, **totals}


# --- monitor -----------------------------------------------------------------


def _breaches(
    limits: selectors.Limits,
    val: selectors.Valuation,
    book: selectors.Book,
    *,
    ccy: str,
    daily_pnl: Decimal,
    day_start: Decimal,
    peak: Decimal,
    drawdown: Decimal,
) -> dict[str, dict]:
    """The limits the account's current figures break: ``code → {message, action}``."""
    out: dict[str, dict] = {}
    loss = -daily_pnl
    if limits.max_daily_loss is not None and loss >= limits.max_daily_loss:
        out[RiskRejected.DAILY_LOSS] = {
            "message": f"Daily loss {_money(loss)} {ccy} reached the limit of "
            f"{_money(limits.max_daily_loss)} {ccy} (day start equity {_money(day_start)}).",
            "action": limits.daily_loss_action,
            "value": str(loss),
        }
    if limits.max_drawdown_pct is not None and drawdown >= limits.max_drawdown_pct:
        out[RiskRejected.DRAWDOWN] = {
            "message": f"Drawdown {drawdown:.2f}% from the equity peak {_money(peak)} {ccy} "
            f"reached the limit of {limits.max_drawdown_pct}%.",
            "action": limits.drawdown_action,
            "value": f"{drawdown:.4f}",
        }
    if (
        limits.min_margin_level is not None
        and val.margin_level is not None
        and val.margin_level < limits.min_margin_level
    ):
        out[RiskRejected.MARGIN] = {
            "message": f"Margin level {val.margin_level:.2f}% is below the minimum of "
            f"{limits.min_margin_level}%.",
            "action": limits.margin_action,
            "value": f"{val.margin_level:.4f}",
        }
    over = []
    for c, e in val.exposures.items():
        if limits.max_net_exposure is not None and abs(e.net) > limits.max_net_exposure:
            over.append(f"net {c} {e.net:+,.2f}")
        if limits.max_gross_exposure is not None and e.gross > limits.max_gross_exposure:
            over.append(f"gross {c} {_money(e.gross)}")
    if over:
        out[RiskRejected.EXPOSURE] = {
            "message": f"Exposure over the limits ({ccy}): {', '.join(over)}.",
            "action": limits.exposure_action,
            "value": "; ".join(over),
        }
    if limits.max_position_lots is not None:
        big = [
            f"{s} {_lots(book.net(s))}"
            for s in sorted({p.spec.symbol for p in book.positions})
            if abs(book.net(s)) > limits.max_position_lots
        ]
        if big:
            out[RiskRejected.MAX_POSITION] = {
                "message": f"Positions over {limits.max_position_lots} lots: {', '.join(big)}.",
                "action": limits.exposure_action,
                "value": "; ".join(big),
            }
    if limits.max_leverage is not None and (
        val.leverage is None or val.leverage > limits.max_leverage
    ):
        shown = "unbounded" if val.leverage is None else f"{val.leverage:.2f}"
        out[RiskRejected.LEVERAGE] = {
            "message": f"Leverage {shown} is over the limit of {limits.max_leverage}.",
            "action": limits.leverage_action,
            "value": shown,
        }
    return out


def _figures(val: selectors.Valuation, daily_pnl, day_start, peak, drawdown, now) -> dict:
    def s(v):
        return None if v is None else f"{v:.2f}"

    return {
        "equity": s(val.equity),
        "balance": s(val.balance),
        "margin": s(val.margin),
        "margin_level": s(val.margin_level),
        "daily_pnl": s(daily_pnl),
        "day_start_equity": s(day_start),
        "peak_equity": s(peak),
        "drawdown_pct": s(drawdown),
        "gross_notional": s(val.notional),
        "leverage": s(val.leverage),
        "exposures": {c: {"net": s(e.net), "gross": s(e.gross)} for c, e in val.exposures.items()},
        "at": now.isoformat(),
    }


def account_monitor(
    account_id: int, quotes: dict[str, Quote] | None = None, now: datetime | None = None
) -> dict:
    """Value an account and act on what it breaks.

    Recomputes equity, margin level, the day's P&L (from the equity at the
    last 17:00 New York roll), the drawdown from the equity peak and the
    currency exposures; keeps the peak and the day start (deposits and
    withdrawals move both). A limit newly broken records a ``breach`` event
    and applies its action (alert, reduce, halt, flatten), a breach that
    ended a ``cleared`` event. On paper accounts at or below the stop-out
    margin level, the largest losing position is closed (one per call: the
    next call values the account again once that close filled)."""
    now = now or timezone.now()
    quotes = quotes if quotes is not None else live_quotes()
    result: dict = {"account": account_id, "status": "ok", "actions": []}
    target = None
    with transaction.atomic():
        account = _lock_account(account_id)
        if account is None:
            return {**result, "status": "missing"}
        risk = _account_risk_locked(account_id)
        snap = selectors.snapshot(account, now)
        limits = selectors.limits_for(risk, snap.platform)
        book = snap.book
        try:
            val = selectors.value(account, book.holdings(), book.positions, quotes)
        except ConversionError as exc:
            return {**result, "status": "no_quotes", "error": str(exc)}
        flows, cursor = selectors.ledger_flows(account_id, risk.ledger_cursor)
        if risk.peak_equity is None:
            flows = ZERO  # the equity already holds every earlier deposit
        day_start, peak = selectors.day_start_and_peak(risk, val.equity, now, flows)
        if risk.peak_equity is None or val.equity > risk.peak_equity + flows:
            risk.peak_at = now
        risk.day_start_equity, risk.trade_date = day_start, selectors.trade_date(now)
        risk.peak_equity, risk.ledger_cursor = peak, cursor
        daily_pnl = val.equity - risk.day_start_equity
        drawdown = analytics.drawdown_pct(risk.peak_equity, val.equity)
        found = _breaches(
            limits,
            val,
            book,
            ccy=account.currency,
            daily_pnl=daily_pnl,
            day_start=risk.day_start_equity,
            peak=risk.peak_equity,
            drawdown=drawdown,
        )
        known = set(risk.breaches or [])
        new = [code for code in found if code not in known]
        for code in sorted(known - set(found)):
            _event(
                account=account,
                kind=RiskEvent.Kind.CLEARED,
                code=code,
                message=f"{code} no longer breached on account {account.name}.",
                actor="monitor",
            )
        strictest = None
        for code in new:
            breach = found[code]
            _event(
                account=account,
                kind=RiskEvent.Kind.BREACH,
                code=code,
                message=f"Account {account.name}: {breach['message']} Action: {breach['action']}.",
                actor="monitor",
                data={"action": breach["action"], "value": breach["value"]},
            )
            if strictest is None or ACTION_RANK[breach["action"]] > ACTION_RANK[strictest]:
                strictest = breach["action"]
        target = ACTION_STATE.get(strictest) if strictest else None
        if target is not None and SEVERITY[target] > SEVERITY[risk.state]:
            reason = "; ".join(found[c]["message"] for c in new)
            _write_state(
                risk,
                account=account,
                state=target,
                label="monitor",
                user=None,
                reason=reason,
                data={"breaches": new},
            )
            result["actions"].append(target)
        if strictest in (BreachAction.HALT, BreachAction.FLATTEN):
            cancelled = _cancel_working(account, "monitor", "risk limit breached")
            if cancelled:
                result["actions"].append(f"cancelled {cancelled}")
        if strictest == BreachAction.FLATTEN:
            closing = _flatten(account, None)
            result["actions"].append(f"closing {len(closing)}")
        elif (
            account.broker == TradingAccount.Broker.PAPER
            and limits.stop_out_level is not None
            and val.margin_level is not None
            and val.margin_level <= limits.stop_out_level
        ):
            closed = _stop_out(account, book, val, limits.stop_out_level)
            if closed is not None:
                result["actions"].append(f"stop_out {closed}")
        risk.breaches = sorted(found)
        risk.figures = _figures(
            val, daily_pnl, risk.day_start_equity, risk.peak_equity, drawdown, now
        )
        risk.monitored_at = now
        risk.save(
            update_fields=[
                "peak_equity",
                "peak_at",
                "day_start_equity",
                "trade_date",
                "ledger_cursor",
                "breaches",
                "figures",
                "monitored_at",
                "updated_at",
            ]
        )
        result["figures"] = risk.figures
        result["breaches"] = risk.breaches
    if target == TradingState.HALTED:
        _cancel_algos(account_id, None)
    return result


def _stop_out(
    account: TradingAccount, book: selectors.Book, val: selectors.Valuation, level: Decimal
) -> int | None:
    """Close the position losing the most (or, with no loser, using the most
    margin) unless a platform close is still working: one per call."""
    from apps.trading.services import position_close

    pending = Order.objects.filter(
        account_id=account.pk,
        status__in=WORKING,
        role=Order.Role.CLOSE,
        source=Order.Source.SYSTEM,
    ).exists()
    if pending or not book.positions:
        return None
    losers = [p for p in book.positions if val.unrealized[p.id] < 0]
    if losers:
        victim = min(losers, key=lambda p: (val.unrealized[p.id], p.id))
    else:
        victim = max(book.positions, key=lambda p: (abs(p.lots) * p.spec.contract_size, -p.id))
    position = Position.objects.get(pk=victim.id)
    order = position_close(position=position, source=Order.Source.SYSTEM)
    _event(
        account=account,
        kind=RiskEvent.Kind.STOP_OUT,
        code=RiskRejected.MARGIN,
        message=f"Stop-out on account {account.name}: margin level {val.margin_level:.2f}% at "
        f"or below {level}%; closing {_lots(victim.lots)} {victim.spec.symbol} "
        f"(unrealised {val.unrealized[victim.id]:+,.2f} {account.currency}).",
        actor="monitor",
        data={
            "position": victim.id,
            "order": order.pk,
            "margin_level": f"{val.margin_level:.4f}",
            "unrealized": str(val.unrealized[victim.id]),
        },
    )
    return victim.id


# --- hooks: fills and prices -------------------------------------------------


def _unthrottled(kind: str, names, seconds: int) -> list:
    """The ``names`` not already taken in the last ``seconds`` (each is then
    taken for ``seconds``): one Redis round trip for all of them."""
    names = list(names)
    prefix = f"{live.prefix()}:risk:{kind}"
    pipe = live.client().pipeline(transaction=False)
    for name in names:
        pipe.set(f"{prefix}:{name}", 1, nx=True, ex=seconds)
    return [name for name, free in zip(names, pipe.execute(), strict=True) if free]


def monitor_request(account_ids, *, throttle_seconds: int = 2) -> int:
    """Queue ``account_monitor`` for each account on the ``risk`` queue once
    the transaction commits, at most once per ``throttle_seconds`` each."""
    from apps.risk.tasks import monitor_account

    due = _unthrottled("monitor", account_ids, throttle_seconds)
    for account_id in due:
        transaction.on_commit(lambda a=account_id: monitor_account.delay(a))
    return len(due)


def on_fill(*, account_id: int) -> None:
    """Hook for the trading service after a fill: value the account soon."""
    monitor_request([account_id], throttle_seconds=1)


def on_prices(instrument_ids, *, throttle_seconds: int = 1) -> int:
    """Hook for new prices (live ticks stored): value the accounts holding
    these instruments (each instrument at most once per ``throttle_seconds``;
    each account at most once per monitor throttle). Accounts whose value
    moves only through a conversion rate are valued by the beat sweep."""
    due = _unthrottled("prices", instrument_ids, throttle_seconds)
    if not due:
        return 0
    return monitor_request(selectors.accounts_to_monitor(instrument_ids=due))


# --- limits ------------------------------------------------------------------


def _limit_text(value) -> str:
    """A limit as people read it: none, not Python's ``None``."""
    if value is None:
        return "none (inherited or unlimited)"
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def limits_update(*, account: TradingAccount | None = None, changes: dict, actor) -> object:
    """Change an account's overrides (or, without ``account``, the platform
    defaults), validated, and record what changed (a ``limits`` event)."""
    label, _ = _actor(actor)
    unknown = sorted(set(changes) - set(AccountRisk.LIMITS))
    if unknown:
        raise InvalidRiskRequest(
            "Unknown limits.", fields={name: ["Not a limit."] for name in unknown}
        )
    with transaction.atomic():
        if account is not None:
            # Locks in one order everywhere: the trading account, then its risk
            # row (the monitor and the pre-trade check take them so too).
            _lock_account(account.pk)
        row = _platform_locked() if account is None else _account_risk_locked(account.pk)
        before = {name: getattr(row, name) for name in changes}
        for name, value_ in changes.items():
            setattr(row, name, value_)
        row.full_clean(exclude=["account", "id"])
        changed = [n for n in changes if getattr(row, n) != before[n]]
        if not changed:
            return row
        row.save(update_fields=[*changed, "updated_at"])
        shown = ", ".join(
            f"{n} {_limit_text(before[n])} → {_limit_text(getattr(row, n))}" for n in changed
        )
        scope = f"account {account.name}" if account else "the platform defaults"
        _event(
            account=account,
            kind=RiskEvent.Kind.LIMITS,
            message=f"Limits of {scope} changed by {label}: {shown}.",
            actor=label,
            data={
                "before": {n: _plain(before[n]) for n in changed},
                "after": {n: _plain(getattr(row, n)) for n in changed},
            },
        )
    return row


def _plain(value):
    if value is None or isinstance(value, bool | int | list | str):
        return value
    return str(value)
