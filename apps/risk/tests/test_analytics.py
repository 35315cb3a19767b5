"""Risk arithmetic: exposures netting across pairs, VaR/ES, correlation, hours."""

from datetime import UTC, datetime, time
from decimal import Decimal as D

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.risk import analytics
from apps.risk.analytics import Holding
from apps.trading.accounting import Quote, Spec


def spec(symbol: str, contract="100000") -> Spec:
    return Spec(symbol, symbol[:3], symbol[3:], D(contract), D("0.00001"), D("0.0333"))


QUOTES = {
    "EURUSD": Quote(D("1.25"), D("1.25")),
    "GBPUSD": Quote(D("1.5625"), D("1.5625")),
    "EURGBP": Quote(D("0.8"), D("0.8")),
    "USDJPY": Quote(D("100"), D("100")),
}


def test_eurusd_long_is_long_eur_short_usd():
    out = analytics.exposures([Holding(spec("EURUSD"), D("1"))], QUOTES, "USD")
    assert out["EUR"] == analytics.Exposure(D("125000"), D("125000"))
    assert out["USD"] == analytics.Exposure(D("-125000"), D("125000"))


def test_long_eurusd_and_short_eurgbp_net_out_the_euro():
    out = analytics.exposures(
        [Holding(spec("EURUSD"), D("1")), Holding(spec("EURGBP"), D("-1"))], QUOTES, "USD"
    )
    assert out["EUR"].net == 0 and out["EUR"].gross == D("250000")
    assert out["USD"].net == D("-125000")
    assert out["GBP"].net == D("125000")


def test_exposures_in_a_euro_account_and_through_yen():
    out = analytics.exposures([Holding(spec("USDJPY"), D("-2"))], QUOTES, "EUR")
    assert out["USD"].net == D("-160000")  # -200,000 USD at 1.25
    assert out["JPY"].net == D("160000")


def test_gross_notional_and_leverage():
    holdings = [Holding(spec("EURUSD"), D("2")), Holding(spec("USDJPY"), D("-1"))]
    notional = analytics.gross_notional(holdings, QUOTES, "USD")
    assert notional == D("350000")
    assert analytics.leverage(notional, D("35000")) == 10
    assert analytics.leverage(notional, D("0")) is None
    assert analytics.leverage(D("0"), D("-5")) == 0


CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CHF"]
PAIRS = ["EURUSD", "GBPUSD", "USDJPY", "USDCHF", "EURGBP", "EURJPY", "GBPJPY"]


@settings(max_examples=60, deadline=None)
@given(
    usd_values=st.lists(
        st.decimals(min_value="0.005", max_value="3", places=4), min_size=4, max_size=4
    ),
    lots=st.lists(st.decimals(min_value="-50", max_value="50", places=2), min_size=7, max_size=7),
    account_ccy=st.sampled_from(CURRENCIES),
)
def test_consistent_quotes_net_exposures_sum_to_zero(usd_values, lots, account_ccy):
    """With arbitrage-free quotes a position's two legs are worth the same, so
    the net exposures of any book add up to 0; gross is never below |net|;
    the opposite book has the opposite exposures."""
    value = dict(zip(["EUR", "GBP", "JPY", "CHF"], usd_values, strict=True), USD=D(1))
    quotes = {}
    for pair in PAIRS:
        mid = value[pair[:3]] / value[pair[3:]]
        quotes[pair] = Quote(mid, mid)
    book = [Holding(spec(p), q) for p, q in zip(PAIRS, lots, strict=True)]
    out = analytics.exposures(book, quotes, account_ccy)
    total = sum((e.net for e in out.values()), D(0))
    assert abs(total) < D("1e-12") * max(D(1), sum(e.gross for e in out.values()))
    for e in out.values():
        assert e.gross >= abs(e.net)
    flipped = analytics.exposures([Holding(h.spec, -h.lots) for h in book], quotes, account_ccy)
    assert {c: -e.net for c, e in out.items()} == {c: e.net for c, e in flipped.items()}


