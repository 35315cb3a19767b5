"""Reads of the risk domain: limits in force, trading states, an account's book
(positions and working orders, read as plain values for speed), its valuation
and the status the API shows (usage of each limit, exposures, VaR/ES)."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import connection
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from apps.accounts.roles import PERM_OPERATE
from apps.marketdata import calendar
from apps.risk import analytics
from apps.risk.analytics import Holding
from apps.risk.models import (
    SEVERITY,
    AccountRisk,
    BreachAction,
    PlatformRisk,
    RiskEvent,
    TradingStateChange,
)
from apps.trading import accounting
from apps.trading.accounting import ConversionError, Quote, Spec
from apps.trading.models import LedgerEntry, Order, Position, TradingAccount
from apps.trading.selectors import accounts_for, live_quotes
from fxsite.db import server_cursor

ZERO = Decimal(0)
WORKING = (Order.Status.NEW, Order.Status.ACCEPTED, Order.Status.PARTIALLY_FILLED)
RATE_WINDOW = timedelta(minutes=1)
FLOW_KINDS = (LedgerEntry.Kind.DEPOSIT, LedgerEntry.Kind.WITHDRAWAL)


# --- limits and states -------------------------------------------------------


def platform_risk() -> PlatformRisk:
    """The platform row, or its defaults when it was never saved."""
    return PlatformRisk.objects.filter(pk=1).first() or PlatformRisk()


@dataclass(frozen=True)
class Limits:
    """The limits in force on an account (``None``: no limit)."""

    max_order_lots: Decimal | None = None
    max_position_lots: Decimal | None = None
    max_gross_exposure: Decimal | None = None
    max_net_exposure: Decimal | None = None
    max_leverage: Decimal | None = None
    min_margin_level: Decimal | None = None
    max_open_orders: int | None = None
    max_orders_per_minute: int | None = None
    max_daily_loss: Decimal | None = None
    max_drawdown_pct: Decimal | None = None
    allowed_symbols: tuple[str, ...] | None = None
    hours_start: time | None = None
    hours_end: time | None = None
    hours_timezone: str = "UTC"
    stop_out_level: Decimal | None = None
    daily_loss_action: str = BreachAction.HALT
    drawdown_action: str = BreachAction.HALT
    margin_action: str = BreachAction.REDUCE
    exposure_action: str = BreachAction.REDUCE
    leverage_action: str = BreachAction.REDUCE

    @property
    def needs_valuation(self) -> bool:
        return any(
            v is not None
            for v in (
                self.max_gross_exposure,
                self.max_net_exposure,
                self.max_leverage,
                self.min_margin_level,
                self.max_daily_loss,
                self.max_drawdown_pct,
            )
        )

    def as_dict(self) -> dict:
        out = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if isinstance(value, Decimal | time):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[name] = value
        return out


def limits_for(risk: AccountRisk, platform: PlatformRisk) -> Limits:
    """Each limit from the account when set there, else the platform default.
    The trading hours (start, end, time zone) come as one from either."""
    values = {}
    for name in AccountRisk.LIMITS:
        if name.startswith("hours_"):
            continue
        own = getattr(risk, name)
        values[name] = own if own not in (None, "") else getattr(platform, name)
    hours = risk if risk.hours_start is not None else platform
    values["hours_start"], values["hours_end"] = hours.hours_start, hours.hours_end
    values["hours_timezone"] = hours.hours_timezone or "UTC"
    symbols = values["allowed_symbols"]
    values["allowed_symbols"] = tuple(symbols) if symbols else None
    for name in (
        "daily_loss_action",
        "drawdown_action",
        "margin_action",
        "exposure_action",
        "leverage_action",
    ):
        values[name] = values[name] or Limits.__dataclass_fields__[name].default
    return Limits(**values)


def effective_state(risk: AccountRisk, platform: PlatformRisk) -> tuple[str, str]:
    """``(state, scope)``: the stricter of the account's and the platform's
    state, and whose it is (``account`` or ``platform``)."""
    if SEVERITY[platform.state] > SEVERITY[risk.state]:
        return platform.state, "platform"
    return risk.state, "account"


# --- the book: positions and working orders ----------------------------------


@dataclass(frozen=True)
class BookPosition:
    id: int
    spec: Spec
    lots: Decimal
    average_price: Decimal | None


@dataclass
class Book:
    """An account's open positions and its working orders, per instrument.

    ``working_buys`` / ``working_sells``: unfilled lots of working entry
    orders (those that can add to a position); ``closing``: unfilled lots of
    working close orders per side; ``working_count``: every working order."""

    netting: bool
    positions: list[BookPosition] = field(default_factory=list)
    specs: dict[str, Spec] = field(default_factory=dict)
    working_buys: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    working_sells: dict[str, Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    closing: dict[tuple[str, str], Decimal] = field(default_factory=lambda: defaultdict(Decimal))
    working_count: int = 0

    def net(self, symbol: str) -> Decimal:
        return sum((p.lots for p in self.positions if p.spec.symbol == symbol), ZERO)

    def holdings(
        self,
        *,
        with_working: bool = False,
        order_spec: Spec | None = None,
        direction: int = 0,
        lots: Decimal = ZERO,
    ) -> list[Holding]:
        """The positions as holdings; with ``with_working``, plus the working
        orders as if filled: on each instrument in the direction that adds to
        risk, on ``order_spec``'s in the order's ``direction`` (+1 buy, -1
        sell), plus the order's signed ``lots``. A netting account has one
        holding per instrument; a hedging account one per ticket, then one for
        the working orders and the order."""
        out = [Holding(p.spec, p.lots) for p in self.positions]
        extras: dict[str, Decimal] = {}
        specs = dict(self.specs)
        if with_working:
            for symbol in set(self.working_buys) | set(self.working_sells):
                net = self.net(symbol)
                buys, sells = (
                    self.working_buys.get(symbol, ZERO),
                    self.working_sells.get(symbol, ZERO),
                )
                extras[symbol] = analytics.projected_lots(net, buys, sells) - net
        if order_spec is not None:
            symbol = order_spec.symbol
            specs.setdefault(symbol, order_spec)
            working = ZERO
            if with_working:
                working = (
                    self.working_buys.get(symbol, ZERO)
                    if direction > 0
                    else -self.working_sells.get(symbol, ZERO)
                )
            extras[symbol] = working + lots
        if not extras:
            return out
        if self.netting:
            merged = {h.spec.symbol: h for h in out}
            for symbol, extra in extras.items():
                current = merged.get(symbol)
                base = current.lots if current is not None else ZERO
                merged[symbol] = Holding(specs[symbol], base + extra)
            return list(merged.values())
        return out + [Holding(specs[s], extra) for s, extra in extras.items() if extra]


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# One round trip for everything the pre-trade check reads (the check runs
# for every order, under the account's lock): the risk rows, the open
# positions, the working orders per instrument, side and role (the
# ``(account, status)`` index), the instruments, how many of the account's
# latest orders (as many as the rate limit allows, none without one) were
# created in the last minute, and the deposits and withdrawals after the
# monitor's ledger cursor. An account's orders are created one at a time
# under its row lock, so their ids follow their creation: the latest N by id
# (the primary key, read backwards) are its latest N orders, whatever the
# length of its history.
_SNAPSHOT_SQL = """
SELECT
  (SELECT row_to_json(r) FROM {account_risk} r WHERE r.account_id = %(account)s),
  (SELECT row_to_json(r) FROM {platform_risk} r WHERE r.id = 1),
  (SELECT json_agg(json_build_array(p.id, p.quantity, p.average_price, p.instrument_id)
                   ORDER BY p.id)
     FROM {position} p
    WHERE p.account_id = %(account)s AND p.closed_at IS NULL AND p.quantity <> 0),
  (SELECT json_agg(json_build_array(w.instrument_id, w.side, w.role, w.n, w.remaining))
     FROM (SELECT instrument_id, side, role, count(*) AS n,
                  sum(quantity - filled_quantity) AS remaining
             FROM {order} WHERE account_id = %(account)s AND status IN ({working})
            GROUP BY instrument_id, side, role) w),
  (SELECT json_object_agg(i.id, json_build_array(i.symbol, i.base_currency, i.quote_currency,
                                                 i.contract_size, i.digits, i.margin_rate,
                                                 i.enabled))
     FROM {instrument} i),
  (SELECT count(*) FROM (
      SELECT 1 FROM {order} WHERE account_id = %(account)s AND created_at > %(since)s
       LIMIT COALESCE(
         (SELECT max_orders_per_minute FROM {account_risk} WHERE account_id = %(account)s),
         (SELECT max_orders_per_minute FROM {platform_risk} WHERE id = 1),
         0)) latest),
  (SELECT COALESCE(sum(amount), 0) FROM {ledger}
    WHERE account_id = %(account)s AND kind IN ({flow_kinds})
      AND id > (SELECT NULLIF(ledger_cursor, 0) FROM {account_risk}
                 WHERE account_id = %(account)s))
