"""Deployments: a strategy trading an account on closed bars.

Live: every closed bar of the instrument's feed (``marketdata`` signal
``bars_closed``) queues ``deployment_bar``, which feeds the bar to the
strategy's runner (incremental indicators, state kept in the deployment)
and places its orders through the trading services (risk-checked, executed
by the account's broker). Missed bars (a worker down) update the
indicators on the next run; only the latest one is traded on.

Replay: a task walks stored bars through the same path: each bar's open
becomes the paper broker's quote and the orders the strategy placed on the
previous close execute against it (as live orders reach the market at the
next price), the bar's prices then run the resting orders and the
stop-losses, and the strategy sees the bar on its close. Its fills can be
compared with a backtest of the same bars.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.marketdata import calendar
from apps.marketdata.models import DataSource, Instrument, Timeframe
from apps.strategies.builtin import BUILTIN
from apps.strategies.config import _moment
from apps.strategies.engine import data as data_mod
from apps.strategies.errors import InvalidParameters, StrategyError
from apps.strategies.framework import Tick
from apps.strategies.live import Executor, LiveContext, Runner
from apps.strategies.models import Deployment
from apps.strategies.params import Errors
from apps.trading import accounting, events
from apps.trading.accounting import Quote
from apps.trading.models import Order, TradingAccount

logger = logging.getLogger(__name__)

PRIME_BARS = 3  # warm-up multiples of history fed to a new live runner
SIZING_MODES = ("units", "lots", "risk_percent", "fraction")


# --- create and control ------------------------------------------------------


def create(*, user, data: dict) -> Deployment:
    from apps.strategies.selectors import accounts_for_deployment

    if not isinstance(data, dict):
        raise InvalidParameters("The body must be a JSON object.")
    errors = Errors()
    cls = BUILTIN.get(data.get("strategy"))
    params = {}
    if cls is None:
        errors.add("strategy", f"One of {', '.join(BUILTIN)}.")
    else:
        try:
            params = cls.validate(data.get("params") or {})
        except InvalidParameters as exc:
            for name, messages in exc.fields.items():
                for message in messages:
                    errors.add(f"params.{name}", message)
    account = accounts_for_deployment(user).filter(pk=data.get("account") or 0).first()
    if account is None:
        errors.add("account", "One of your trading accounts.")
    instrument = Instrument.objects.filter(symbol=data.get("symbol") or "").first()
    if instrument is None:
        errors.add("symbol", "A known symbol such as EURUSD.")
    timeframe = data.get("timeframe", "H1")
    if timeframe not in Timeframe.values:
        errors.add("timeframe", f"One of {', '.join(Timeframe.values)}.")
    sizing = data.get("sizing") or {"mode": "lots", "value": 0.1}
    try:
        if sizing.get("mode") not in SIZING_MODES or float(sizing.get("value")) <= 0:
            raise ValueError
        sizing = {"mode": sizing["mode"], "value": float(sizing["value"])}
    except (AttributeError, TypeError, ValueError):
        errors.add("sizing", f'{{"mode": one of {", ".join(SIZING_MODES)}, "value": > 0}}.')
    if sizing.get("mode") == "risk_percent" and cls is not None and not params.get("stop_pips"):
        errors.add("sizing", "risk_percent sizing needs the strategy's stop_pips.")
    mode = data.get("mode", Deployment.Mode.LIVE)
    if mode not in Deployment.Mode.values:
        errors.add("mode", "live or replay.")
    source = None
    if data.get("source"):
        source = DataSource.objects.filter(name=data["source"]).first()
        if source is None:
            errors.add("source", "No such data source.")
    start = end = None
    if mode == Deployment.Mode.REPLAY:
        start = _moment(data.get("start"), "start", errors)
        end = _moment(data.get("end"), "end", errors)
        if start and end and end <= start:
            errors.add("end", "Must be after start.")
        if account is not None and account.broker != TradingAccount.Broker.PAPER:
            errors.add("account", "A replay trades a paper account.")
    name = (data.get("name") or "").strip() or (
        f"{data.get('strategy')} {data.get('symbol')} {timeframe}"
    )
    errors.raise_if_any("The deployment is not valid.")
    deployment = Deployment.objects.create(
        owner=user,
        name=name[:100],
        strategy=cls.key,
        params=params,
        account=account,
        instrument=instrument,
        timeframe=timeframe,
        source=source,
        sizing=sizing,
        mode=mode,
        replay_start=start,
        replay_end=end,
    )
    if mode == Deployment.Mode.REPLAY:
        _queue_replay(deployment)
    _publish(deployment)
    return deployment


def _queue_replay(deployment: Deployment) -> None:
    from apps.strategies.tasks import deployment_replay

    transaction.on_commit(lambda: deployment_replay.delay(deployment.pk))


def set_status(
    *, deployment: Deployment, status: str, close_positions: bool = False, user=None
) -> Deployment:
    """Pause, resume (``running``) or stop. Stopping cancels the deployment's
    working orders and, with ``close_positions``, closes the account's
    position in its instrument."""
    from apps.trading import services as trading

    allowed = {
        Deployment.Status.RUNNING: (Deployment.Status.PAUSED,),
        Deployment.Status.PAUSED: (Deployment.Status.RUNNING,),
        Deployment.Status.STOPPED: (
            Deployment.Status.RUNNING,
            Deployment.Status.PAUSED,
            Deployment.Status.FAILED,
            Deployment.Status.FINISHED,  # a replay's end: stop to close what it holds
        ),
    }
    if status not in allowed:
        raise InvalidParameters(fields={"status": ["running, paused or stopped."]})
    with transaction.atomic():
        row = Deployment.objects.select_for_update().get(pk=deployment.pk)
        if row.status == status:
            return row
        if row.status not in allowed[status]:
            raise InvalidParameters(
                f"A {row.status} deployment cannot become {status}.",
                code="invalid_transition",
                fields={"status": [f"Not from {row.status}."]},
            )
        row.status = status
        row.save(update_fields=["status", "updated_at"])
        if status == Deployment.Status.RUNNING and row.mode == Deployment.Mode.REPLAY:
            _queue_replay(row)
        if status == Deployment.Status.STOPPED:
            working = Order.objects.filter(source_ref=row.ref).exclude(status__in=Order.FINAL)
            for order in working:
                trading.order_cancel(order=order, user=user)
            if close_positions:
                for position in row.account.positions.filter(
                    instrument=row.instrument, closed_at__isnull=True
                ).exclude(quantity=0):
                    trading.position_close(
                        position=position,
                        user=user,
                        source=Order.Source.STRATEGY,
                        source_ref=row.ref,
                    )
        _publish(row)
    return row


def _publish(deployment: Deployment, **extra) -> None:
    events.publish(
        deployment.owner_id,
        "deployment",
        {
            "id": deployment.pk,
            "status": deployment.status,
            "bars_seen": deployment.bars_seen,
            "ticks_seen": deployment.ticks_seen,
            "progress": round(deployment.progress, 4),
            **extra,
        },
    )


def _reason(exc: Exception) -> str:
    """An error's message with its per-field messages, for the deployment's ``error``."""
    fields = getattr(exc, "fields", None) or {}
    details = "; ".join(f"{name}: {' '.join(msgs)}" for name, msgs in fields.items())
    return f"{exc} ({details})" if details else str(exc)


def _fail(deployment_id: int, message: str) -> None:
    Deployment.objects.filter(pk=deployment_id).update(
        status=Deployment.Status.FAILED, error=message[:2000]
    )
    row = Deployment.objects.get(pk=deployment_id)
    _publish(row, error=message)


# --- live bars -----------------------------------------------------------------


def on_bars_closed(*, instrument_id: int, source_id: int, bars: list) -> int:
    """Queue ``deployment_bar`` for the running live deployments these bars
    concern; returns how many."""
    from apps.strategies.tasks import deployment_bar

    by_tf = {}
    for timeframe, bar_us in bars:
        by_tf[timeframe] = max(by_tf.get(timeframe, 0), int(bar_us))
    rows = Deployment.objects.filter(
        instrument_id=instrument_id,
        timeframe__in=list(by_tf),
        status=Deployment.Status.RUNNING,
        mode=Deployment.Mode.LIVE,
    ).values_list("pk", "timeframe", "source_id")
    count = 0
    for pk, timeframe, wanted in rows:
        if wanted is None or wanted == source_id:
            deployment_bar.delay(pk, by_tf[timeframe], source_id)
            count += 1
    return count


def _feed_bar(dep: Deployment, bar_us: int, source_id: int):
    """The runner fed the bars up to ``bar_us`` and evaluated, and the orders
    it placed: ``(runner, bars fed, orders)``; ``None`` when that bar is not
    stored."""
    from apps.trading.selectors import live_quotes

    end = calendar.us_to_datetime(bar_us + 1)
    if dep.state:
        runner = Runner.loads(dep.state)
        arrays = _bars(
            dep,
            source_id,
            dep.last_bar_at
            and calendar.us_to_datetime(calendar.datetime_to_us(dep.last_bar_at) + 1),
            end,
        )
    else:
        runner = Runner(BUILTIN[dep.strategy](**dep.params))
        keep = max(runner.strategy.warmup() * PRIME_BARS, 50) + 1
        # Enough calendar time for ``keep`` bars across weekends and gaps.
        span = keep * calendar.timeframe_us(dep.timeframe) * 2 + 4 * 86_400_000_000
        arrays = _bars(dep, source_id, calendar.us_to_datetime(bar_us - span), end)
        arrays = {k: v[-keep:] for k, v in arrays.items()}
    if not arrays or int(arrays["time_us"][-1]) != bar_us:
        return None
    spread = data_mod.fill_spread(arrays["spread"])
    n = len(arrays["time_us"])
    for j in range(n):
        runner.bar(
            *(float(arrays[k][j]) for k in ("open", "high", "low", "close", "volume")),
            int(arrays["time_us"][j]),
            float(np.nan_to_num(spread[j])),
        )
    quotes = live_quotes()
    executor = Executor(dep, quotes)
    runner.evaluate(LiveContext(runner, executor))
    placed = executor.place(bar_us=bar_us, quote=quotes.get(dep.instrument.symbol))
    return runner, n, placed


def _bars(deployment: Deployment, source_id: int, start: datetime | None, end: datetime):
    start = start or calendar.us_to_datetime(0)
    source = DataSource.objects.get(pk=source_id)
    return data_mod.load_arrays(deployment.instrument, source, deployment.timeframe, start, end)


def _running_locked(deployment_id: int) -> Deployment | None:
    """The deployment, locked for this transaction, if it is running."""
    dep = (
        Deployment.objects.select_for_update()
        .select_related("account", "instrument")
        .filter(pk=deployment_id)
        .first()
    )
    return dep if dep is not None and dep.status == Deployment.Status.RUNNING else None


def on_bar(deployment_id: int, bar_us: int, source_id: int) -> str:
    """Feed the closed bar (and any missed before it) to the deployment's
    strategy and place its orders."""
    with transaction.atomic():
        dep = _running_locked(deployment_id)
        if dep is None:
            return "not running"
        bar_time = calendar.us_to_datetime(bar_us)
        if dep.last_bar_at is not None and bar_time <= dep.last_bar_at:
            return "seen"
        try:
            fed = _feed_bar(dep, bar_us, source_id)
        except (StrategyError, ValueError, accounting.ConversionError) as exc:
            # A strategy that cannot run (bad parameters, an indicator it
            # cannot compute, no conversion quote) fails the deployment
            # rather than failing every bar's task.
            message = _reason(exc)
            transaction.on_commit(lambda: _fail(deployment_id, message))
            return "failed"
        if fed is None:
            return "no bar"
        runner, n, placed = fed
        dep.state = runner.dumps()
        dep.last_bar_at = bar_time
        dep.bars_seen += n
        dep.save(update_fields=["state", "last_bar_at", "bars_seen", "updated_at"])
        _publish(dep, orders=[o.pk for o in placed])
    return f"{len(placed)} orders"


# --- live ticks ------------------------------------------------------------------

TICKS_PER_TASK = 10_000  # the oldest unseen ticks a task gives on_tick; the next takes the rest


def on_ticks_stored(*, instrument_id: int, source_id: int, last_us: int) -> int:
    """Queue ``deployment_ticks`` for the running live deployments of the
    instrument whose strategy has an ``on_tick``; returns how many."""
    from apps.strategies.tasks import deployment_ticks

    keys = [key for key, cls in BUILTIN.items() if cls.wants_ticks()]
    if not keys:
        return 0
    rows = Deployment.objects.filter(
        instrument_id=instrument_id,
        strategy__in=keys,
        status=Deployment.Status.RUNNING,
        mode=Deployment.Mode.LIVE,
    ).values_list("pk", "source_id")
    count = 0
    for pk, wanted in rows:
        if wanted is None or wanted == source_id:
            deployment_ticks.delay(pk, source_id, int(last_us))
            count += 1
    return count


_TICKS_SQL = """
SELECT (extract(epoch FROM time) * 1000000)::bigint, bid::float8, ask::float8
  FROM marketdata_tick
 WHERE instrument_id = %s AND source_id = %s AND time > %s AND time <= %s
 ORDER BY time
 LIMIT %s
