"""The accounting functions with floats (as the backtest engine calls them)
agree with the same functions on ``Decimal`` (as live trading calls them) to
well under a cent over a random sequence of fills, commissions and swaps."""

from datetime import date, timedelta
from decimal import Decimal as D

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.trading import accounting as acc
from apps.trading.tests.test_accounting import EURJPY, QUOTES


def as_floats(spec: acc.Spec) -> acc.Spec:
    return acc.Spec(
        spec.symbol,
        spec.base,
        spec.quote,
        float(spec.contract_size),
        float(spec.point),
        float(spec.margin_rate),
        float(spec.swap_long),
        float(spec.swap_short),
    )


FLOAT_QUOTES = {s: acc.Quote(float(q.bid), float(q.ask)) for s, q in QUOTES.items()}


def run(spec, quotes, fills, number):
    """Book ``fills`` (lots in hundredths, price in points) on a netting position."""
    lots, average, balance = number(0), None, number(0)
    day = date(2026, 1, 5)
    for hundredths, points in fills:
        quantity = number(hundredths) / 100
        price = number(160_000 + points) / 1000
        effect = acc.apply_fill(spec, lots, average, quantity, price)
        balance += acc.convert(effect.realized_quote, spec.quote, "USD", quotes)
        balance -= acc.commission(
            quantity=quantity,
            price=price,
            spec=spec,
            account_ccy="USD",
            quotes=quotes,
            per_lot=number(7) / 2,
            per_million=number(25),
        )
        lots, average = effect.quantity, effect.average_price
        if lots:
            balance += acc.swap(spec, lots, day, "USD", quotes)
        day += timedelta(days=1)
    open_pnl = acc.unrealized_pnl(spec, lots, average, "USD", quotes) if lots else 0
    margin = acc.margin(spec, lots, "USD", quotes, number(100)) if lots else 0
    return balance, open_pnl, margin


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-500, 500).filter(bool),  # hundredths of a lot
            st.integers(0, 10_000),  # price 160.000 .. 170.000 in points
        ),
        min_size=1,
        max_size=40,
    )
)
def test_floats_agree_with_decimals_to_the_cent(fills):
    exact = run(EURJPY, QUOTES, fills, D)
    fast = run(as_floats(EURJPY), FLOAT_QUOTES, fills, float)
    for a, b in zip(exact, fast, strict=True):
        assert abs(float(a) - b) < 0.005


def test_float_arithmetic_keeps_floats():
    spec = as_floats(EURJPY)
    effect = acc.apply_fill(spec, 0.0, None, 1.0, 165.0)
    assert isinstance(effect.average_price, float) and isinstance(effect.realized_quote, float)
    closed = acc.apply_fill(spec, 1.0, 165.0, -1.0, 166.0)
    assert closed.quantity == 0 and isinstance(closed.realized_quote, float)
    assert isinstance(acc.convert(100000.0, "JPY", "USD", FLOAT_QUOTES), float)
    assert acc.conversion_rate("USD", "USD", FLOAT_QUOTES) == 1


def test_money_rounds_arrays_exactly_as_round_rounds_floats():
    rng = np.random.default_rng(3)
    values = np.r_[
        rng.normal(0, 1e4, 50_000),
        np.round(rng.normal(0, 1e3, 50_000), 9),  # many halves at the 8th place
        np.round(rng.normal(0, 10, 20_000), 8) + 5e-9,
    ]
    assert acc.money(values).tolist() == [round(v, 8) for v in values.tolist()]
    assert acc.round_places(values, 2).tolist() == [round(v, 2) for v in values.tolist()]