"""


@dataclass
class Snapshot:
    """What the pre-trade check reads of an account, read at once."""

    risk: AccountRisk
    platform: PlatformRisk
    book: Book
    recent_orders: int  # created in the last minute, counted up to the rate limit
    flows: Decimal  # deposits - withdrawals the monitor has not seen yet
    symbols: list[str]  # enabled instruments


def _from_json(model, data: dict | None, **defaults):
    """A model instance from ``row_to_json`` (numbers parsed as ``Decimal``)."""
    if data is None:
        return model(**defaults)
    values = {
        f.attname: f.to_python(data[f.column])
        for f in model._meta.concrete_fields
        if f.column in data
    }
    return model(**values)


def _loads(text):
    return json.loads(text, parse_float=Decimal)


def _literals(values) -> str:
    """SQL string literals of our own constants (letters and underscores)."""
    assert all(str(v).replace("_", "").isalpha() for v in values)
    return ", ".join(f"'{v}'" for v in values)


def snapshot(account: TradingAccount, now: datetime | None = None) -> Snapshot:
    """An account's risk rows, book, recent orders and unseen flows (one query)."""
    from apps.marketdata.models import Instrument

    now = now or timezone.now()
    sql = _SNAPSHOT_SQL.format(
        account_risk=_table(AccountRisk),
        platform_risk=_table(PlatformRisk),
        position=_table(Position),
        order=_table(Order),
        instrument=_table(Instrument),
        ledger=_table(LedgerEntry),
        # Constants written into the statement: a prepared (generic) plan
        # then still picks the (account, status) index for working orders.
        working=_literals(WORKING),
        flow_kinds=_literals(FLOW_KINDS),
    )
    params = {"account": account.pk, "since": now - RATE_WINDOW}
    # Bound on the server, so psycopg prepares it after a few runs on a
    # connection: the snapshot's plan takes longer to make than to run.
    with server_cursor(json_loads=_loads) as cursor:
        cursor.execute(sql, params)
        risk_row, platform_row, positions, working, instruments, recent, flows = cursor.fetchone()
    specs = {}
    symbols = []
    for pk, (symbol, base, quote, contract, digits, margin_rate, enabled) in instruments.items():
        specs[int(pk)] = Spec(
            symbol=symbol,
            base=base,
            quote=quote,
            contract_size=Decimal(contract),
            point=Decimal(1).scaleb(-digits),
            margin_rate=Decimal(margin_rate),
        )
        if enabled:
            symbols.append(symbol)
    result = Book(netting=account.mode == TradingAccount.Mode.NETTING)
    for pk, quantity, average_price, instrument_id in positions or []:
        spec = specs[instrument_id]
        result.specs[spec.symbol] = spec
        result.positions.append(
            BookPosition(
                pk,
                spec,
                Decimal(quantity),
                None if average_price is None else Decimal(average_price),
            )
        )
    for instrument_id, side, role, n, remaining in working or []:
        spec = specs[instrument_id]
        result.specs.setdefault(spec.symbol, spec)
        result.working_count += n
        if role == Order.Role.ENTRY:
            target = result.working_buys if side == Order.Side.BUY else result.working_sells
            target[spec.symbol] += Decimal(remaining)
        elif role == Order.Role.CLOSE:
            result.closing[(spec.symbol, side)] += Decimal(remaining)
    return Snapshot(
        risk=_from_json(AccountRisk, risk_row, account_id=account.pk),
        platform=_from_json(PlatformRisk, platform_row),
        book=result,
        recent_orders=recent,
        flows=Decimal(flows),
        symbols=sorted(symbols),
    )


