"""The paper broker: fills from live quotes through the matching engine.

Market orders (and marketable limits) are filled when the execution task
runs; the account's ``broker_config`` sets ``slippage_points``,
``latency_ms`` and ``liquidity_lots_per_tick``. Deal ids are derived from the
order and its fill count, so a task delivered twice books nothing twice.
"""

from __future__ import annotations

import time as _time
from datetime import UTC, datetime
from decimal import Decimal

from apps.marketdata import live
from apps.trading import matching, services
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
    quote = live.quotes_get([order.instrument.symbol])[0]
    if not quote or not quote.get("bid") or not quote.get("ask"):
        return None
    return matching.Quote(int(quote["ts"]) * 1000, Decimal(quote["bid"]), Decimal(quote["ask"]))


def to_paper(order: Order) -> matching.PaperOrder:
    return matching.PaperOrder(
        id=str(order.pk),
        side=order.side,
        type=order.type,
        quantity=order.quantity,
        submitted_at_us=int(order.created_at.timestamp() * 1_000_000),
        price=order.price,
        stop_price=order.stop_price,
        time_in_force=order.time_in_force,
        expire_at_us=int(order.expire_at.timestamp() * 1_000_000) if order.expire_at else None,
        filled=order.filled_quantity,
        triggered=order.triggered,
        resting=order.resting,
        terminal=order.is_final,
    )


def book(order: Order, paper: matching.PaperOrder, result: matching.Result) -> None:
    """Record what the engine did to one order (inside the caller's transaction)."""
    executions, transitions = result
    for execution in executions:
        services.fill_apply(
            order=order,
            quantity=execution.quantity,
            price=execution.price,
            time=datetime.fromtimestamp(execution.time_us / 1e6, tz=UTC),
            broker_deal_id=f"paper-{order.pk}-{order.filled_quantity}",
            actor="broker:paper",
        )
    for transition in transitions:
        if transition.status in (Order.Status.CANCELLED, Order.Status.EXPIRED):
            services.order_transition(
                order=order,
                to_status=transition.status,
                actor="broker:paper",
                data={"reason": transition.reason},
            )
    if (order.triggered, order.resting) != (paper.triggered, paper.resting):
        Order.objects.filter(pk=order.pk).update(triggered=paper.triggered, resting=paper.resting)


def submit(order: Order) -> None:
    """Accept a new order and execute what the current quote allows."""
    services.order_transition(order=order, to_status=Order.Status.ACCEPTED, actor="broker:paper")
    paper = to_paper(order)
    result = engine_for(order.account, order).submit(
        paper, current_quote(order), _time.time_ns() // 1000
    )
    book(order, paper, result)
