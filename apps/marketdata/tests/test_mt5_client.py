"""MT5Client against the fake MetaTrader5 module (pure Python, no database)."""

from __future__ import annotations

import importlib
import random
import sys
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.marketdata.batches import BarBatch, TickBatch
from apps.marketdata.mt5.client import (
    LastTick,
    MT5CallError,
    MT5Client,
    MT5ConnectionError,
    MT5SymbolNotFound,
    MT5Unavailable,
    TickCursor,
)
from apps.marketdata.mt5.fake import (
    RATES_DTYPE,
    TICK_DTYPE,
    FakeBroker,
    FakeMetaTrader5,
    FakeSymbol,
    install,
)

NOW = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)  # a Wednesday
NOW_MS = int(NOW.timestamp() * 1000)
INFO = 1

# The dtypes printed by the real module (see the client's report for sources).
REAL_TICK_DTYPE = [
    ("time", "<i8"), ("bid", "<f8"), ("ask", "<f8"), ("last", "<f8"), ("volume", "<u8"),
    ("time_msc", "<i8"), ("flags", "<u4"), ("volume_real", "<f8"),
]  # fmt: skip
REAL_RATES_DTYPE = [
    ("time", "<i8"), ("open", "<f8"), ("high", "<f8"), ("low", "<f8"), ("close", "<f8"),
    ("tick_volume", "<u8"), ("spread", "<i4"), ("real_volume", "<u8"),
]  # fmt: skip


def make_fake(**broker: object) -> FakeMetaTrader5:
    return FakeMetaTrader5(FakeBroker(**broker), now=NOW)  # type: ignore[arg-type]


def make_client(fake: FakeMetaTrader5, **kwargs: object) -> tuple[MT5Client, list[float]]:
    sleeps: list[float] = []
    options: dict[str, object] = {"sleep": sleeps.append, "max_backoff": 4.0}
    options.update(kwargs)
    client = MT5Client(module=fake, rng=random.Random(7), **options)  # type: ignore[arg-type]
    return client, sleeps


@pytest.fixture
def fake() -> FakeMetaTrader5:
    return make_fake()


@pytest.fixture
def client(fake: FakeMetaTrader5) -> MT5Client:
    return make_client(fake)[0].connect()