"""


def on_ticks(deployment_id: int, source_id: int, up_to_us: int) -> str:
    """Give the strategy's ``on_tick`` the live ticks it has not seen (after
    its last tick, or its last closed bar's close) up to ``up_to_us``, and
    place its orders."""
    from django.db import connection

    from apps.trading.selectors import live_quotes

    with transaction.atomic():
        dep = _running_locked(deployment_id)
        if dep is None:
            return "not running"
        if not dep.state or dep.last_bar_at is None:
            return "no bar yet"  # the strategy starts on its first closed bar
        bar_close = calendar.us_to_datetime(
            calendar.datetime_to_us(dep.last_bar_at) + calendar.timeframe_us(dep.timeframe)
        )
        # Ticks from the last close on (older ones are stale: later bars were seen).
        after = bar_close - timedelta(microseconds=1)
        since = max(dep.last_tick_at or after, after)
        with connection.cursor() as cursor:
            cursor.execute(
                _TICKS_SQL,
                [
                    dep.instrument_id,
                    source_id,
                    since,
                    calendar.us_to_datetime(up_to_us),
                    TICKS_PER_TASK,
                ],
            )
            rows = cursor.fetchall()
        if not rows:
            return "no new ticks"
        runner = Runner.loads(dep.state)
        quotes = live_quotes()
        executor = Executor(dep, quotes)
        ctx = LiveContext(runner, executor)
        try:
            for time_us, bid, ask in rows:
                runner.tick(ctx, Tick(int(time_us), bid, ask))
            last_us, bid, ask = rows[-1]
            quantum = Decimal(1).scaleb(-dep.instrument.digits)
            quote = Quote(Decimal(str(bid)).quantize(quantum), Decimal(str(ask)).quantize(quantum))
            placed = executor.place(bar_us=int(last_us), quote=quote, tag=f"t{int(last_us)}")
        except (StrategyError, ValueError, accounting.ConversionError) as exc:
            message = _reason(exc)
            transaction.on_commit(lambda: _fail(deployment_id, message))
            return "failed"
        dep.state = runner.dumps()
        dep.last_tick_at = calendar.us_to_datetime(int(last_us))
        dep.ticks_seen += len(rows)
        dep.save(update_fields=["state", "last_tick_at", "ticks_seen", "updated_at"])
        if placed:
            _publish(dep, orders=[o.pk for o in placed])
    if len(rows) == TICKS_PER_TASK:
        from apps.strategies.tasks import deployment_ticks

        transaction.on_commit(lambda: deployment_ticks.delay(deployment_id, source_id, up_to_us))
    return f"{len(rows)} ticks, {len(placed)} orders"


# --- replay ------------------------------------------------------------------------


def _replay_source(deployment: Deployment) -> DataSource:
    source, _ = DataSource.objects.get_or_create(
        name=f"replay-deployment-{deployment.pk}",
        defaults={
            "kind": DataSource.Kind.IMPORT,
            "description": f"Ticks of the replay of deployment {deployment.pk}.",
        },
    )
    return source


def _submit_at(quote: Quote, time_us: int):
    """Run a new order on the paper broker against ``quote`` (the replay's
    price at ``time_us``, the bar's open), under its row lock as the
    execution task does."""
    from apps.trading.brokers import paper
    from apps.trading.matching import Quote as PaperQuote

    def submit(order: Order) -> None:
        locked = (
            Order.objects.select_for_update(of=("self",))
            .select_related("account", "instrument", "position")
            .get(pk=order.pk)
        )
        if locked.status == Order.Status.NEW:
            paper.submit(locked, PaperQuote(time_us, quote.bid, quote.ask))

    return submit


def _bar_ticks(o, h, lo, c, spread, t_us, bar_us_len):
    """Four ticks in a bar: open, then the extreme nearer the open, the
    other extreme, the close (how replays of bar history move)."""
    first, second = (lo, h) if abs(o - lo) <= abs(h - o) else (h, lo)
    step = max(bar_us_len // 4, 1)
    times = np.array([t_us, t_us + step, t_us + 2 * step, t_us + 3 * step], dtype=np.int64)
    bid = np.array([o, first, second, c])
    return times, bid, bid + spread


def replay(deployment_id: int) -> str:
    """Walk the stored bars of a replay deployment (a long task; pausing or
    stopping ends it, resuming continues from the saved runner)."""
    from apps.marketdata.batches import TickBatch
    from apps.marketdata.selectors import source_with_most_bars
    from apps.marketdata.services.ingest import ticks_ingest
    from apps.trading.brokers import paper

    dep = (
        Deployment.objects.select_related("account", "instrument", "source")
        .filter(pk=deployment_id)
        .first()
    )
    if dep is None or dep.status != Deployment.Status.RUNNING or dep.mode != "replay":
        return "not running"
    source = dep.source or source_with_most_bars(
        dep.instrument, dep.timeframe, dep.replay_start, dep.replay_end
    )
    if source is None:
        _fail(deployment_id, f"No {dep.timeframe} bars of {dep.instrument.symbol} to replay.")
        return "failed"
    arrays = data_mod.load_arrays(
        dep.instrument, source, dep.timeframe, dep.replay_start, dep.replay_end
    )
    if not arrays:
        _fail(deployment_id, f"No {dep.timeframe} bars of {dep.instrument.symbol} to replay.")
        return "failed"
    spread = np.nan_to_num(data_mod.fill_spread(arrays["spread"]))
    n = len(arrays["time_us"])
    runner = Runner.loads(dep.state) if dep.state else Runner(BUILTIN[dep.strategy](**dep.params))
    pending: list = getattr(runner, "pending_intents", [])
    tick_source = _replay_source(dep)
    bar_len = calendar.timeframe_us(dep.timeframe)
    digits = dep.instrument.digits
    symbol = dep.instrument.symbol
    started = dep.bars_seen

    def money(x):
        return Decimal(f"{x:.{digits}f}")

    for j in range(started, n):
        t_us = int(arrays["time_us"][j])
        o, h, lo, c = (float(arrays[k][j]) for k in ("open", "high", "low", "close"))
        with transaction.atomic():
            state = (
                Deployment.objects.select_for_update()
                .filter(pk=deployment_id)
                .values_list("status", flat=True)
                .first()
            )
            if state != Deployment.Status.RUNNING:
                runner.pending_intents = pending
                Deployment.objects.filter(pk=deployment_id).update(state=runner.dumps())
                return state or "deleted"
            open_quote = Quote(money(o), money(o + spread[j]))
            executor = Executor(dep, {symbol: open_quote})
            executor.intents = pending
            executor.place(bar_us=t_us, quote=open_quote, submit=_submit_at(open_quote, t_us))
            times, bid, ask = _bar_ticks(o, h, lo, c, spread[j], t_us, bar_len)
            if (
                paper.has_working(dep.instrument_id)
                or Order.objects.filter(
                    account=dep.account,
                    instrument=dep.instrument,
                    status__in=(Order.Status.ACCEPTED, Order.Status.PARTIALLY_FILLED),
                ).exists()
            ):
                ticks_ingest(
                    instrument=dep.instrument,
                    source=tick_source,
                    batch=TickBatch(time_us=times, bid=bid, ask=ask),
                    publish=False,
                    now=int(times[-1]) + 1,
                )
                paper.match_ticks(
                    instrument_id=dep.instrument_id,
                    source_id=tick_source.pk,
                    first_us=int(times[0]),
                    last_us=int(times[-1]),
                    account_id=dep.account_id,
                )
            runner.bar(o, h, lo, c, float(arrays["volume"][j]), t_us, float(spread[j]))
            close_quote = Quote(money(c), money(c + spread[j]))
            executor = Executor(dep, {symbol: close_quote})
            try:
                runner.evaluate(LiveContext(runner, executor))
            except (StrategyError, ValueError, accounting.ConversionError) as exc:
                transaction.on_commit(lambda e=exc: _fail(deployment_id, str(e)))
                return "failed"
            pending = executor.intents
            progress = (j + 1) / n
            Deployment.objects.filter(pk=deployment_id).update(
                bars_seen=j + 1,
                progress=progress,
                last_bar_at=calendar.us_to_datetime(t_us),
            )
            if (j + 1) % 100 == 0 or j + 1 == n:
                runner.pending_intents = pending
                Deployment.objects.filter(pk=deployment_id).update(state=runner.dumps())
                dep.bars_seen, dep.progress = j + 1, progress
                _publish(dep)
    Deployment.objects.filter(pk=deployment_id, status=Deployment.Status.RUNNING).update(
        status=Deployment.Status.FINISHED, progress=1.0, updated_at=timezone.now()
    )
    dep.refresh_from_db()
    _publish(dep)
    return "finished"