def orders_in_window(account_id: int, now: datetime) -> int:
    """Orders the account placed in the minute up to ``now``."""
    return Order.objects.filter(account_id=account_id, created_at__gt=now - RATE_WINDOW).count()


def ledger_flows(account_id: int, cursor: int) -> tuple[Decimal, int]:
    """Deposits minus withdrawals after ledger entry ``cursor``, and the last
    entry id (the next cursor)."""
    row = LedgerEntry.objects.filter(account_id=account_id, pk__gt=cursor).aggregate(
        flows=Sum("amount", filter=Q(kind__in=FLOW_KINDS)), last=Max("id")
    )
    return row["flows"] or ZERO, row["last"] or cursor


def trade_date(moment: datetime) -> date:
    """The FX trade date of ``moment``: the New York date of the wall clock
    7 hours later, so it rolls at 17:00 New York (as ``calendar.trade_dates``
    does for arrays)."""
    return (moment.astimezone(calendar.ny_zone()) + timedelta(hours=7)).date()


# --- valuation ---------------------------------------------------------------


@dataclass(frozen=True)
class Valuation:
    balance: Decimal
    equity: Decimal
    margin: Decimal
    margin_level: Decimal | None
    unrealized: dict[int, Decimal]  # per position id
    exposures: dict[str, analytics.Exposure]
    notional: Decimal
    leverage: Decimal | None


