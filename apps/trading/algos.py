"""Execution algorithms: TWAP and VWAP parent orders worked as child orders.

An algo order (``AlgoOrder``) asks for ``quantity`` lots between ``start_at``
and ``end_at``. At creation the window is cut into slices (``slice_count``
equal slices, or one every ``interval_seconds``) and the quantity is planned
over them (``schedule``):

- TWAP: in proportion to each slice's duration;
- VWAP: in proportion to the volume the instrument traded in the same UTC
  minutes of the day over the last ``VWAP_LOOKBACK_DAYS`` days (M1 bars, else
  M5); without such history the plan is uniform in time and ``data.profile``
  says so.

Each slice is rounded down to the instrument's lot step, the rounding rest
carried into the next slice; a slice below ``lot_min`` is skipped and carried
forward; the remainder goes to the last slice.

``algo_step`` (run by ``apps.trading.algo_tasks`` at each slice time, and by
the sweeper for any algo that is late) sends, under the algo's row lock, one
child order for the slices that are due: market IOC, or limit IOC at
``limit_price``, with the client order id ``<client_id>-<slice>`` so a step
delivered twice never sends a slice twice. A child covers what the plan asks
for up to now minus what is already filled or still working, so what an IOC
child did not fill is tried again with the next slice (catch-up). Progress
(filled lots, average price) is computed from the children's fills; an algo
completes when every slice is handled and every child is final.

    pending ──► running ──► completed
       │ ▲        │ ▲
       ▼ │        ▼ │
       paused ◄───┘ │        pending/running/paused ──► cancelled
          └─────────┘        (working children are cancelled)
                             running/paused ──► failed (a child refused)

Resuming re-plans the quantity of the slices missed while paused over the
slices still ahead (after ``end_at`` the rest is sent at once).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum
from django.db.models.functions import ExtractHour, ExtractMinute
from django.utils import timezone

from apps.marketdata.models import Bar, Instrument
from apps.marketdata.selectors import default_source
from apps.trading import events, services, states
from apps.trading.accounting import PRICE
from apps.trading.errors import AccountNotActive, InvalidOrder, InvalidTransition
from apps.trading.models import AlgoChild, AlgoOrder, Fill, Order, TradingAccount
from apps.trading.selectors import accounts_for
from fxsite.errors import ApplicationError

logger = logging.getLogger(__name__)

MAX_SLICES = 1000
MAX_DURATION = timedelta(days=7)
PAST_TOLERANCE = timedelta(seconds=60)
VWAP_LOOKBACK_DAYS = 10
LOTS = Decimal("0.01")
_US = timedelta(microseconds=1)

Status = AlgoOrder.Status
ACTIVE = (Status.PENDING, Status.RUNNING)  # may send slices
WORKING_ORDER = [s for s in Order.Status.values if s not in states.FINAL]


class InvalidAlgo(InvalidOrder):
    code = "invalid_algo"


# --- planning (pure) --------------------------------------------------------


def slice_count_for(
    *, start: datetime, end: datetime, slice_count: int | None, interval_seconds: int | None
) -> int:
    if slice_count:
        return slice_count
    duration_us = (end - start) // _US
    step_us = interval_seconds * 1_000_000
    return -(-duration_us // step_us)


def slice_times(
    *,
    start: datetime,
    end: datetime,
    slice_count: int | None = None,
    interval_seconds: int | None = None,
) -> list[datetime]:
    """The start time of each slice; slice ``i`` lasts until the next one
    starts, the last until ``end``."""
    n = slice_count_for(
        start=start, end=end, slice_count=slice_count, interval_seconds=interval_seconds
    )
    step = (end - start) / n if slice_count else timedelta(seconds=interval_seconds)
    return [start + step * i for i in range(n)]


def _bounds(times: list[datetime], end: datetime) -> list[tuple[datetime, datetime]]:
    return list(zip(times, [*times[1:], end], strict=True))


def twap_weights(times: list[datetime], end: datetime) -> list[Decimal]:
    """Each slice in proportion to its duration."""
    return [Decimal((b - a) // _US) for a, b in _bounds(times, end)]


def vwap_weights(
    times: list[datetime], end: datetime, profile: dict[int, Decimal]
) -> list[Decimal]:
    """Each slice's expected volume: the profile (volume per UTC minute of the
    day) summed over the slice's minutes, a partial minute pro rata."""
    out = []
    minute = timedelta(minutes=1)
    for a, b in _bounds([t.astimezone(UTC) for t in times], end.astimezone(UTC)):
        weight, t = Decimal(0), a
        while t < b:
            until = min(t.replace(second=0, microsecond=0) + minute, b)
            volume = profile.get(t.hour * 60 + t.minute)
            if volume:
                weight += volume * Decimal((until - t) // _US) / 60_000_000
            t = until
        out.append(weight)
    return out


def floor_to_step(value: Decimal, step: Decimal) -> Decimal:
    return ((value / step).to_integral_value(rounding=ROUND_FLOOR) * step).quantize(LOTS)


def plan_quantities(
    *, total: Decimal, weights: list[Decimal], lot_step: Decimal, lot_min: Decimal
) -> list[Decimal]:
    """Split ``total`` lots over the slices in proportion to ``weights``
    (uniformly when they are all zero). Each slice is rounded down to
    ``lot_step`` and the rest carried into the next; a slice below
    ``lot_min`` is skipped (0) and carried forward; the last slice takes the
    remainder, or, when that is below ``lot_min``, the last slice that trades."""
    n = len(weights)
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [Decimal(1)] * n, Decimal(n)
    out: list[Decimal] = []
    carry = Decimal(0)
    for weight in weights[:-1]:
        amount = carry + total * weight / whole
        quantity = floor_to_step(amount, lot_step)
        if quantity < lot_min:
            quantity = Decimal("0.00")
        out.append(quantity)
        carry = amount - quantity
    last = (total - sum(out, Decimal(0))).quantize(LOTS)
    if 0 < last < lot_min:
        trading = [i for i, q in enumerate(out) if q > 0]
        if trading:  # (none only when total < lot_min, which validation refuses)
            out[trading[-1]] += last
            last = Decimal("0.00")
    out.append(last)
    return out


# --- VWAP volume profile ----------------------------------------------------


def volume_profile(
    *, instrument: Instrument, before: datetime, days: int = VWAP_LOOKBACK_DAYS
) -> tuple[dict[int, Decimal], dict]:
    """Tick volume per UTC minute of the day from the ``days`` before
    ``before``: M1 bars, else M5 (each spread over its five minutes). Returns
    the profile and a description of it (``kind`` "volume" or "uniform")."""
    since = before - timedelta(days=days)
    for timeframe, minutes in (("M1", 1), ("M5", 5)):
        source = default_source(instrument, timeframe)
        if source is None:
            continue
        rows = (
            Bar.objects.filter(
                instrument=instrument,
                source=source,
                timeframe=timeframe,
                time__gte=since,
                time__lt=before,
                volume__gt=0,
            )
            .annotate(
                minute=ExtractHour("time", tzinfo=UTC) * 60 + ExtractMinute("time", tzinfo=UTC)
            )
            .values("minute")
            .annotate(volume=Sum("volume"), bars=Count("id"))
            .order_by("minute")
        )
        profile: dict[int, Decimal] = {}
        bars = 0
        for row in rows:
            share = Decimal(row["volume"]) / minutes
            for k in range(minutes):
                key = (row["minute"] + k) % 1440
                profile[key] = profile.get(key, Decimal(0)) + share
            bars += row["bars"]
        if profile:
            return profile, {
                "kind": "volume",
                "timeframe": timeframe,
                "source": source.name,
                "days": days,
                "bars": bars,
            }
    return {}, {
        "kind": "uniform",
        "reason": f"No M1 or M5 volume history of {instrument.symbol} in the {days} days "
        "before the start: slices are uniform in time.",
    }


# --- reads ------------------------------------------------------------------


def algos_for(user) -> QuerySet[AlgoOrder]:
    """The algo orders a user may see: their own accounts'; operators see all."""
    return AlgoOrder.objects.filter(account__in=accounts_for(user)).select_related(
        "instrument", "account"
    )


def algo_children(algo: AlgoOrder) -> QuerySet[Order]:
    return (
        Order.objects.filter(algo_child__algo=algo)
        .select_related("instrument", "algo_child")
        .order_by("algo_child__slice_no")
    )


def algo_progress(algo: AlgoOrder) -> dict:
    """What a user watches: percent filled, slices handled of planned,
    average price and the next slice time."""
    percent = (algo.filled_quantity / algo.quantity * 100).quantize(Decimal("0.01"))
    return {
        "percent_filled": f"{percent:f}",
        "filled_quantity": f"{algo.filled_quantity.quantize(LOTS):f}",
        "remaining_quantity": f"{(algo.quantity - algo.filled_quantity).quantize(LOTS):f}",
        "average_price": events._num(algo.average_price),
        "slices_sent": algo.slices_sent,
        "slices_total": len(algo.schedule),
        "next_slice_at": _iso(algo.next_slice_at),
    }


def algo_data(algo: AlgoOrder) -> dict:
    """The ``algo`` event of ``/ws/trading/``."""
    return {
        "id": algo.pk,
        "account": algo.account_id,
        "client_id": algo.client_id,
        "symbol": algo.instrument.symbol,
        "side": algo.side,
        "strategy": algo.strategy,
        "quantity": events._num(algo.quantity),
        "limit_price": events._num(algo.limit_price),
        "status": algo.status,
        **algo_progress(algo),
    }


def algos_due(now: datetime | None = None) -> list[int]:
    """Algos that should be stepped: a slice (or the start) is due, or every
    slice is handled and the algo waits for its children to finish."""
    now = now or timezone.now()
    return list(
        AlgoOrder.objects.filter(status__in=ACTIVE)
        .filter(Q(next_slice_at__lte=now) | Q(status=Status.RUNNING, next_slice_at__isnull=True))
        .order_by("next_slice_at", "id")
        .values_list("id", flat=True)
    )


def algos_to_refresh() -> list[int]:
    """Algos whose progress may still change: running or paused ones, and
    final ones with children still working (a cancel the broker has not
    confirmed yet)."""
    return list(
        AlgoOrder.objects.filter(
            Q(status__in=(Status.RUNNING, Status.PAUSED))
            | Q(children__order__status__in=WORKING_ORDER)
        )
        .distinct()
        .order_by("id")
        .values_list("id", flat=True)
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- writes -----------------------------------------------------------------


@dataclass
class Plan:
    times: list[datetime]
    quantities: list[Decimal]
    profile: dict


def algo_plan(
    *,
    instrument: Instrument,
    strategy: str,
    quantity: Decimal,
    start_at: datetime,
    end_at: datetime,
    slice_count: int | None,
    interval_seconds: int | None,
    now: datetime,
) -> Plan:
    times = slice_times(
        start=start_at, end=end_at, slice_count=slice_count, interval_seconds=interval_seconds
    )
    # Equal slices weigh the same (their start times are rounded to the
    # microsecond, which must not tip a slice below the lot grid).
    by_time = [Decimal(1)] * len(times) if slice_count else twap_weights(times, end_at)
    if strategy == AlgoOrder.Strategy.VWAP:
        curve, profile = volume_profile(instrument=instrument, before=min(start_at, now))
        weights = vwap_weights(times, end_at, curve)
        if curve and not any(weights):
            profile = {
                **profile,
                "kind": "uniform",
                "reason": f"The volume history of {instrument.symbol} has no volume in the "
                "algo's minutes of the day: slices are uniform in time.",
            }
        if profile["kind"] == "uniform":
            weights = by_time
    else:
        weights, profile = by_time, {"kind": "time"}
    quantities = plan_quantities(
        total=quantity, weights=weights, lot_step=instrument.lot_step, lot_min=instrument.lot_min
    )
    return Plan(times=times, quantities=quantities, profile=profile)


def algo_validate(
    *,
    account: TradingAccount,
    instrument: Instrument,
    side: str,
    strategy: str,
    quantity: Decimal,
    start_at: datetime,
    end_at: datetime,
    slice_count: int | None,
    interval_seconds: int | None,
    limit_price: Decimal | None,
    user,
    now: datetime,
) -> None:
    """Refuse an algo order that cannot be right, with a message per field."""
    if user is not None and account.owner_id != user.pk:
        raise InvalidAlgo(
            "The algo order is not valid.",
            fields={"account": ["You can only trade your own accounts."]},
        )
    if account.status != TradingAccount.Status.ACTIVE:
        raise AccountNotActive(f"Account {account.name} is {account.status}.")
    errors: dict[str, list[str]] = {}
    if not instrument.enabled:
        errors["symbol"] = [f"{instrument.symbol} is disabled."]
    if side not in Order.Side.values:
        errors["side"] = ["Use buy or sell."]
    if strategy not in AlgoOrder.Strategy.values:
        errors["strategy"] = ["Use twap or vwap."]
    if quantity <= 0:
        errors["quantity"] = ["Must be positive."]
    elif quantity < instrument.lot_min:
        errors["quantity"] = [f"{instrument.symbol} trades at least {instrument.lot_min} lots."]
    elif not services._on_grid(quantity, instrument.lot_step):
        errors["quantity"] = [f"Must be a multiple of {instrument.lot_step} lots."]
    times_ok = True
    if start_at < now - PAST_TOLERANCE:
        errors["start_at"] = ["Must not be in the past."]
        times_ok = False
    if end_at <= start_at:
        errors["end_at"] = ["Must be after start_at."]
        times_ok = False
    elif end_at - start_at > MAX_DURATION:
        errors["end_at"] = [f"An algo runs at most {MAX_DURATION.days} days."]
        times_ok = False
    if slice_count is not None and interval_seconds is not None:
        message = ["Give slice_count or interval_seconds, not both."]
        errors["slice_count"], errors["interval_seconds"] = message, message
    elif slice_count is None and interval_seconds is None:
        errors["slice_count"] = ["Give slice_count or interval_seconds."]
    elif slice_count is not None and not 1 <= slice_count <= MAX_SLICES:
        errors["slice_count"] = [f"Must be between 1 and {MAX_SLICES}."]
    elif interval_seconds is not None and interval_seconds < 1:
        errors["interval_seconds"] = ["Must be at least 1 second."]
    elif interval_seconds is not None and times_ok:
        if interval_seconds * 1_000_000 > (end_at - start_at) // _US:
            errors["interval_seconds"] = ["Must not be longer than the window."]
        elif (
            slice_count_for(
                start=start_at, end=end_at, slice_count=None, interval_seconds=interval_seconds
            )
            > MAX_SLICES
        ):
            errors["interval_seconds"] = [f"Makes more than {MAX_SLICES} slices."]
    if limit_price is not None and (
        limit_price <= 0 or not services._on_grid(limit_price, instrument.point)
    ):
        errors["limit_price"] = [
            f"Must be a positive price with at most {instrument.digits} decimals."
        ]
    if errors:
        raise InvalidAlgo("The algo order is not valid.", fields=errors)


def algo_create(
    *,
    account: TradingAccount,
    instrument: Instrument,
    side: str,
    strategy: str,
    quantity: Decimal,
    end_at: datetime,
    start_at: datetime | None = None,
    slice_count: int | None = None,
    interval_seconds: int | None = None,
    limit_price: Decimal | None = None,
    client_id: str | None = None,
    source: str = Order.Source.API,
    user=None,
    now: datetime | None = None,
) -> tuple[AlgoOrder, bool]:
    """Validate and plan an algo order; its first step is queued for
    ``start_at``. Returns ``(algo, created)``: a ``client_id`` already used on
    the account returns the existing algo (also under concurrent duplicates)."""
    if client_id:
        existing = AlgoOrder.objects.filter(account=account, client_id=client_id).first()
        if existing is not None:
            return existing, False
    now = now or timezone.now()
    start_at = start_at or now
    algo_validate(
        account=account,
        instrument=instrument,
        side=side,
        strategy=strategy,
        quantity=quantity,
        start_at=start_at,
        end_at=end_at,
        slice_count=slice_count,
        interval_seconds=interval_seconds,
        limit_price=limit_price,
        user=user,
        now=now,
    )
    plan = algo_plan(
        instrument=instrument,
        strategy=strategy,
        quantity=quantity,
        start_at=start_at,
        end_at=end_at,
        slice_count=slice_count,
        interval_seconds=interval_seconds,
        now=now,
    )
    largest = max(plan.quantities)
    if largest > instrument.lot_max:
        raise InvalidAlgo(
            "The algo order is not valid.",
            fields={
                "quantity": [
                    f"A slice would be {largest} lots, above the {instrument.lot_max} lots "
                    f"{instrument.symbol} allows per order; use more slices."
                ]
            },
        )
    algo = AlgoOrder(
        account=account,
        client_id=client_id or f"algo-{uuid.uuid4().hex[:16]}",
        instrument=instrument,
        side=side,
        strategy=strategy,
        quantity=quantity,
        start_at=start_at,
        end_at=end_at,
        slice_count=slice_count,
        interval_seconds=interval_seconds,
        limit_price=limit_price,
        next_slice_at=plan.times[0],
        schedule=[
            {"at": _iso(t), "quantity": f"{q:f}"}
            for t, q in zip(plan.times, plan.quantities, strict=True)
        ],
        data={"profile": plan.profile},
        source=source,
        created_by=user,
    )
    try:
        with transaction.atomic():
            algo.save()
    except IntegrityError:
        existing = AlgoOrder.objects.filter(account=account, client_id=algo.client_id).first()
        if existing is None:
            raise
        return existing, False
    _publish(algo)
    _queue_step(algo)
    return algo, True


def _lock(algo_id: int) -> AlgoOrder | None:
    return (
        AlgoOrder.objects.select_for_update(of=("self",))
        .select_related("account", "instrument", "created_by")
        .filter(pk=algo_id)
        .first()
    )


def _publish(algo: AlgoOrder) -> None:
    events.publish(algo.account.owner_id, "algo", algo_data(algo))


def _queue_step(algo: AlgoOrder) -> None:
    from apps.trading.algo_tasks import schedule_next

    schedule_next(algo)


def _planned(algo: AlgoOrder) -> list[tuple[datetime, Decimal]]:
    return [(datetime.fromisoformat(s["at"]), Decimal(s["quantity"])) for s in algo.schedule]


def _next_slice_at(algo: AlgoOrder) -> datetime | None:
    if algo.slices_sent >= len(algo.schedule):
        return None
    return datetime.fromisoformat(algo.schedule[algo.slices_sent]["at"])


def _set_status(algo: AlgoOrder, status: str, now: datetime) -> None:
    algo.status = status
    if status == Status.RUNNING and algo.started_at is None:
        algo.started_at = now
    if status in AlgoOrder.FINAL:
        algo.finished_at = now
        algo.next_slice_at = None


def _refresh(algo: AlgoOrder) -> list[Order]:
    """Progress from the children's fills (filled lots, volume-weighted
    average price); returns the children."""
    children = list(Order.objects.filter(algo_child__algo=algo))
    totals = Fill.objects.filter(order__algo_child__algo=algo).aggregate(
        lots=Sum("quantity"),
        value=Sum(
            ExpressionWrapper(
                F("price") * F("quantity"),
                output_field=DecimalField(max_digits=40, decimal_places=14),
            )
        ),
    )
    filled = totals["lots"] or Decimal(0)
    algo.filled_quantity = filled
    algo.average_price = (totals["value"] / filled).quantize(PRICE) if filled else None
    return children


def _cancel_children(children: list[Order], user, reason: str) -> None:
    for child in children:
        if states.can_cancel(child.status) and not child.cancel_requested:
            try:
                services.order_cancel(order=child, user=user)
            except InvalidTransition:  # it finished meanwhile
                continue
            logger.info("algo child %s cancelled: %s", child.client_order_id, reason)


def _fail(algo: AlgoOrder, children: list[Order], now: datetime, error: dict) -> None:
    _cancel_children(children, None, "algo failed")
    algo.data = {**algo.data, "error": error}
    _set_status(algo, Status.FAILED, now)


def _settle(algo: AlgoOrder, children: list[Order], now: datetime) -> None:
    """Fail on a refused child; complete when every slice is handled and
    every child is final."""
    rejected = next((c for c in children if c.status == Order.Status.REJECTED), None)
    if rejected is not None and algo.status in (Status.PENDING, Status.RUNNING, Status.PAUSED):
        _fail(
            algo,
            children,
            now,
            {
                "code": rejected.reject_code or "child_rejected",
                "message": rejected.reject_reason or "A child order was rejected.",
                "order": rejected.pk,
            },
        )
        return
    if (
        algo.status == Status.RUNNING
        and algo.slices_sent >= len(algo.schedule)
        and all(c.is_final for c in children)
    ):
        unfilled = algo.quantity - algo.filled_quantity
        if unfilled:
            algo.data = {**algo.data, "unfilled_quantity": f"{unfilled:f}"}
        _set_status(algo, Status.COMPLETED, now)


def _snapshot(algo: AlgoOrder) -> tuple:
    return (
        algo.status,
        algo.filled_quantity,
        algo.average_price,
        algo.slices_sent,
        algo.next_slice_at,
    )


def _save(algo: AlgoOrder, before: tuple) -> bool:
    if _snapshot(algo) == before:
        return False
    algo.save()
    _publish(algo)
    return True


def algo_refresh(*, algo_id: int, now: datetime | None = None) -> AlgoOrder | None:
    """Bring an algo's progress up to date with its children's fills (and
    complete or fail it when that follows); publishes only a change."""
    now = now or timezone.now()
    with transaction.atomic():
        algo = _lock(algo_id)
        if algo is None:
            return None
        before = _snapshot(algo)
        children = _refresh(algo)
        _settle(algo, children, now)
        _save(algo, before)
    return algo


@dataclass
class Step:
    algo: AlgoOrder | None
    advanced: bool = False
    child: Order | None = None


def algo_step(*, algo_id: int, now: datetime | None = None) -> Step:
    """Send the slices that are due as one child order, under the algo's row
    lock; idempotent (a step with nothing due changes nothing). ``advanced``
    says whether the algo moved on (started, sent a slice, finished)."""
    now = now or timezone.now()
    with transaction.atomic():
        algo = _lock(algo_id)
        if algo is None:
            return Step(None)
        if algo.status not in ACTIVE:
            return Step(algo)
        before = _snapshot(algo)
        if algo.status == Status.PENDING:
            if now < algo.start_at:
                return Step(algo)
            _set_status(algo, Status.RUNNING, now)
        children = _refresh(algo)
        _settle(algo, children, now)
        child = None
        if algo.status == Status.RUNNING:
            planned = _planned(algo)
            due = sum(1 for at, _ in planned if at <= now)
            if due > algo.slices_sent:
                try:
                    with transaction.atomic():  # a refused placement leaves nothing behind
                        child = _send(algo, planned, due, children)
                except ApplicationError as exc:  # refused: invalid, account, risk
                    _fail(
                        algo,
                        children,
                        now,
                        {"code": exc.code, "message": exc.message, "fields": exc.fields},
                    )
                else:
                    algo.slices_sent = due
                    if child is not None:
                        children.append(child)
            if algo.status == Status.RUNNING:
                algo.next_slice_at = _next_slice_at(algo)
                _settle(algo, children, now)
        changed = _save(algo, before)
        advanced = changed and (algo.slices_sent != before[3] or algo.status != before[0])
    return Step(algo, advanced, child)


def _send(
    algo: AlgoOrder, planned: list[tuple[datetime, Decimal]], due: int, children: list[Order]
) -> Order | None:
    """Place the child for the slices up to ``due``: what the plan asks for by
    now, minus what is filled or still working; nothing when that rounds
    below ``lot_min``. Raises the placement's error."""
    instrument = algo.instrument
    target = sum((q for _, q in planned[:due]), Decimal(0))
    committed = sum((c.filled_quantity if c.is_final else c.quantity for c in children), Decimal(0))
    quantity = min(floor_to_step(target - committed, instrument.lot_step), instrument.lot_max)
    if quantity < instrument.lot_min:
        return None
    limit = algo.limit_price is not None
    order, created = services.order_place(
        account=algo.account,
        instrument=instrument,
        side=algo.side,
        type=Order.Type.LIMIT if limit else Order.Type.MARKET,
        quantity=quantity,
        price=algo.limit_price,
        time_in_force=Order.TimeInForce.IOC,
        client_order_id=f"{algo.client_id}-{due}",
        source=Order.Source.ALGO,
        user=algo.created_by,
    )
    if not created:
        mine = AlgoChild.objects.filter(algo=algo, order=order).exists()
        if mine:
            return None
        raise InvalidAlgo(
            f"The order id {order.client_order_id} is already used on the account by "
            "another order.",
            code="client_id_collision",
        )
    AlgoChild.objects.create(algo=algo, order=order, slice_no=due)
    return order


def _locked_or_404(algo: AlgoOrder) -> AlgoOrder:
    locked = _lock(algo.pk)
    if locked is None:
        raise AlgoOrder.DoesNotExist
    return locked


def _refuse(algo: AlgoOrder, action: str) -> InvalidTransition:
    return InvalidTransition(
        f"Algo {algo.client_id} is {algo.status} and cannot be {action}.",
        extra={"status": algo.status},
    )


@transaction.atomic
def algo_pause(*, algo: AlgoOrder, user=None, now: datetime | None = None) -> AlgoOrder:
    """Stop sending slices; children already sent keep working."""
    now = now or timezone.now()
    locked = _locked_or_404(algo)
    if locked.status not in ACTIVE:
        raise _refuse(locked, "paused")
    _refresh(locked)
    locked.data = {**locked.data, "paused_at": _iso(now)}
    _set_status(locked, Status.PAUSED, now)
    locked.next_slice_at = None
    locked.save()
    _publish(locked)
    return locked


@transaction.atomic
def algo_resume(*, algo: AlgoOrder, user=None, now: datetime | None = None) -> AlgoOrder:
    """Carry on from a pause: the quantity of the slices that fell due while
    paused is re-planned over the slices still ahead (after ``end_at``, the
    rest goes with the next step)."""
    now = now or timezone.now()
    locked = _locked_or_404(algo)
    if locked.status != Status.PAUSED:
        raise _refuse(locked, "resumed")
    _refresh(locked)
    _replan_missed(locked, now)
    data = {k: v for k, v in locked.data.items() if k != "paused_at"}
    locked.data = data
    _set_status(locked, Status.RUNNING if locked.started_at else Status.PENDING, now)
    locked.next_slice_at = _next_slice_at(locked)
    locked.save()
    _publish(locked)
    _queue_step(locked)
    return locked


def _replan_missed(algo: AlgoOrder, now: datetime) -> None:
    planned = _planned(algo)
    due = sum(1 for at, _ in planned if at <= now)
    missed = range(algo.slices_sent, due)
    ahead = range(due, len(planned))
    if not missed or not ahead:
        return
    moved = sum((planned[i][1] for i in missed), Decimal(0))
    instrument = algo.instrument
    quantities = plan_quantities(
        total=moved + sum((planned[i][1] for i in ahead), Decimal(0)),
        weights=[planned[i][1] for i in ahead],
        lot_step=instrument.lot_step,
        lot_min=instrument.lot_min,
    )
    schedule = [dict(s) for s in algo.schedule]
    for i in missed:
        schedule[i]["quantity"] = "0.00"
    for i, quantity in zip(ahead, quantities, strict=True):
        schedule[i]["quantity"] = f"{quantity:f}"
    algo.schedule = schedule
    algo.slices_sent = due
    replans = [*algo.data.get("replans", []), {"at": _iso(now), "slices_missed": len(missed)}]
    algo.data = {**algo.data, "replans": replans}


@transaction.atomic
def algo_cancel(*, algo: AlgoOrder, user=None, now: datetime | None = None) -> AlgoOrder:
    """Cancel the algo and its working children; what filled stays filled."""
    now = now or timezone.now()
    locked = _locked_or_404(algo)
    if locked.is_final:
        raise _refuse(locked, "cancelled")
    children = _refresh(locked)
    _cancel_children(children, user, "algo cancelled")
    _set_status(locked, Status.CANCELLED, now)
    locked.save()
    _publish(locked)
    return locked
