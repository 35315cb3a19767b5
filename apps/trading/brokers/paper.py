"""The paper broker: fills from live quotes through the matching engine.

Market orders (and marketable limits) are filled when the execution task
runs; the account's ``broker_config`` sets ``slippage_points``,
``latency_ms`` and ``liquidity_lots_per_tick``. Deal ids are derived from the
order and its fill count, so a task delivered twice books nothing twice.
"""

from __future__ import annotations

import time as _time
from decimal import Decimal

from apps.marketdata import live
from apps.marketdata.calendar import datetime_to_us, us_to_datetime
from apps.trading import matching, services
from apps.trading.brokers.base import Broker, BrokerAccount, BrokerDeal, BrokerPosition
from apps.trading.models import Order, TradingAccount


def engine_for(account: TradingAccount, order: Order) -> matching.MatchingEngine:
    config = account.broker_config or {}
    liquidity = config.get("liquidity_lots_per_tick")
    instrument = order.instrument
    return matching.MatchingEngine(
        matching.PaperConfig(
            point=instrument.point,
            digits=instrument.digits,
            slippage_points=int(config.get("slippage_points", 0)),
            latency_us=int(config.get("latency_ms", 0)) * 1000,
            liquidity_lots_per_tick=Decimal(str(liquidity)) if liquidity else None,
            lot_step=instrument.lot_step,
        )
    )


def current_quote(order: Order) -> matching.Quote | None:
    return _quote(live.quotes_get([order.instrument.symbol])[0])


def to_paper(order: Order) -> matching.PaperOrder:
    return matching.PaperOrder(
        id=str(order.pk),
        side=order.side,
        type=order.type,
        quantity=order.quantity,
        submitted_at_us=datetime_to_us(order.created_at),
        price=order.price,
        stop_price=order.stop_price,
        time_in_force=order.time_in_force,
        expire_at_us=datetime_to_us(order.expire_at) if order.expire_at else None,
        filled=order.filled_quantity,
        triggered=order.triggered,
        resting=order.resting,
        terminal=order.is_final,
    )


def book(
    order: Order, paper: matching.PaperOrder, result: matching.Result, *, locked: bool = False
) -> None:
    """Record what the engine did to one order (inside the caller's transaction).

    ``locked``: the caller holds ``order``'s row lock and ``order`` is that
    row as it is now (``submit``); the account is then locked once, before the
    first fill, and both are booked in place."""
    executions, transitions = result
    if locked and executions:
        order.account = TradingAccount.objects.select_for_update().get(pk=order.account_id)
    for execution in executions:
        services.fill_apply(
            order=order,
            quantity=execution.quantity,
            price=execution.price,
            time=us_to_datetime(execution.time_us),
            broker_deal_id=f"paper-{order.pk}-{order.filled_quantity}",
            actor="broker:paper",
            locked=locked,
        )
    for transition in transitions:
        if transition.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
            services.order_transition(
                order=order,
                to_status=transition.status,
                actor="broker:paper",
                data={"reason": transition.reason},
                locked=locked,
            )
    if (order.triggered, order.resting) != (paper.triggered, paper.resting):
        Order.objects.filter(pk=order.pk).update(triggered=paper.triggered, resting=paper.resting)


def submit(order: Order, quote: matching.Quote | None = None) -> None:
    """Accept a new order and execute what the current quote allows (or
    ``quote``: a replay's price, and its time, at that moment). The caller
    (the execution task) holds the order's row lock."""
    services.order_transition(
        order=order, to_status=Order.Status.ACCEPTED, actor="broker:paper", locked=True
    )
    paper = to_paper(order)
    now_us = quote.time_us if quote is not None else _time.time_ns() // 1000
    result = engine_for(order.account, order).submit(paper, quote or current_quote(order), now_us)
    book(order, paper, result, locked=True)
    if not paper.terminal:
        mark_working(order.instrument_id)