def value(
    account: TradingAccount, holdings: list, positions: list[BookPosition], quotes
) -> Valuation:
    """Equity from the open ``positions``, margin, exposures and leverage of
    ``holdings`` (the same positions, or what they would be after orders).
    Raises ``ConversionError`` when a needed quote is missing."""
    ccy = account.currency
    unrealized = {}
    for p in positions:
        if p.spec.symbol not in quotes:
            raise ConversionError(f"no quote for {p.spec.symbol}")
        unrealized[p.id] = accounting.unrealized_pnl(p.spec, p.lots, p.average_price, ccy, quotes)
    equity = accounting.money(account.balance + sum(unrealized.values(), ZERO))
    margin = sum(
        (accounting.margin(h.spec, h.lots, ccy, quotes, account.leverage) for h in holdings),
        ZERO,
    )
    notional = analytics.gross_notional(holdings, quotes, ccy)
    return Valuation(
        balance=account.balance,
        equity=equity,
        margin=margin,
        margin_level=analytics.margin_level(equity, margin),
        unrealized=unrealized,
        exposures=analytics.exposures(holdings, quotes, ccy),
        notional=notional,
        leverage=analytics.leverage(notional, equity),
    )


def day_start_and_peak(
    risk: AccountRisk, equity: Decimal, now: datetime, flows: Decimal = ZERO
) -> tuple[Decimal, Decimal]:
    """The day-start equity and the peak in force at ``now``.

    Deposits and withdrawals not yet seen by the monitor (``flows``) move
    both, so money moved in or out is neither profit nor loss. A day start
    from an earlier trade date (the monitor has not run since 17:00 New
    York) or none at all counts as the current equity: the day's P&L is 0."""
    if risk.day_start_equity is None or risk.trade_date != trade_date(now):
        day_start = equity
    else:
        day_start = risk.day_start_equity + flows
    peak = equity if risk.peak_equity is None else max(risk.peak_equity + flows, equity)
    return day_start, peak