def test_historical_var_and_expected_shortfall():
    returns = np.linspace(-0.1, 0.098, 100).reshape(-1, 1)  # steps of 0.002
    rng = np.random.default_rng(1)
    rng.shuffle(returns)
    var95, var99 = analytics.historical_var_es(np.array([1000.0]), returns)
    # The five worst P&Ls: -100, -98, -96, -94, -92.
    assert (var95.var, var95.es) == pytest.approx((92.0, 96.0))
    assert (var99.var, var99.es) == pytest.approx((100.0, 100.0))
    # A short exposure loses on the rises.
    short = analytics.historical_var_es(np.array([-1000.0]), returns)[0]
    assert short.var == pytest.approx(90.0) and short.es == pytest.approx(94.0)


def test_var_adds_exposures_across_currencies():
    returns = np.array([[0.01, -0.01], [-0.02, 0.02], [0.005, 0.0]] * 10)
    hedged = analytics.historical_var_es(np.array([1000.0, 1000.0]), returns)[0]
    assert hedged.var == pytest.approx(0.0)
    one_way = analytics.historical_var_es(np.array([1000.0, -1000.0]), returns)[0]
    assert one_way.var == pytest.approx(40.0)


def test_correlation_of_currency_returns():
    x = np.array([0.01, -0.02, 0.015, 0.0, -0.005])
    corr = analytics.correlation(np.column_stack([x, 2 * x, -x, np.zeros(5)]))
    assert corr[0, 1] == pytest.approx(1.0) and corr[0, 2] == pytest.approx(-1.0)
    assert corr[0, 3] == 0.0 and corr[3, 3] == 1.0
    assert analytics.correlation(np.zeros((2, 2))) is None


def test_rate_history_and_the_symbols_a_conversion_uses():
    used = analytics.conversion_symbols(["EUR", "JPY", "GBP", "XAU"], "USD", QUOTES)
    assert used == {"EUR": {"EURUSD"}, "JPY": {"USDJPY"}, "GBP": {"GBPUSD"}}
    in_euros = analytics.conversion_symbols(["GBP"], "EUR", QUOTES)
    assert in_euros == {"GBP": {"EURGBP"}}
    rates = analytics.rate_history(
        ["EUR", "JPY"],
        "USD",
        [{"EURUSD": D("1.25"), "USDJPY": D("100")}, {"EURUSD": D("1.3"), "USDJPY": D("125")}],
    )
    assert rates == pytest.approx(np.array([[1.25, 0.01], [1.3, 0.008]]))
    assert analytics.returns(rates) == pytest.approx(np.array([[0.04, -0.2]]))


def test_within_hours():
    at = datetime(2024, 1, 10, 9, 30, tzinfo=UTC)
    assert analytics.within_hours(at, time(9, 30), time(10, 0))
    assert not analytics.within_hours(at, time(8, 0), time(9, 30))
    assert analytics.within_hours(at, time(22, 0), time(10, 0))
    assert analytics.within_hours(at, time(4, 0), time(5, 0), "America/New_York")


def test_projected_lots_takes_working_orders_on_the_side_that_adds_risk():
    assert analytics.projected_lots(D("1"), D("0.5"), D("3"), D("0.2")) == D("1.7")
    assert analytics.projected_lots(D("1"), D("0.5"), D("3"), D("-0.2")) == D("-2.2")
    assert analytics.projected_lots(D("1"), D("0.5"), D("3")) == D("-2")
    assert analytics.projected_lots(D("1"), D("0.5"), D("1")) == D("1.5")


def test_drawdown_and_margin_level():
    assert analytics.drawdown_pct(D("120000"), D("108000")) == 10
    assert analytics.drawdown_pct(None, D("1")) == 0
    assert analytics.drawdown_pct(D("100"), D("120")) == 0
    assert analytics.margin_level(D("1000"), D("500")) == 200
    assert analytics.margin_level(D("1000"), D("0")) is None