def submit_many(account: TradingAccount, orders: list[Order]) -> None:
    """Accept and execute new orders of one account together, in order, at
    the current quotes (read once): what ``submit`` does to each, booked by
    one ``services.Booking`` per run of unlinked orders. A linked order (a
    bracket's entry, an OCO member) goes through ``submit`` on its own, since
    its fill places or cancels other orders. The caller holds the row locks
    of ``account`` and of every order, and they are those rows as they are
    now."""
    symbols = sorted({o.instrument.symbol for o in orders})
    quotes = dict(zip(symbols, live.quotes_get(symbols), strict=True))
    engines: dict[int, matching.MatchingEngine] = {}
    working: set[int] = set()
    run: list[Order] = []

    def book_run() -> None:
        booking = services.Booking(account, run, actor="broker:paper")
        for order in run:
            booking.transition(order, Order.Status.ACCEPTED)
            paper = to_paper(order)
            engine = engines.get(order.instrument_id)
            if engine is None:
                engine = engines[order.instrument_id] = engine_for(account, order)
            executions, transitions = engine.submit(
                paper, _quote(quotes[order.instrument.symbol]), _time.time_ns() // 1000
            )
            for execution in executions:
                booking.fill(
                    order,
                    quantity=execution.quantity,
                    price=execution.price,
                    time=us_to_datetime(execution.time_us),
                    deal=f"paper-{order.pk}-{order.filled_quantity}",
                )
            for transition in transitions:
                if transition.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
                    booking.transition(order, transition.status, {"reason": transition.reason})
            if (order.triggered, order.resting) != (paper.triggered, paper.resting):
                booking.set(order, triggered=paper.triggered, resting=paper.resting)
            if not paper.terminal:
                working.add(order.instrument_id)
        booking.save()
        run.clear()

    for order in orders:
        order.account = account
        if services.Booking.books(order):
            run.append(order)
            continue
        if run:
            book_run()
        submit(order)
        # ``submit`` booked on its own copy of the account's row
        account.refresh_from_db(fields=["balance"])
    if run:
        book_run()
    for instrument_id in working:
        mark_working(instrument_id)


def _quote(quote: dict | None) -> matching.Quote | None:
    if not quote or not quote.get("bid") or not quote.get("ask"):
        return None
    return matching.Quote(int(quote["ts"]) * 1000, Decimal(quote["bid"]), Decimal(quote["ask"]))


# --- resting orders, triggered by the live ticks ---------------------------

WORKING = (Order.Status.ACCEPTED, Order.Status.PARTIALLY_FILLED)


def _working_key() -> str:
    return f"{live.prefix()}:paper:instruments"


def mark_working(instrument_id: int) -> None:
    """Remember that this instrument has working paper orders (ticks matter)."""
    live.client().sadd(_working_key(), instrument_id)


def has_working(instrument_id: int) -> bool:
    return bool(live.client().sismember(_working_key(), instrument_id))


def refresh_working() -> set[int]:
    """Rebuild the set of instruments with working paper orders from the database."""
    ids = set(
        Order.objects.filter(status__in=WORKING, account__broker=TradingAccount.Broker.PAPER)
        .values_list("instrument_id", flat=True)
        .distinct()
    )
    pipe = live.client().pipeline()
    pipe.delete(_working_key())
    if ids:
        pipe.sadd(_working_key(), *ids)
    pipe.execute()
    return ids


def match_ticks(
    *, instrument_id: int, source_id: int, first_us: int, last_us: int, account_id=None
) -> int:
    """Run the working paper orders of an instrument (of one account when
    ``account_id`` is given: a replay's ticks are for its own account only)
    against stored ticks in [first, last]; returns the number of executions.
    Orders are row-locked, so concurrent runs serialise and never fill an
    order twice."""
    from django.db import transaction

    from apps.marketdata.models import DataSource
    from apps.marketdata.selectors import ticks_rows
    from apps.marketdata.services.ingest import to_datetime

    with transaction.atomic():
        orders = list(
            Order.objects.select_for_update()
            .filter(
                instrument_id=instrument_id,
                status__in=WORKING,
                account__broker=TradingAccount.Broker.PAPER,
                **({"account_id": account_id} if account_id is not None else {}),
            )
            .select_related("account", "instrument")
            .order_by("created_at", "id")
        )
        if not orders:
            live.client().srem(_working_key(), instrument_id)
            return 0
        rows = ticks_rows(
            instrument=orders[0].instrument,
            source=DataSource.objects.get(pk=source_id),
            start=to_datetime(first_us),
            end=to_datetime(last_us + 1),
            limit=None,
        )
        by_account: dict[int, list[Order]] = {}
        for order in orders:
            by_account.setdefault(order.account_id, []).append(order)
        executions = 0
        for account_orders in by_account.values():
            engine = engine_for(account_orders[0].account, account_orders[0])
            papers = {str(o.pk): to_paper(o) for o in account_orders}
            rows_by_id = {str(o.pk): o for o in account_orders}
            trailing = {
                key: o.trailing_stop
                for key, o in rows_by_id.items()
                if o.role == Order.Role.TRAILING_STOP and o.trailing_stop
            }
            for time, bid, ask, _ in rows:
                quote = matching.Quote(datetime_to_us(time), bid, ask)
                live_papers = [p for p in papers.values() if not p.terminal]
                if not live_papers:
                    break
                for key, distance in trailing.items():
                    _trail(papers[key], distance, quote)
                done, transitions = engine.on_quote(live_papers, quote)
                for order_id, paper in papers.items():
                    mine = (
                        [e for e in done if e.order_id == order_id],
                        [t for t in transitions if t.order_id == order_id],
                    )
                    if mine[0] or mine[1]:
                        book(rows_by_id[order_id], paper, mine)
                        executions += len(mine[0])
            for order_id, paper in papers.items():
                order = rows_by_id[order_id]
                if order_id in trailing and paper.stop_price != order.stop_price:
                    Order.objects.filter(pk=order.pk).update(stop_price=paper.stop_price)
                if (order.triggered, order.resting) != (paper.triggered, paper.resting):
                    Order.objects.filter(pk=order.pk).update(
                        triggered=paper.triggered, resting=paper.resting
                    )
                    order.triggered, order.resting = paper.triggered, paper.resting
        return executions