# --- status (API) ------------------------------------------------------------


def _s(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):f}"
    return str(value)


def _usage(limit, value) -> dict:
    used = None
    if limit is not None and value is not None and Decimal(limit) > 0:
        used = f"{(Decimal(value) / Decimal(limit) * 100).quantize(Decimal('0.1')):f}"
    return {"limit": _s(limit), "value": _s(value), "used_pct": used}


def account_status(
    account: TradingAccount,
    *,
    quotes: dict[str, Quote] | None = None,
    window: int = 500,
    now: datetime | None = None,
) -> dict:
    """Limits in force, states, the current use of every limit, exposures per
    currency, VaR/ES (95%, 99%, one hour) of the positions from the last
    ``window`` H1 returns and the correlation of the exposed currencies."""
    now = now or timezone.now()
    snap = snapshot(account, now)
    risk, platform, b = snap.risk, snap.platform, snap.book
    limits = limits_for(risk, platform)
    state, scope = effective_state(risk, platform)
    quotes = quotes if quotes is not None else live_quotes(snap.symbols)
    holdings = b.holdings()
    usage: dict[str, dict] = {
        "max_order_lots": _usage(limits.max_order_lots, None),
        "max_open_orders": _usage(limits.max_open_orders, b.working_count),
        "max_orders_per_minute": _usage(
            limits.max_orders_per_minute, orders_in_window(account.pk, now)
        ),
    }
    positions = defaultdict(Decimal)
    for h in holdings:
        positions[h.spec.symbol] += h.lots
    largest = max((abs(v) for v in positions.values()), default=ZERO)
    usage["max_position_lots"] = _usage(limits.max_position_lots, largest)
    figures: dict = {"error": None}
    exposures_out: list[dict] = []
    try:
        val = value(account, holdings, b.positions, quotes)
    except ConversionError as exc:
        val = None
        figures["error"] = f"Cannot value the account: {exc}."
    if val is not None:
        day_start, peak = day_start_and_peak(risk, val.equity, now, snap.flows)
        daily_pnl = val.equity - day_start
        dd = analytics.drawdown_pct(peak, val.equity)
        figures.update(
            balance=_s(val.balance),
            equity=_s(val.equity),
            margin=_s(val.margin),
            margin_level=_s(val.margin_level),
            gross_notional=_s(val.notional),
            leverage=_s(val.leverage),
            day_start_equity=_s(day_start),
            daily_pnl=_s(daily_pnl),
            peak_equity=_s(peak),
            drawdown_pct=_s(dd),
        )
        gross = max((e.gross for e in val.exposures.values()), default=ZERO)
        net = max((abs(e.net) for e in val.exposures.values()), default=ZERO)
        usage["max_gross_exposure"] = _usage(limits.max_gross_exposure, gross)
        usage["max_net_exposure"] = _usage(limits.max_net_exposure, net)
        usage["max_leverage"] = _usage(limits.max_leverage, val.leverage)
        usage["min_margin_level"] = {
            "limit": _s(limits.min_margin_level),
            "value": _s(val.margin_level),
            "used_pct": None,
        }
        usage["max_daily_loss"] = _usage(limits.max_daily_loss, max(-daily_pnl, ZERO))
        usage["max_drawdown_pct"] = _usage(limits.max_drawdown_pct, dd)
        exposures_out = [
            {"currency": c, "net": _s(e.net), "gross": _s(e.gross)}
            for c, e in val.exposures.items()
        ]
    for name in usage:
        entry = usage[name]
        entry["breached"] = name in (risk.breaches or [])
    return {
        "account": account.pk,
        "currency": account.currency,
        "state": state,
        "state_scope": scope,
        "account_state": risk.state,
        "platform_state": platform.state,
        "state_reason": (risk if scope == "account" else platform).state_reason,
        "limits": limits.as_dict(),
        "usage": usage,
        "figures": figures,
        "exposures": exposures_out,
        "var": var_report(account, val.exposures if val else {}, quotes, window),
        "monitored_at": risk.monitored_at,
    }


