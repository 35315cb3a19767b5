"""TWAP and VWAP algo orders: planning, slices sent once each, catch-up,
pause/resume/cancel, failure, and progress from paper fills."""

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.utils import timezone

from apps.marketdata import live
from apps.marketdata.models import Bar, DataSource, Instrument
from apps.trading import algo_tasks, algos, events, services
from apps.trading.errors import AccountNotActive, InvalidTransition
from apps.trading.models import AlgoOrder, Order
from apps.trading.tasks import execute_order

pytestmark = pytest.mark.django_db

T0 = datetime(2024, 1, 9, 10, 0, tzinfo=UTC)  # a Tuesday
MINUTE = timedelta(minutes=1)
_ts = iter(range(1_704_790_000_000, 1_804_790_000_000, 1000))


@pytest.fixture
def account(trader):
    return services.account_open(owner=trader, name="Paper", deposit=D("100000"))


@pytest.fixture
def eurusd():
    return Instrument.objects.get(symbol="EURUSD")


def quote(ask: str, spread: str = "0.00010") -> None:
    """The live EURUSD quote the paper broker fills market orders at."""
    live.quote_store(
        {
            "symbol": "EURUSD",
            "bid": str(D(ask) - D(spread)),
            "ask": ask,
            "time": "t",
            "ts": next(_ts),
            "source": "t",
            "simulated": True,
        }
    )


def create(account, eurusd, **kw) -> AlgoOrder:
    defaults = dict(
        account=account,
        instrument=eurusd,
        side="buy",
        strategy="twap",
        quantity=D("1.00"),
        start_at=T0,
        end_at=T0 + 3 * MINUTE,
        slice_count=3,
        user=account.owner,
        now=T0 - MINUTE,
    )
    algo, created = algos.algo_create(**{**defaults, **kw})
    assert created
    return algo


def step(algo, at):
    return algos.algo_step(algo_id=algo.pk, now=at)


def children(algo) -> list[Order]:
    return list(algos.algo_children(algo))


# --- planning ----------------------------------------------------------------


@pytest.mark.parametrize(
    "total,n,lot_min,expected",
    [
        ("1.00", 3, "0.01", ["0.33", "0.33", "0.34"]),  # remainder in the last slice
        ("1.00", 7, "0.01", ["0.14", "0.14", "0.14", "0.15", "0.14", "0.14", "0.15"]),
        ("0.05", 10, "0.01", ["0", "0.01", "0", "0.01", "0", "0.01", "0", "0.01", "0", "0.01"]),
        # Below lot_min: skipped and carried forward; the last 0.05 joins the
        # last slice that trades.
        ("0.25", 5, "0.10", ["0", "0.10", "0", "0.15", "0"]),
    ],
)
def test_quantities_on_the_lot_grid_with_the_rest_carried(total, n, lot_min, expected):
    quantities = algos.plan_quantities(
        total=D(total), weights=[D(1)] * n, lot_step=D("0.01"), lot_min=D(lot_min)
    )
    assert quantities == [D(q) for q in expected]
    assert sum(quantities) == D(total)


def test_interval_slices_and_time_weights():
    times = algos.slice_times(start=T0, end=T0 + 25 * MINUTE, interval_seconds=600)
    assert times == [T0, T0 + 10 * MINUTE, T0 + 20 * MINUTE]  # the last lasts 5 minutes
    weights = algos.twap_weights(times, T0 + 25 * MINUTE)
    quantities = algos.plan_quantities(
        total=D("1.00"), weights=weights, lot_step=D("0.01"), lot_min=D("0.01")
    )
    assert quantities == [D("0.40"), D("0.40"), D("0.20")]


def test_vwap_weights_follow_the_profile_pro_rata_within_a_minute():
    profile = {600: D(300), 601: D(100)}  # 10:00 and 10:01 UTC
    times = [T0, T0 + timedelta(seconds=30), T0 + MINUTE]
    assert algos.vwap_weights(times, T0 + 2 * MINUTE, profile) == [D(150), D(150), D(100)]


def test_vwap_plans_from_the_volume_of_the_same_minutes_on_previous_days(account, eurusd):
    source = DataSource.objects.get(name="synthetic")
    price = {"open": 1, "high": 1, "low": 1, "close": 1}
    Bar.objects.bulk_create(
        [
            Bar(instrument=eurusd, source=source, timeframe="M1", time=t, volume=v, **price)
            for t, v in [
                (T0 - timedelta(days=1), 300),  # 10:00 yesterday
                (T0 - timedelta(days=1) + MINUTE, 100),  # 10:01 yesterday
                (T0 - timedelta(days=2), 100),  # 10:00 the day before
                (T0 - timedelta(days=30), 10_000),  # outside the look-back
                (T0 + MINUTE, 10_000),  # after the start: never used (no look-ahead)
            ]
        ]
    )
    algo = create(account, eurusd, strategy="vwap", end_at=T0 + 2 * MINUTE, slice_count=2)
    # 10:00 traded 400, 10:01 traded 100: 80% and 20%.
    assert [s["quantity"] for s in algo.schedule] == ["0.80", "0.20"]
    assert algo.data["profile"] == {
        "kind": "volume",
        "timeframe": "M1",
        "source": "synthetic",
        "days": algos.VWAP_LOOKBACK_DAYS,
        "bars": 3,
    }