def _trail(order: matching.PaperOrder, distance: Decimal, quote: matching.Quote) -> None:
    """Move a trailing stop with the market, never back: a sell stop (protecting
    a long) follows the bid up, a buy stop follows the ask down."""
    if order.terminal or order.triggered:
        return
    if order.side == "sell":
        candidate = quote.bid - distance
        if candidate > order.stop_price:
            order.stop_price = candidate
    else:
        candidate = quote.ask + distance
        if candidate < order.stop_price:
            order.stop_price = candidate


# --- the adapter -----------------------------------------------------------


class PaperBroker(Broker):
    """The simulated broker: its book is the database, so it acts at once,
    inside the caller's transaction."""

    name = "paper"
    queue = "execution"
    synchronous = True

    def submit(self, order: Order) -> None:
        submit(order)

    def cancel(self, order: Order, *, actor: str) -> None:
        services.order_transition(
            order=order, to_status=Order.Status.CANCELLED, actor=actor, event="cancel"
        )

    def amend(self, order: Order, changes: dict, *, actor: str) -> None:
        services.order_amend_apply(order=order, changes=changes, actor=actor)

    def positions(self, account: TradingAccount) -> list[BrokerPosition]:
        return [
            BrokerPosition(
                symbol=p.instrument.symbol,
                quantity=p.quantity,
                average_price=p.average_price,
                broker_position_id=str(p.ticket),
            )
            for p in account.positions.filter(closed_at__isnull=True).select_related("instrument")
        ]

    def account_info(self, account: TradingAccount) -> BrokerAccount:
        from apps.trading.selectors import account_summary

        summary = account_summary(account)
        level = summary["margin_level"]
        return BrokerAccount(
            currency=account.currency,
            balance=account.balance,
            equity=Decimal(summary["equity"]),
            margin=Decimal(summary["margin"]),
            free_margin=Decimal(summary["free_margin"]),
            margin_level=None if level is None else Decimal(level),
        )

    def deals(self, account: TradingAccount, since) -> list[BrokerDeal]:
        return [
            BrokerDeal(
                broker_deal_id=f.broker_deal_id,
                broker_order_id=str(f.order_id),
                client_order_id=f.order.client_order_id,
                symbol=f.instrument.symbol,
                side=f.side,
                quantity=f.quantity,
                price=f.price,
                commission=f.commission,
                swap=f.swap,
                realized_pnl=f.realized_pnl,
                time=f.time,
                broker_position_id=str(f.position.ticket) if f.position_id else "",
            )
            for f in account.fills.filter(time__gte=since)
            .select_related("order", "instrument", "position")
            .order_by("time", "id")
        ]

    def reconcile(self, account: TradingAccount, *, trigger: str):
        """The paper book lives in the database, so there is no divergence to
        find with a broker; what can go wrong is time: GTD orders whose expiry
        passed without a tick, and the working-instrument set in Redis."""
        from django.db import transaction
        from django.utils import timezone

        actions = []
        with transaction.atomic():
            expired = (
                Order.objects.select_for_update()
                .filter(account=account, status__in=WORKING, expire_at__lte=timezone.now())
                .select_related("account", "instrument")
            )
            for order in expired:
                services.order_transition(
                    order=order,
                    to_status=Order.Status.EXPIRED,
                    actor="reconcile",
                    data={"reason": "GTD expiry passed"},
                )
                actions.append({"action": "expired", "order": order.client_order_id})
        working = refresh_working()
        return services.reconciliation_record(
            account=account,
            trigger=trigger,
            actions=actions,
            checked={"working_instruments": len(working)},
        )


BROKER = PaperBroker()