# --- history: VaR / ES and correlation ---------------------------------------


def h1_closes(symbols: set[str], window: int) -> list[dict[str, Decimal]]:
    """The latest ``window + 1`` H1 closes of each symbol (from its source
    with the most recent bars), aligned on the hours all of them have."""
    from apps.marketdata.models import Bar, Instrument
    from apps.marketdata.selectors import default_source

    series: dict[str, dict[datetime, Decimal]] = {}
    for instrument in Instrument.objects.filter(symbol__in=symbols):
        source = default_source(instrument, "H1")
        if source is None:
            return []
        rows = (
            Bar.objects.filter(instrument=instrument, source=source, timeframe="H1")
            .order_by("-time")
            .values_list("time", "close")[: window + 1]
        )
        series[instrument.symbol] = dict(rows)
    if len(series) < len(symbols):
        return []
    common = sorted(set.intersection(*(set(s) for s in series.values())))[-(window + 1) :]
    return [{symbol: series[symbol][t] for symbol in series} for t in common]


def var_report(
    account: TradingAccount, exposures: dict[str, analytics.Exposure], quotes, window: int
) -> dict:
    ccy = account.currency
    currencies = [c for c, e in exposures.items() if c != ccy and e.net]
    paths = analytics.conversion_symbols(currencies, ccy, quotes)
    currencies = [c for c in currencies if c in paths]
    symbols = set().union(*paths.values()) if paths else set()
    closes = h1_closes(symbols, window) if symbols else []
    report = {
        "horizon": "1h",
        "window": window,
        "observations": 0,
        "currencies": currencies,
        "levels": [],
        "correlation": None,
    }
    if len(closes) < 2 or not currencies:
        return report
    rets = analytics.returns(analytics.rate_history(currencies, ccy, closes))
    exposure = np.array([float(exposures[c].net) for c in currencies])
    report["observations"] = len(rets)
    report["levels"] = [
        {"level": f"{t.level:.2f}", "var": f"{t.var:.2f}", "es": f"{t.es:.2f}"}
        for t in analytics.historical_var_es(exposure, rets)
    ]
    corr = analytics.correlation(rets)
    report["correlation"] = (
        None if corr is None else [[round(float(x), 4) for x in row] for row in corr]
    )
    return report


# --- lists for the API -------------------------------------------------------


def risks_for(user) -> QuerySet[TradingAccount]:
    return accounts_for(user).select_related("risk")


def _own_or_platform(qs: QuerySet, user) -> QuerySet:
    """Rows of the user's accounts and platform-wide ones; operators see all."""
    if user.has_perm(PERM_OPERATE):
        return qs
    return qs.filter(Q(account__owner=user) | Q(account__isnull=True))


def events_for(user) -> QuerySet[RiskEvent]:
    return _own_or_platform(RiskEvent.objects.select_related("account"), user)


def state_changes_for(user) -> QuerySet[TradingStateChange]:
    return _own_or_platform(TradingStateChange.objects.select_related("account", "user"), user)


def accounts_to_monitor(instrument_ids: list[int] | None = None) -> list[int]:
    """Accounts with open positions (in ``instrument_ids`` when given)."""
    qs = Position.objects.filter(closed_at__isnull=True).exclude(quantity=0)
    if instrument_ids is not None:
        qs = qs.filter(instrument_id__in=instrument_ids)
    return sorted(set(qs.values_list("account_id", flat=True)))