def test_vwap_without_history_is_uniform_and_says_so(account, eurusd):
    algo = create(account, eurusd, strategy="vwap", slice_count=4, end_at=T0 + 4 * MINUTE)
    assert [s["quantity"] for s in algo.schedule] == ["0.25", "0.25", "0.25", "0.25"]
    assert algo.data["profile"]["kind"] == "uniform"
    assert "No M1 or M5 volume history of EURUSD" in algo.data["profile"]["reason"]


# --- running -----------------------------------------------------------------


def test_twap_sends_each_slice_once_and_completes_at_the_fills_average(account, eurusd):
    algo = create(account, eurusd)
    assert algo.status == "pending" and algo.next_slice_at == T0
    assert [s["at"] for s in algo.schedule] == [
        "2024-01-09T10:00:00Z",
        "2024-01-09T10:01:00Z",
        "2024-01-09T10:02:00Z",
    ]
    early = step(algo, T0 - timedelta(seconds=1))
    assert early.child is None and not early.advanced and early.algo.status == "pending"

    for i, (ask, planned) in enumerate(
        [("1.10010", "0.33"), ("1.10030", "0.33"), ("1.10050", "0.34")]
    ):
        quote(ask)
        sent = step(algo, T0 + i * MINUTE + timedelta(seconds=1))
        assert sent.advanced and sent.algo.status == "running"
        child = sent.child
        assert child.quantity == D(planned) and child.client_order_id == f"{algo.client_id}-{i + 1}"
        assert (child.type, child.time_in_force, child.source) == ("market", "IOC", "algo")
        assert child.created_by == account.owner
        # Delivered twice (or a sweep meanwhile): nothing more is sent.
        again = step(algo, T0 + i * MINUTE + timedelta(seconds=30))
        assert again.child is None and not again.advanced
        assert execute_order(child.pk) == "filled"

    algo = algos.algo_refresh(algo_id=algo.pk)
    assert algo.status == "completed" and algo.finished_at is not None
    assert algo.filled_quantity == D("1.00") and algo.slices_sent == 3
    # (0.33 × 1.10010 + 0.33 × 1.10030 + 0.34 × 1.10050) / 1.00
    assert algo.average_price == D("1.100302")
    assert algos.algo_progress(algo) == {
        "percent_filled": "100.00",
        "filled_quantity": "1.00",
        "remaining_quantity": "0.00",
        "average_price": "1.10030200000000000000",
        "slices_sent": 3,
        "slices_total": 3,
        "next_slice_at": None,
    }
    assert [c.quantity for c in children(algo)] == [D("0.33"), D("0.33"), D("0.34")]


def test_a_late_step_sends_the_due_slices_as_one_child(account, eurusd):
    algo = create(account, eurusd)
    sent = step(algo, T0 + 2 * MINUTE + timedelta(seconds=5))  # the worker was down
    assert sent.child.quantity == D("1.00") and sent.child.client_order_id.endswith("-3")
    assert sent.algo.slices_sent == 3 and sent.algo.next_slice_at is None


def test_limit_children_ioc_and_what_they_miss_is_caught_up(account, eurusd):
    algo = create(account, eurusd, limit_price=D("1.10020"), slice_count=2, end_at=T0 + 2 * MINUTE)
    quote("1.10030")  # above the limit: the IOC child fills nothing
    first = step(algo, T0).child
    assert (first.type, first.price, first.quantity) == ("limit", D("1.10020"), D("0.50"))
    assert execute_order(first.pk) == "cancelled"
    quote("1.10010")
    second = step(algo, T0 + MINUTE).child
    assert second.quantity == D("1.00")  # its own 0.50 and the 0.50 the first missed
    assert execute_order(second.pk) == "filled"
    algo = algos.algo_refresh(algo_id=algo.pk)
    assert algo.status == "completed" and algo.filled_quantity == D("1.00")
    assert algo.average_price == D("1.10010")  # marketable limit: filled at the ask


