"""Trading arithmetic against hand-computed figures.

Quotes (bid/ask → mid): EURUSD 1.10000/1.10010 → 1.10005; USDJPY 150.000/150.020
→ 150.010; EURJPY 165.000/165.030 → 165.015; GBPUSD 1.27000/1.27010; USDCHF
0.88000/0.88010.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from apps.trading import accounting as acc

EURUSD = acc.Spec(
    "EURUSD", "EUR", "USD", D(100000), D("0.00001"), D("0.033333"), D("-6.5"), D("1.2")
)
USDJPY = acc.Spec(
    "USDJPY", "USD", "JPY", D(100000), D("0.001"), D("0.033333"), D("14.8"), D("-27.9")
)
EURJPY = acc.Spec("EURJPY", "EUR", "JPY", D(100000), D("0.001"), D("0.05"), D("9.7"), D("-21.3"))
QUOTES = {
    "EURUSD": acc.Quote(D("1.10000"), D("1.10010")),
    "USDJPY": acc.Quote(D("150.000"), D("150.020")),
    "EURJPY": acc.Quote(D("165.000"), D("165.030")),
    "GBPUSD": acc.Quote(D("1.27000"), D("1.27010")),
    "USDCHF": acc.Quote(D("0.88000"), D("0.88010")),
}


def test_usd_quoted_pair_on_a_usd_account():
    # 1 lot × 100,000 × (1.10100 − 1.10000) = 100 USD
    assert acc.pnl(EURUSD, D(1), D("1.10000"), D("1.10100"), "USD", QUOTES) == D("100.00000000")


def test_jpy_quoted_pair_converts_at_usdjpy():
    # 100,000 × 0.5 = 50,000 JPY; / 150.010 = 333.31111259 USD
    assert acc.pnl(USDJPY, D(1), D("150.000"), D("150.500"), "USD", QUOTES) == D("333.31111259")
    # A USD account trading EURJPY: short 2 lots 165.000 → 164.000 = +200,000 JPY → USD at USDJPY
    assert acc.pnl(EURJPY, D(-2), D("165.000"), D("164.000"), "USD", QUOTES) == D("1333.24445037")


def test_eur_account_converts_usd_and_jpy_profits():
    # +100 USD / 1.10005 = 90.90495887 EUR
    assert acc.pnl(EURUSD, D(1), D("1.10000"), D("1.10100"), "EUR", QUOTES) == D("90.90495887")
    # +50,000 JPY / EURJPY 165.015 = 303.00275733 EUR
    assert acc.pnl(USDJPY, D(1), D("150.000"), D("150.500"), "EUR", QUOTES) == D("303.00275733")


def test_cross_conversion_goes_through_usd():
    rate = acc.conversion_rate("CHF", "GBP", QUOTES)
    assert rate == (D(1) / D("0.88005")) * (D(1) / D("1.27005"))
    with pytest.raises(acc.ConversionError):
        acc.conversion_rate("SEK", "USD", QUOTES)


def test_margin_in_the_account_currency():
    # 100,000 EUR × 0.033333 = 3,333.3 EUR × 1.10005 = 3,666.796665 USD
    assert acc.margin(EURUSD, D(1), "USD", QUOTES) == D("3666.79666500")
    # USDJPY on a USD account: 100,000 × 0.033333 = 3,333.30 USD
    assert acc.margin(USDJPY, D(-1), "USD", QUOTES) == D("3333.30000000")
    # Leverage 1:10 is stricter than 1:30: 10% of notional
    assert acc.margin(USDJPY, D(1), "USD", QUOTES, leverage=D(10)) == D("10000.00000000")


def test_unrealized_uses_the_closing_side():
    # Long EURUSD closes at bid 1.10000: from 1.09900 that is +100 USD
    assert acc.unrealized_pnl(EURUSD, D(1), D("1.09900"), "USD", QUOTES) == D("100.00000000")
    # Short closes at ask 1.10010: from 1.10110 that is +100 USD
    assert acc.unrealized_pnl(EURUSD, D(-1), D("1.10110"), "USD", QUOTES) == D("100.00000000")


def test_swap_with_the_wednesday_triple():
    tuesday, wednesday = date(2024, 1, 9), date(2024, 1, 10)
    # Long EURUSD: 1 lot × 100,000 × 0.00001 × −6.5 = −6.5 USD a night
    assert acc.swap(EURUSD, D(1), tuesday, "USD", QUOTES) == D("-6.50000000")
    assert acc.swap(EURUSD, D(1), wednesday, "USD", QUOTES) == D("-19.50000000")
    # Long USDJPY: 100,000 × 0.001 × 14.8 = 1,480 JPY / 150.010 = 9.86600893 USD
    assert acc.swap(USDJPY, D(1), tuesday, "USD", QUOTES) == D("9.86600893")
    # Short USDJPY for 5 lots on Wednesday: 5 × 100 × −27.9 × 3 = −41,850 JPY
    assert acc.swap(USDJPY, D(-5), wednesday, "USD", QUOTES) == acc.money(D(-41850) / D("150.010"))


def test_commission_per_lot_and_per_notional():
    assert acc.commission(
        quantity=D("2.5"),
        price=D("1.1"),
        spec=EURUSD,
        account_ccy="USD",
        quotes=QUOTES,
        per_lot=D("3.50"),
    ) == D("8.75000000")
    # 1 lot EURUSD at 1.1: notional 110,000 USD × 25 per million = 2.75 USD
    assert acc.commission(
        quantity=D(1),
        price=D("1.1"),
        spec=EURUSD,
        account_ccy="USD",
        quotes=QUOTES,
        per_million=D(25),
    ) == D("2.75000000")


def test_netting_fills_scale_in_close_and_reverse():
    opened = acc.apply_fill(EURUSD, D(0), None, D(1), D("1.10000"))
    assert (opened.quantity, opened.average_price) == (D(1), D("1.10000"))
    added = acc.apply_fill(EURUSD, D(1), D("1.10000"), D(1), D("1.10200"))
    assert (added.quantity, added.average_price) == (D(2), D("1.10100"))
    partial = acc.apply_fill(EURUSD, D(2), D("1.10100"), D("-0.5"), D("1.10300"))
    # 0.5 × 100,000 × 0.002 = 100 USD realised; the rest keeps its price
    assert (partial.quantity, partial.average_price, partial.realized_quote) == (
        D("1.5"),
        D("1.10100"),
        D("100.00000"),
    )
    reversed_ = acc.apply_fill(EURUSD, D("1.5"), D("1.10100"), D("-2.5"), D("1.10000"))
    assert reversed_.quantity == D(-1) and reversed_.average_price == D("1.10000")
    assert reversed_.closed == D("1.5") and reversed_.realized_quote == D("-150.00000")
    flat = acc.apply_fill(EURUSD, D(-1), D("1.10000"), D(1), D("1.09000"))
    assert (
        flat.quantity == 0 and flat.average_price is None and flat.realized_quote == D("1000.00000")
    )


def test_account_summary():
    result = acc.summary(
        balance=D("100000"),
        positions=[(EURUSD, D(1), D("1.09900")), (USDJPY, D(-1), D("150.020"))],
        account_ccy="USD",
        quotes=QUOTES,
    )
    # EURUSD +100; USDJPY short closes at ask 150.020: 0
    assert result.unrealized_pnl == D("100.00000000")
    assert result.equity == D("100100.00000000")
    assert result.margin == D("3666.79666500") + D("3333.30000000")
    assert result.free_margin == result.equity - result.margin
    assert result.margin_level == (result.equity / result.margin * 100).quantize(D("0.01"))


lots = st.decimals(min_value=D("0.01"), max_value=D("50"), places=2)
prices = st.decimals(min_value=D("0.5"), max_value=D("2"), places=5)


@given(st.lists(st.tuples(st.booleans(), lots, prices), min_size=1, max_size=30), prices)
def test_realised_plus_open_pnl_equals_the_sum_over_fills(fills, final_price):
    """Whatever the order of fills, realised + open P&L equals the P&L of
    every fill marked to the final price (no money appears or vanishes)."""
    quantity, average, realized = D(0), None, D(0)
    for is_buy, size, price in fills:
        effect = acc.apply_fill(EURUSD, quantity, average, size if is_buy else -size, price)
        quantity, average, realized = (
            effect.quantity,
            effect.average_price,
            realized + effect.realized_quote,
        )
    open_pnl = (
        acc.pnl_quote_ccy(EURUSD, quantity, average or D(0), final_price) if quantity else D(0)
    )
    expected = sum(
        acc.pnl_quote_ccy(EURUSD, size if is_buy else -size, price, final_price)
        for is_buy, size, price in fills
    )
    assert abs(realized + open_pnl - expected) < acc.MONEY