def reference_ticks(fake: FakeMetaTrader5, symbol: str, after_ms: int) -> np.ndarray:
    """Every tick after ``after_ms`` up to the fake's clock, in one request."""
    assert fake.initialize()
    ticks = fake.copy_ticks_range(symbol, after_ms // 1000, fake.now_msc // 1000 + 1, INFO)
    return ticks[ticks["time_msc"] > after_ms]


def concat(batches: list[TickBatch]) -> TickBatch:
    return TickBatch(
        time_us=np.concatenate([b.time_us for b in batches] or [np.empty(0, np.int64)]),
        bid=np.concatenate([b.bid for b in batches] or [np.empty(0)]),
        ask=np.concatenate([b.ask for b in batches] or [np.empty(0)]),
    )


def assert_same_ticks(batch: TickBatch, ticks: np.ndarray) -> None:
    assert len(batch) == len(ticks)
    np.testing.assert_array_equal(batch.time_us, ticks["time_msc"] * 1000)
    np.testing.assert_array_equal(batch.bid, ticks["bid"])
    np.testing.assert_array_equal(batch.ask, ticks["ask"])


# ---------------------------------------------------------------- the fake module


def test_constants_have_the_real_values(fake: FakeMetaTrader5) -> None:
    assert (fake.TIMEFRAME_M1, fake.TIMEFRAME_M5, fake.TIMEFRAME_M15, fake.TIMEFRAME_M30) == (
        1, 5, 15, 30,
    )  # fmt: skip
    assert (fake.TIMEFRAME_H1, fake.TIMEFRAME_H4, fake.TIMEFRAME_D1) == (16385, 16388, 16408)
    assert (fake.TIMEFRAME_W1, fake.TIMEFRAME_MN1) == (32769, 49153)
    assert (fake.COPY_TICKS_ALL, fake.COPY_TICKS_INFO, fake.COPY_TICKS_TRADE) == (-1, 1, 2)
    assert (fake.TICK_FLAG_BID, fake.TICK_FLAG_ASK, fake.TICK_FLAG_LAST) == (2, 4, 8)
    assert (fake.TICK_FLAG_VOLUME, fake.TICK_FLAG_BUY, fake.TICK_FLAG_SELL) == (16, 32, 64)
    assert (fake.RES_S_OK, fake.RES_E_FAIL, fake.RES_E_INVALID_PARAMS) == (1, -1, -2)
    assert (fake.RES_E_NOT_FOUND, fake.RES_E_AUTH_FAILED) == (-4, -6)
    assert (fake.RES_E_INTERNAL_FAIL_CONNECT, fake.RES_E_INTERNAL_FAIL_TIMEOUT) == (-10004, -10005)


def test_structured_arrays_have_the_real_dtypes(fake: FakeMetaTrader5) -> None:
    assert TICK_DTYPE.descr == REAL_TICK_DTYPE
    assert RATES_DTYPE.descr == REAL_RATES_DTYPE
    assert fake.initialize()
    ticks = fake.copy_ticks_from("EURUSD.m", NOW - timedelta(minutes=5), 50, fake.COPY_TICKS_ALL)
    rates = fake.copy_rates_from_pos("EURUSD.m", fake.TIMEFRAME_M1, 0, 10)
    assert ticks.dtype.descr == REAL_TICK_DTYPE and len(ticks) == 50
    assert rates.dtype.descr == REAL_RATES_DTYPE and len(rates) == 10
    empty = fake.copy_ticks_range("EURUSD.m", NOW, NOW, fake.COPY_TICKS_ALL)
    assert empty.dtype == TICK_DTYPE and len(empty) == 0


def test_named_tuples_have_the_real_fields(fake: FakeMetaTrader5) -> None:
    assert fake.initialize()
    info = fake.symbol_info("EURUSD.m")
    assert type(info).__name__ == "SymbolInfo" and len(info) == 96
    assert info._fields[:4] == ("custom", "chart_mode", "select", "visible")
    assert info._fields[-3:] == ("name", "page", "path")
    assert (info.name, info.digits, info.point, info.trade_contract_size) == (
        "EURUSD.m", 5, 1e-05, 100000.0,
    )  # fmt: skip
    assert (info.currency_base, info.currency_profit, info.visible) == ("EUR", "USD", True)
    tick = fake.symbol_info_tick("EURUSD.m")
    assert tick._fields == (
        "time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real",
    )  # fmt: skip
    assert tick.time == tick.time_msc // 1000 and tick.bid < tick.ask
    account, terminal = fake.account_info(), fake.terminal_info()
    assert len(account) == 28 and account._fields[0] == "login" and account[-1] == account.company
    assert len(terminal) == 22 and terminal.connected and terminal.maxbars == 100_000
    assert fake.version() == (500, 4755, "24 Jan 2025")


def test_failures_return_none_and_set_last_error_like_the_real_module(
    fake: FakeMetaTrader5,
) -> None:
    assert fake.symbol_info_tick("EURUSD.m") is None
    assert fake.last_error() == (-10004, "No IPC connection")
    assert fake.initialize(password="x") is False
    assert fake.last_error() == (-2, "Invalid params")
    assert fake.initialize(login="51234567") is False  # type: ignore[arg-type]
    assert fake.last_error() == (-2, "Terminal: Invalid params")
    assert fake.initialize(login=1, password="x", server="FakeBroker-Demo") is False
    assert fake.last_error() == (-6, "Terminal: Authorization failed")
    fake.fail_next_initialize(1)
    assert fake.initialize() is False and fake.last_error() == (-10005, "IPC timeout")
    assert fake.initialize(login=51234567, password="demo-password", timeout=5000) is True
    assert fake.last_error() == (1, "Success")
    assert fake.symbol_info("NOPE") is None
    assert fake.last_error() == (-4, "Terminal: Not found")
    year = fake.copy_rates_range("EURUSD.m", fake.TIMEFRAME_M1, NOW - timedelta(days=70), NOW)
    assert year is None and fake.last_error() == (-2, "Terminal: Invalid params")
    hidden = fake.copy_ticks_from("AUDUSD.m", NOW, 10, INFO)  # not in Market Watch
    assert hidden is None and fake.last_error() == (-2, "Terminal: Invalid params")
    fake.disconnect()
    assert fake.copy_ticks_from("EURUSD.m", NOW, 10, INFO) is None
    assert fake.last_error() == (-10004, "No IPC connection")
    assert fake.symbol_select("EURUSD.m", True) is False


def test_tick_history_is_a_realistic_deterministic_feed(fake: FakeMetaTrader5) -> None:
    assert fake.initialize()
    start = datetime(2024, 3, 6, 9, 0)  # naive: UTC, as the real module takes it
    ticks = fake.copy_ticks_range("EURUSD.m", start, NOW, fake.COPY_TICKS_ALL)
    same = fake.copy_ticks_range(
        "EURUSD.m", start.replace(tzinfo=UTC), int(NOW.timestamp()), fake.COPY_TICKS_ALL
    )
    np.testing.assert_array_equal(ticks, same)
    other = make_fake()  # the same seed gives the same history
    assert other.initialize()
    np.testing.assert_array_equal(ticks, other.copy_ticks_range("EURUSD.m", start, NOW, -1))
    times = ticks["time_msc"]
    assert len(ticks) > 3000 and np.all(np.diff(times) >= 0)
    assert np.count_nonzero(np.diff(times) == 0) > 50  # millisecond ties
    assert np.array_equal(ticks["time"], times // 1000)
    assert np.all(ticks["ask"] > ticks["bid"])
    spread_points = np.round((ticks["ask"] - ticks["bid"]) * 1e5)
    assert spread_points.min() >= 1 and spread_points.max() <= 30
    flags = ticks["flags"]
    assert set(np.unique(flags)) == {2, 4, 6}
    ask_only = np.flatnonzero(flags == fake.TICK_FLAG_ASK)
    ask_only = ask_only[ask_only > 0]
    np.testing.assert_array_equal(ticks["bid"][ask_only], ticks["bid"][ask_only - 1])
    # copy_ticks_from: `count` ticks from the start second (inclusive), as the real call.
    first = fake.copy_ticks_from("EURUSD.m", int(times[100] // 1000), 5, INFO)
    assert first["time_msc"][0] >= times[100] // 1000 * 1000 and len(first) == 5
    assert len(fake.copy_ticks_range("EURUSD.m", start, NOW, fake.COPY_TICKS_TRADE)) == 0


def test_ticks_only_during_the_fx_week(fake: FakeMetaTrader5) -> None:
    assert fake.initialize()
    saturday = datetime(2024, 3, 2, tzinfo=UTC)
    fake.set_time(datetime(2024, 3, 4, tzinfo=UTC))
    friday_23h, sunday_23h = saturday - timedelta(hours=1), saturday + timedelta(hours=47)
    weekend = fake.copy_ticks_range("EURUSD.m", friday_23h, sunday_23h, INFO)
    assert len(weekend) > 0
    hours = {datetime.fromtimestamp(t, UTC).strftime("%a %H") for t in weekend["time"]}
    assert hours == {"Sun 22"}
    friday = fake.copy_ticks_range(
        "EURUSD.m", datetime(2024, 3, 1, 21, tzinfo=UTC), datetime(2024, 3, 1, 23, tzinfo=UTC), 1
    )
    assert datetime.fromtimestamp(int(friday["time"][-1]), UTC).hour == 21


def test_bars_agree_with_the_ticks(fake: FakeMetaTrader5) -> None:
    assert fake.initialize()
    start = NOW - timedelta(hours=2)
    bars = fake.copy_rates_range("EURUSD.m", fake.TIMEFRAME_M1, start, NOW - timedelta(minutes=1))
    ticks = fake.copy_ticks_range("EURUSD.m", start, NOW, fake.COPY_TICKS_ALL)
    assert len(bars) == 120
    for bar in bars[::17]:
        inside = ticks[(ticks["time"] >= bar["time"]) & (ticks["time"] < bar["time"] + 60)]
        assert bar["tick_volume"] == len(inside)
        assert (bar["open"], bar["close"]) == (inside["bid"][0], inside["bid"][-1])
        assert (bar["high"], bar["low"]) == (inside["bid"].max(), inside["bid"].min())
        assert bar["spread"] == np.round((inside["ask"] - inside["bid"]) * 1e5).min()
    last_two = fake.copy_rates_from_pos("EURUSD.m", fake.TIMEFRAME_H1, 0, 2)
    assert list(last_two["time"]) == [NOW.timestamp() - 7200, NOW.timestamp() - 3600]
    before = fake.copy_rates_from("EURUSD.m", fake.TIMEFRAME_H1, NOW - timedelta(hours=5), 3)
    assert int(before["time"][-1]) == NOW.timestamp() - 5 * 3600 and len(before) == 3


def test_advance_makes_new_ticks_appear(fake: FakeMetaTrader5) -> None:
    assert fake.initialize()
    before = fake.symbol_info_tick("EURUSD.m")
    fake.advance(120)
    after = fake.symbol_info_tick("EURUSD.m")
    assert NOW_MS < after.time_msc <= NOW_MS + 120_000 and after.time_msc > before.time_msc
    assert len(fake.copy_ticks_from("EURUSD.m", NOW, 10_000, INFO)) > 10


def test_install_puts_the_fake_in_sys_modules_and_restores() -> None:
    fake = make_fake()
    before = sys.modules.get("MetaTrader5")
    with install(fake):
        import MetaTrader5  # type: ignore[import-not-found]

        assert MetaTrader5 is fake
        assert importlib.import_module("MetaTrader5") is fake
        client = MT5Client()
        assert client.mt5 is fake
    assert sys.modules.get("MetaTrader5") is before


# ---------------------------------------------------------------- connection


def test_missing_package_raises_mt5_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "MetaTrader5", None)  # import fails like on Linux
    client = MT5Client()  # the import is lazy: constructing works
    with pytest.raises(MT5Unavailable) as info:
        client.connect()
    assert "Windows" in str(info.value) and 'pip install -e ".[mt5]"' in str(info.value)
    assert isinstance(info.value, ImportError)


def test_connect_passes_credentials_and_context_manager_detaches(fake: FakeMetaTrader5) -> None:
    path = fake.broker.terminal_path
    client, _ = make_client(
        fake, terminal_path=path, login="51234567", password="demo-password",
        server="FakeBroker-Demo", timeout_ms=7000,
    )  # fmt: skip
    with client as connected:
        assert connected.connected and fake.connected
    assert not client.connected and not fake.connected
    name, args, kwargs = next(c for c in fake.calls if c[0] == "initialize")
    assert args == (path,)
    assert kwargs == {
        "login": 51234567, "password": "demo-password", "server": "FakeBroker-Demo",
        "timeout": 7000,
    }  # fmt: skip
    with pytest.raises(ValueError, match="need a login"):
        MT5Client(password="x", module=fake)


def test_reconnects_with_backoff_after_disconnect_and_failed_initialize(
    fake: FakeMetaTrader5,
) -> None:
    client, sleeps = make_client(fake, backoff_base=0.5, max_backoff=1.5)
    client.connect()
    batch, cursor = client.ticks_since("EURUSD", NOW_MS - 60_000)
    assert len(batch) > 0 and sleeps == []
    fake.disconnect()
    fake.fail_next_initialize(4)
    fake.advance(60)
    fake.reset_calls()
    batch, cursor = client.ticks_since("EURUSD", cursor)
    assert len(batch) > 0 and client.connected
    assert fake.call_names().count("initialize") == 5  # 4 failures, then success
    assert len(sleeps) == 4
    caps = [0.5, 1.0, 1.5, 1.5]  # exponential, capped by max_backoff
    for slept, cap in zip(sleeps, caps, strict=True):
        assert cap / 2 <= slept <= cap
    assert len(set(sleeps)) == 4  # jittered
    assert client.last_connect_error == (-10005, "IPC timeout")


def test_bounded_retries_raise_connection_error_with_the_code(fake: FakeMetaTrader5) -> None:
    client, sleeps = make_client(fake, connect_attempts=4)
    fake.fail_next_initialize(100)
    with pytest.raises(MT5ConnectionError) as info:
        client.connect()
    assert info.value.code == -10005 and info.value.mt5_message == "IPC timeout"
    assert "IPC timeout" in str(info.value) and "4 attempt" in str(info.value)
    assert fake.call_names().count("initialize") == 4 and len(sleeps) == 3
    assert all(s <= client.max_backoff for s in sleeps)


def test_wrong_credentials_and_invalid_params(fake: FakeMetaTrader5) -> None:
    client, _ = make_client(fake, login=51234567, password="wrong", connect_attempts=2)
    with pytest.raises(MT5ConnectionError) as info:
        client.connect()
    assert info.value.code == -6 and "Authorization failed" in str(info.value)
    other, sleeps = make_client(fake, connect_attempts=5)
    fake.fail_next_initialize(1, error=(-2, "Invalid params"))
    with pytest.raises(MT5ConnectionError) as info:
        other.connect()
    assert info.value.code == -2 and sleeps == []  # not curable by retrying


def test_ipc_failure_during_a_call_is_retried_after_reconnecting(
    fake: FakeMetaTrader5, client: MT5Client
) -> None:
    client.resolve_symbol("EURUSD")
    fake.disconnect()
    fake.reset_calls()
    tick = client.last_tick("EURUSD")
    assert isinstance(tick, LastTick) and client.connected
    names = fake.call_names()
    assert names[:3] == ["symbol_info_tick", "shutdown", "initialize"]  # failed, reattached
    assert names[-1] == "symbol_info_tick" and ("symbol_select", ("EURUSD.m", True), {}) in (
        fake.calls
    )  # Market Watch restored after reattaching
    native = fake.symbol_info_tick("EURUSD.m")
    assert (tick.time_msc, tick.bid, tick.ask) == (native.time_msc, native.bid, native.ask)
    assert tick.time_us == native.time_msc * 1000 and tick.broker_symbol == "EURUSD.m"


# ---------------------------------------------------------------- symbols


def test_resolves_suffixed_symbols_and_caches(fake: FakeMetaTrader5, client: MT5Client) -> None:
    assert client.resolve_symbol("EURUSD") == "EURUSD.m"
    assert client.resolve_symbol("eurusd") == "EURUSD.m"
    assert fake.call_names().count("symbols_get") == 1
    assert ("symbol_select", ("EURUSD.m", True), {}) in fake.calls
    assert client.resolve_symbol("AUDUSD") == "AUDUSD.m"  # hidden: selected into Market Watch
    assert fake.symbol_info("AUDUSD.m").visible
    assert len(client.ticks_since("AUDUSD", NOW_MS - 60_000)[0]) > 0
    with pytest.raises(MT5SymbolNotFound):
        client.resolve_symbol("EURCHF")


def test_explicit_map_exact_name_and_visible_preference() -> None:
    fake = make_fake(
        symbols=[
            FakeSymbol("EURUSD.pro", "EUR", "USD", 5, 1.085, visible=False),
            FakeSymbol("EURUSDm", "EUR", "USD", 5, 1.085),
            FakeSymbol("GBPUSD", "GBP", "USD", 5, 1.27),
            FakeSymbol("GBPUSD.m", "GBP", "USD", 5, 1.27),
            FakeSymbol("GOLD", "XAU", "USD", 2, 2030.0),
        ]
    )
    client, _ = make_client(fake, symbol_map={"xauusd": "GOLD", "USDJPY": "USDJPY.x"})
    client.connect()
    assert client.resolve_symbol("EURUSD") == "EURUSDm"  # visible beats hidden
    assert client.resolve_symbol("GBPUSD") == "GBPUSD"  # the exact name first
    assert client.resolve_symbol("XAUUSD") == "GOLD"
    with pytest.raises(MT5SymbolNotFound, match="USDJPY.x"):
        client.resolve_symbol("USDJPY")


def test_symbol_spec(client: MT5Client) -> None:
    spec = client.symbol_spec("USDJPY")
    assert spec == {
        "symbol": "USDJPY", "broker_symbol": "USDJPY.m", "description": "USD vs JPY",
        "digits": 3, "point": 0.001, "tick_size": 0.001, "contract_size": 100000.0,
        "volume_min": 0.01, "volume_step": 0.01, "volume_max": 200.0, "swap_long": 14.1,
        "swap_short": -28.3, "swap_mode": 1, "base_currency": "USD", "quote_currency": "JPY",
        "margin_currency": "USD",
    }  # fmt: skip


# ---------------------------------------------------------------- tick polling


def poll_live(
    client: MT5Client,
    fake: FakeMetaTrader5,
    cursor: int,
    steps: list[float],
    max_ticks: int,
    keep_int_only: bool = False,
) -> tuple[list[TickBatch], int]:
    batches = []
    for seconds in steps:
        fake.advance(seconds)
        batch, cursor = client.ticks_since("EURUSD", cursor, max_ticks=max_ticks)
        assert isinstance(cursor, int)
        if keep_int_only:
            cursor = int(cursor)  # what a database column would keep
        batches.append(batch)
    while True:  # drain what the last polls could not carry
        batch, cursor = client.ticks_since("EURUSD", cursor, max_ticks=max_ticks)
        if not len(batch):
            return batches, cursor
        batches.append(batch)


@pytest.mark.parametrize(("keep_int_only", "max_ticks"), [(False, 7), (True, 3), (False, 1000)])
def test_polling_delivers_every_tick_exactly_once(keep_int_only: bool, max_ticks: int) -> None:
    fake = make_fake(tie_probability=0.35, tick_rate=2.0)
    client, _ = make_client(fake)
    start = NOW_MS - 30_000
    rng = random.Random(11)
    steps = [rng.choice([0, 0.001, 0.002, 0.25, 1.0, 3.7, 12.0]) for _ in range(150)]
    batches, cursor = poll_live(client, fake, start, steps, max_ticks, keep_int_only)
    got = concat(batches)
    expected = reference_ticks(fake, "EURUSD.m", start)
    assert len(expected) > 300
    assert np.count_nonzero(np.diff(expected["time_msc"]) == 0) > 50  # many ties crossed
    assert_same_ticks(got, expected)
    assert int(cursor) == int(expected["time_msc"][-1])


def test_a_tick_arriving_later_at_a_delivered_millisecond_is_delivered_once(
    fake: FakeMetaTrader5, client: MT5Client
) -> None:
    batch, cursor = client.ticks_since("EURUSD", NOW_MS - 60_000)
    last_ms = int(batch.time_us[-1] // 1000)
    assert isinstance(cursor, TickCursor) and int(cursor) == last_ms and cursor.seen >= 1
    fake.add_ticks("EURUSD.m", [(last_ms, 1.08001, 1.08011), (last_ms, 1.08002, 1.08012)])
    late, cursor2 = client.ticks_since("EURUSD", cursor)
    assert list(late.time_us) == [last_ms * 1000] * 2 and list(late.bid) == [1.08001, 1.08002]
    assert int(cursor2) == last_ms and cursor2.seen == cursor.seen + 2
    again, cursor3 = client.ticks_since("EURUSD", cursor2)
    assert len(again) == 0 and cursor3 is cursor2
    # A plain int cursor means "everything at that millisecond was delivered".
    assert len(client.ticks_since("EURUSD", int(cursor))[0]) == 0


def test_a_millisecond_with_more_ticks_than_max_ticks_is_never_split(
    fake: FakeMetaTrader5, client: MT5Client
) -> None:
    burst_ms = NOW_MS + 500
    burst = [(burst_ms, 1.09 + i * 1e-5, 1.0901 + i * 1e-5) for i in range(8)]
    fake.add_ticks("EURUSD.m", burst)
    fake.advance(30)
    cursor = TickCursor(burst_ms - 1)
    batch, cursor = client.ticks_since("EURUSD", cursor, max_ticks=3)
    assert list(batch.time_us) == [burst_ms * 1000] * 8
    assert list(batch.bid) == [bid for _, bid, _ in burst]
    assert (int(cursor), cursor.seen) == (burst_ms, 8)
    batch, cursor = client.ticks_since("EURUSD", cursor, max_ticks=3)
    assert 1 <= len(batch) <= 3 and batch.time_us[0] > burst_ms * 1000


def test_read_further_when_the_head_of_the_second_fills_the_request(
    fake: FakeMetaTrader5, client: MT5Client
) -> None:
    head_ms = NOW_MS - 60_000 + 1  # many ticks in the cursor's second, all delivered
    before = reference_ticks(fake, "EURUSD.m", head_ms - 600_000)
    quote = before[before["time_msc"] <= head_ms][-1]  # repeat the current quote
    fake.add_ticks("EURUSD.m", [(head_ms, float(quote["bid"]), float(quote["ask"]))] * 3000)
    fake.reset_calls()
    batch, _ = client.ticks_since("EURUSD", TickCursor(head_ms), max_ticks=10)
    assert 8 <= len(batch) <= 10  # ends on a whole millisecond
    assert_same_ticks(batch, reference_ticks(fake, "EURUSD.m", head_ms)[: len(batch)])
    assert fake.call_names().count("copy_ticks_from") == 2  # 1034, then 4136 ticks


def test_gap_backfill_after_disconnect(fake: FakeMetaTrader5, client: MT5Client) -> None:
    _, cursor = client.ticks_since("EURUSD", NOW_MS - 10_000)
    fake.disconnect()
    fake.advance(15 * 60)  # the terminal was unreachable for 15 minutes
    fake.reset_calls()
    batch, new_cursor = client.ticks_since("EURUSD", cursor)
    assert "initialize" in fake.call_names()
    expected = reference_ticks(fake, "EURUSD.m", int(cursor))
    assert len(expected) > 300
    assert_same_ticks(batch, expected)
    assert int(new_cursor) == int(expected["time_msc"][-1])


def test_poll_selects_the_symbol_again_if_it_left_market_watch(
    fake: FakeMetaTrader5, client: MT5Client
) -> None:
    _, cursor = client.ticks_since("EURUSD", NOW_MS - 60_000)
    assert fake.symbol_select("EURUSD.m", False)  # removed from Market Watch by hand
    fake.advance(60)
    batch, _ = client.ticks_since("EURUSD", cursor)
    assert_same_ticks(batch, reference_ticks(fake, "EURUSD.m", int(cursor)))


def test_poll_failures_other_than_ipc_surface(
    fake: FakeMetaTrader5, client: MT5Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.resolve_symbol("EURUSD")

    def call_failed(*args: object) -> None:
        return fake._fail((-1, "Terminal: Call failed"))

    monkeypatch.setattr(fake, "copy_ticks_from", call_failed)
    with pytest.raises(MT5CallError) as info:
        client.ticks_since("EURUSD", NOW_MS - 60_000)
    assert (info.value.code, info.value.mt5_message) == (-1, "Terminal: Call failed")
    assert client.connected  # not a connection problem: no reconnect


def test_bounded_poll_with_until(fake: FakeMetaTrader5, client: MT5Client) -> None:
    start, until = NOW_MS - 600_000, NOW_MS - 300_000
    batch, cursor = client.ticks_since("EURUSD", start, until_msc=until)
    expected = reference_ticks(fake, "EURUSD.m", start)
    assert_same_ticks(batch, expected[expected["time_msc"] <= until])
    assert int(cursor) <= until and "copy_ticks_range" in fake.call_names()


def test_batch_columns_and_missing_sides_are_forward_filled() -> None:
    real = make_fake()
    zeroed = make_fake(zero_unchanged_side=True)  # same quotes, unchanged side reported as 0
    start = NOW_MS - 20 * 60_000
    real_client, zeroed_client = make_client(real)[0], make_client(zeroed)[0]
    steps = [10.0] * 12
    want = concat(poll_live(real_client, real, start, steps, max_ticks=25)[0])
    got_batches, _ = poll_live(zeroed_client, zeroed, start, steps, max_ticks=25)
    got = concat(got_batches)
    raw = reference_ticks(zeroed, "EURUSD.m", start)
    assert np.count_nonzero(raw["bid"] == 0) > 20 and np.count_nonzero(raw["ask"] == 0) > 20
    assert_same_ticks(got, reference_ticks(real, "EURUSD.m", start))
    np.testing.assert_array_equal(got.bid, want.bid)
    batch = got_batches[0]
    assert batch.time_us.dtype == np.int64 and batch.bid.dtype == np.float64
    assert batch.volume is not None and batch.volume.dtype == np.float64
    assert np.all(np.isnan(batch.volume))  # FX quotes carry no volume
    assert batch.errors == []


def test_a_tick_without_any_known_quote_is_reported() -> None:
    fake = make_fake(history_start=NOW - timedelta(minutes=30))
    first_ms = int((NOW - timedelta(minutes=30)).timestamp() * 1000)
    fake.add_ticks("EURUSD.m", [(first_ms, 0.0, 1.0851)])
    client, _ = make_client(fake)
    batch, cursor = client.ticks_since("EURUSD", first_ms - 1, max_ticks=20)
    assert len(batch.errors) == 1 and batch.errors[0].reason == "missing_quote"
    assert 15 <= len(batch) < 20 and np.all(batch.bid > 0)
    assert int(cursor) > first_ms


@settings(max_examples=25, deadline=None, database=None)
@given(
    steps=st.lists(st.sampled_from([0, 0.001, 0.003, 0.5, 2.0, 9.0]), min_size=1, max_size=40),
    max_ticks=st.integers(1, 12),
    tie_probability=st.sampled_from([0.0, 0.3, 0.7]),
    keep_int_only=st.booleans(),
)
def test_polling_property(
    steps: list[float], max_ticks: int, tie_probability: float, keep_int_only: bool
) -> None:
    fake = make_fake(tie_probability=tie_probability, tick_rate=3.0)
    client, _ = make_client(fake)
    start = NOW_MS - 3_000
    batches, _ = poll_live(client, fake, start, steps, max_ticks, keep_int_only)
    assert_same_ticks(concat(batches), reference_ticks(fake, "EURUSD.m", start))


# ---------------------------------------------------------------- bars


def bars_from_ticks(ticks: np.ndarray, seconds: int, point: float) -> dict[str, np.ndarray]:
    opens = ticks["time"] // seconds * seconds
    starts = np.flatnonzero(np.r_[True, opens[1:] != opens[:-1]])
    ends = np.r_[starts[1:], len(ticks)] - 1
    spread = np.round((ticks["ask"] - ticks["bid"]) / point)
    return {
        "time_us": opens[starts] * 1_000_000,
        "open": ticks["bid"][starts],
        "high": np.maximum.reduceat(ticks["bid"], starts),
        "low": np.minimum.reduceat(ticks["bid"], starts),
        "close": ticks["bid"][ends],
        "volume": (ends - starts + 1).astype(float),
        "spread": np.minimum.reduceat(spread, starts) * point,
    }


def assert_bars(batch: BarBatch, expected: dict[str, np.ndarray]) -> None:
    np.testing.assert_array_equal(batch.time_us, expected["time_us"])
    for name in ("open", "high", "low", "close", "volume", "spread"):
        np.testing.assert_allclose(getattr(batch, name), expected[name], rtol=0, atol=1e-9)


def test_rates_range_pages_below_maxbars_and_converts_spread() -> None:
    fake = make_fake(maxbars=200)
    client, _ = make_client(fake)
    start, end = NOW - timedelta(hours=10), NOW - timedelta(minutes=1)
    batch = client.rates_range("USDJPY", "M1", start, end)
    pages = [c for c in fake.calls if c[0] == "copy_rates_range"]
    assert len(pages) == 4
    for _, (_, tf, date_from, date_to), _ in pages:
        assert tf == fake.TIMEFRAME_M1 and (date_to - date_from) // 60 < 200
    assert [p[1][2] for p in pages[1:]] == [p[1][3] + 1 for p in pages[:-1]]  # contiguous
    ticks = reference_ticks(fake, "USDJPY.m", int(start.timestamp() * 1000) - 1)
    ticks = ticks[ticks["time"] <= end.timestamp() + 59]
    assert len(batch) == 600
    assert_bars(batch, bars_from_ticks(ticks, 60, 0.001))
    assert batch.spread is not None and batch.spread.min() >= 0.002  # points → price


def test_rates_range_halves_pages_when_maxbars_is_unknown() -> None:
    fake = make_fake(maxbars=300)
    fake.terminal_info = lambda: None  # type: ignore[method-assign]
    client, _ = make_client(fake, rates_page_bars=1000)
    start, end = NOW - timedelta(hours=12), NOW - timedelta(seconds=1)
    batch = client.rates_range("EURUSD", "M1", start, end)
    assert len(batch) == 720
    ticks = reference_ticks(fake, "EURUSD.m", int(start.timestamp() * 1000) - 1)
    assert_bars(batch, bars_from_ticks(ticks, 60, 1e-5))
    spans = [(c[1][3] - c[1][2]) // 60 + 1 for c in fake.calls if c[0] == "copy_rates_range"]
    assert spans[:3] == [720, 500, 250]  # refused twice, then pages of 250 bars


def test_rates_range_other_timeframes_and_empty_weekend(client: MT5Client) -> None:
    weekly = client.rates_range("EURUSD", "W1", datetime(2024, 1, 28), NOW)
    days = [datetime.fromtimestamp(t / 1e6, UTC).strftime("%a %H:%M") for t in weekly.time_us]
    assert days == ["Sun 00:00"] * 6
    daily = client.rates_range("EURUSD", "d1", datetime(2024, 3, 4), datetime(2024, 3, 6))
    assert len(daily) == 3 and np.all(daily.high >= daily.low)
    weekend = client.rates_range("EURUSD", "H1", datetime(2024, 3, 2), datetime(2024, 3, 3, 12))
    assert len(weekend) == 0 and weekend.time_us.dtype == np.int64
    with pytest.raises(ValueError, match="timeframe"):
        client.rates_range("EURUSD", "M7", NOW, NOW)


def test_gap_backfill_of_bars_after_disconnect(fake: FakeMetaTrader5, client: MT5Client) -> None:
    client.rates_range("EURUSD", "M1", NOW - timedelta(minutes=10), NOW)
    fake.disconnect()
    fake.advance(20 * 60)
    bars = client.rates_range("EURUSD", "M1", NOW, NOW + timedelta(minutes=19))
    assert len(bars) == 20 and client.connected