def test_a_partly_filled_algo_completes_with_its_unfilled_rest(account, eurusd):
    account.broker_config = {"liquidity_lots_per_tick": "0.20"}
    account.save()
    algo = create(account, eurusd, slice_count=2, end_at=T0 + 2 * MINUTE)
    quote("1.10010")
    execute_order(step(algo, T0).child.pk)  # 0.20 of 0.50, the rest cancelled (IOC)
    second = step(algo, T0 + MINUTE).child
    assert second.quantity == D("0.80")
    execute_order(second.pk)  # 0.20 again
    algo = algos.algo_refresh(algo_id=algo.pk)
    assert algo.status == "completed" and algo.filled_quantity == D("0.40")
    assert algo.data["unfilled_quantity"] == "0.60"
    assert algos.algo_progress(algo)["percent_filled"] == "40.00"


def test_pause_holds_the_slices_and_resume_spreads_the_missed_ones(account, eurusd):
    algo = create(account, eurusd, slice_count=4, end_at=T0 + 4 * MINUTE)
    quote("1.10010")
    execute_order(step(algo, T0).child.pk)
    paused = algos.algo_pause(algo=algo, user=account.owner, now=T0 + timedelta(seconds=30))
    assert paused.status == "paused" and paused.next_slice_at is None
    assert step(algo, T0 + 2 * MINUTE).child is None  # paused: nothing is sent
    with pytest.raises(InvalidTransition):
        algos.algo_pause(algo=algo, now=T0 + 2 * MINUTE)
    resumed = algos.algo_resume(
        algo=algo, user=account.owner, now=T0 + 2 * MINUTE + timedelta(seconds=10)
    )
    # Slices 2 and 3 fell due while paused: their 0.50 goes to slice 4.
    assert resumed.status == "running" and resumed.slices_sent == 3
    assert [s["quantity"] for s in resumed.schedule] == ["0.25", "0.00", "0.00", "0.75"]
    assert resumed.next_slice_at == T0 + 3 * MINUTE
    assert step(algo, T0 + 2 * MINUTE + timedelta(seconds=20)).child is None
    last = step(algo, T0 + 3 * MINUTE).child
    assert last.quantity == D("0.75") and last.client_order_id.endswith("-4")
    execute_order(last.pk)
    algo = algos.algo_refresh(algo_id=algo.pk)
    assert algo.status == "completed" and algo.filled_quantity == D("1.00")


def test_cancel_cancels_the_working_children_and_keeps_the_fills(account, eurusd):
    algo = create(account, eurusd)
    quote("1.10010")
    execute_order(step(algo, T0).child.pk)
    working = step(algo, T0 + MINUTE).child  # not yet sent to the broker
    cancelled = algos.algo_cancel(algo=algo, user=account.owner, now=T0 + MINUTE)
    assert cancelled.status == "cancelled" and cancelled.next_slice_at is None
    assert cancelled.filled_quantity == D("0.33") and cancelled.average_price == D("1.10010")
    working.refresh_from_db()
    assert working.status == "cancelled"
    assert execute_order(working.pk) == "cancelled"  # the queued task sends nothing
    assert step(algo, T0 + 2 * MINUTE).child is None
    for action in (algos.algo_cancel, algos.algo_pause, algos.algo_resume):
        with pytest.raises(InvalidTransition):
            action(algo=algo)


def test_an_algo_fails_when_its_child_cannot_be_placed(account, eurusd):
    algo = create(account, eurusd)
    step(algo, T0)
    account.status = "disabled"
    account.save()
    failed = step(algo, T0 + MINUTE)
    assert failed.algo.status == "failed" and failed.child is None
    assert failed.algo.data["error"]["code"] == "account_not_active"
    assert children(algo)[0].status == "cancelled"  # the first child had not gone out yet


def test_a_rejected_child_fails_the_algo(account, eurusd):
    algo = create(account, eurusd)
    child = step(algo, T0).child
    services.order_transition(
        order=child,
        to_status="rejected",
        actor="risk",
        reject_code="RISK_LIMIT",
        reject_reason="no",
    )
    failed = algos.algo_refresh(algo_id=algo.pk)
    assert failed.status == "failed"
    assert failed.data["error"] == {"code": "RISK_LIMIT", "message": "no", "order": child.pk}


# --- validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "changes,fields",
    [
        ({"quantity": D("0.015")}, {"quantity"}),
        ({"quantity": D("0.00")}, {"quantity"}),
        ({"end_at": T0}, {"end_at"}),
        ({"start_at": T0 - 10 * MINUTE}, {"start_at"}),
        ({"end_at": T0 + timedelta(days=8)}, {"end_at"}),
        ({"interval_seconds": 60}, {"slice_count", "interval_seconds"}),
        ({"slice_count": None}, {"slice_count"}),
        ({"slice_count": 0}, {"slice_count"}),
        ({"slice_count": None, "interval_seconds": 3600}, {"interval_seconds"}),
        (
            {"slice_count": None, "interval_seconds": 1, "end_at": T0 + timedelta(hours=2)},
            {"interval_seconds"},  # 7,200 slices
        ),
        ({"limit_price": D("1.100001")}, {"limit_price"}),
        ({"limit_price": D("-1")}, {"limit_price"}),
        ({"strategy": "pov", "side": "hold"}, {"strategy", "side"}),
        # 300 lots in 2 slices: 150 lots a slice, above EURUSD's 100 per order.
        ({"quantity": D("300"), "slice_count": 2}, {"quantity"}),
    ],
)
def test_invalid_algos_are_refused_per_field(account, eurusd, changes, fields):
    with pytest.raises(algos.InvalidAlgo) as error:
        algos.algo_create(
            **{
                "account": account,
                "instrument": eurusd,
                "side": "buy",
                "strategy": "twap",
                "quantity": D("1.00"),
                "start_at": T0,
                "end_at": T0 + 3 * MINUTE,
                "slice_count": 3,
                "now": T0 - MINUTE,
                **changes,
            }
        )
    assert error.value.code == "invalid_algo" and set(error.value.fields) == fields
    assert not AlgoOrder.objects.exists()


def test_only_the_owner_trades_an_active_account(account, eurusd, operator):
    with pytest.raises(algos.InvalidAlgo) as error:
        create(account, eurusd, user=operator)
    assert set(error.value.fields) == {"account"}
    account.status = "disabled"
    account.save()
    with pytest.raises(AccountNotActive):
        create(account, eurusd)


def test_the_client_id_makes_creation_idempotent(account, eurusd):
    first = create(account, eurusd, client_id="twap-1")
    again, created = algos.algo_create(
        account=account,
        instrument=eurusd,
        side="sell",
        strategy="vwap",
        quantity=D("5"),
        end_at=T0 + MINUTE,
        slice_count=1,
        client_id="twap-1",
        now=T0,
    )
    assert not created and again.pk == first.pk and again.side == "buy"


def test_a_child_id_taken_by_another_order_fails_the_algo(account, eurusd):
    services.order_place(
        account=account,
        instrument=eurusd,
        side="sell",
        type="market",
        quantity=D("0.10"),
        client_order_id="mine-1",
    )
    algo = create(account, eurusd, client_id="mine")
    failed = step(algo, T0)
    assert failed.algo.status == "failed" and failed.algo.data["error"]["code"] == (
        "client_id_collision"
    )
    assert not children(algo)


# --- tasks and live updates ----------------------------------------------------


def test_the_step_task_sends_the_due_slice_and_queues_the_next(
    account, eurusd, django_capture_on_commit_callbacks
):
    now = timezone.now()
    algo, _ = algos.algo_create(
        account=account,
        instrument=eurusd,
        side="sell",
        strategy="twap",
        quantity=D("0.20"),
        end_at=now + 2 * MINUTE,
        slice_count=2,
    )
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert algo_tasks.algo_step.apply(args=[algo.pk]).get() == "running"
    assert [c.quantity for c in children(algo)] == [D("0.10")]
    assert len(queued) >= 3  # the child's execution, the next step, a progress refresh
    assert algo_tasks.algo_step.apply(args=[algo.pk]).get() == "running"  # again: no-op
    assert len(children(algo)) == 1


def test_the_sweeper_steps_an_overdue_algo(account, eurusd):
    now = timezone.now()
    algo, _ = algos.algo_create(
        account=account,
        instrument=eurusd,
        side="buy",
        strategy="twap",
        quantity=D("0.30"),
        end_at=now + 3 * MINUTE,
        slice_count=3,
    )
    result = algo_tasks.algo_sweep.apply().get()
    assert result["stepped"] == [algo.pk]
    assert [c.quantity for c in children(algo)] == [D("0.10")]
    assert algo_tasks.algo_sweep.apply().get()["stepped"] == []  # next slice not due yet


def test_progress_is_pushed_to_the_owner_after_commit(
    account, eurusd, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.user_group(account.owner_id), channel)
    later = timezone.now() + timedelta(hours=2)  # (its first step is left to the sweeper)
    with django_capture_on_commit_callbacks(execute=True):
        algo = create(account, eurusd, start_at=later, end_at=later + 3 * MINUTE, now=None)

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), 5)

    message = async_to_sync(receive)()
    (event,) = [e for e in message["events"] if e["type"] == "algo"]
    assert event["id"] == algo.pk and event["status"] == "pending"
    assert event["slices_total"] == 3 and event["percent_filled"] == "0.00"
    async_to_sync(layer.group_discard)(events.user_group(account.owner_id), channel)
