"""Writes of the strategies domain: saved strategies, backtest requests,
runs (called by the ``backtests`` worker) and cancellation."""

from __future__ import annotations

import logging
import time

import numpy as np
from django.db import transaction
from django.utils import timezone

from apps.strategies import config as config_mod
from apps.strategies.builtin import BUILTIN
from apps.strategies.engine import data as data_mod
from apps.strategies.engine import metrics as metrics_mod
from apps.strategies.engine.run import Result, run
from apps.strategies.errors import BacktestCancelled, InvalidParameters, StrategyError
from apps.strategies.models import Backtest, SavedStrategy
from apps.trading import events

logger = logging.getLogger(__name__)

TRADE_COLUMNS = (
    "symbol",
    "side",
    "lots",
    "units",
    "entry_time",
    "entry_price",
    "exit_time",
    "exit_price",
    "gross_pnl",
    "commission",
    "swap",
    "net_pnl",
    "reason",
    "bars",
)


# --- saved strategies ------------------------------------------------------


def strategy_save(
    *,
    owner,
    name: str,
    strategy: str,
    params: dict | None,
    description: str = "",
    instance: SavedStrategy | None = None,
) -> SavedStrategy:
    """Create or update a saved strategy with validated parameters."""
    cls = BUILTIN.get(strategy)
    if cls is None:
        raise InvalidParameters(
            fields={"strategy": [f"One of {', '.join(BUILTIN)}."]},
        )
    try:
        values = cls.validate(params or {})
    except InvalidParameters as exc:
        raise InvalidParameters(
            exc.message, fields={f"params.{k}": v for k, v in exc.fields.items()}
        ) from None
    name = (name or "").strip()
    if not name:
        raise InvalidParameters(fields={"name": ["Required."]})
    clash = SavedStrategy.objects.filter(owner=owner, name=name)
    if instance is not None:
        clash = clash.exclude(pk=instance.pk)
    if clash.exists():
        raise InvalidParameters(fields={"name": ["You already have a strategy of that name."]})
    row = instance or SavedStrategy(owner=owner)
    row.name, row.strategy, row.params, row.description = name, strategy, values, description
    row.save()
    return row


# --- backtests -------------------------------------------------------------


def backtest_request(*, user, data: dict) -> Backtest:
    """Check the request, store it and queue the run once committed."""
    from apps.strategies.tasks import run_backtest

    spec = config_mod.parse(data, user=user)
    backtest = Backtest.objects.create(
        owner=user,
        strategy=spec.strategy_key,
        saved_strategy=spec.saved_strategy,
        params=spec.params,
        symbols=[i.symbol for i in spec.instruments],
        timeframe=spec.timeframe,
        start=spec.start,
        end=spec.end,
        settings=spec.settings_json(),
        path=spec.path,
    )
    transaction.on_commit(lambda: run_backtest.delay(backtest.pk))
    return backtest


def _spec_of(backtest: Backtest) -> config_mod.BacktestSpec:
    return config_mod.parse_stored(
        strategy=backtest.strategy,
        params=backtest.params,
        symbols=backtest.symbols,
        timeframe=backtest.timeframe,
        start=backtest.start,
        end=backtest.end,
        settings=backtest.settings,
        path=backtest.path,
    )


def _publish(backtest: Backtest, **extra) -> None:
    events.publish(
        backtest.owner_id,
        "backtest",
        {
            "id": backtest.pk,
            "status": backtest.status,
            "progress": round(backtest.progress, 4),
            **extra,
        },
    )


def load_series(spec: config_mod.BacktestSpec) -> list[data_mod.Series]:
    series = [
        data_mod.load_series(i, spec.timeframe, spec.start, spec.end) for i in spec.instruments
    ]
    data_mod.attach_rates(series, spec.settings.account_ccy, spec.timeframe)
    if spec.settings.ticks:
        for se in series:
            data_mod.load_ticks(se, spec.start, spec.end)
    return series


def execute(spec: config_mod.BacktestSpec, *, progress=None, cancelled=None) -> Result:
    """Load the bars (and ticks when asked) and run the engine (no database writes)."""
    series = load_series(spec)
    result = run(
        spec.factory(),
        series,
        spec.settings,
        path=spec.path,
        progress=progress,
        cancelled=cancelled,
    )
    if spec.settings.ticks:
        for se in series:
            symbol = se.spec.symbol
            if se.ticks is not None and len(se.ticks):
                with_ticks = int(np.count_nonzero(se.ticks.hi > se.ticks.lo))
                result.notes.append(
                    f"Filled inside bars from {len(se.ticks):,} stored ticks of {symbol} "
                    f"({with_ticks:,} of {len(se):,} bars had ticks; the others from the bar)."
                )
            else:
                result.notes.append(
                    f"No ticks stored for {symbol} in the period: filled from bars."
                )
    return result


def backtest_run(backtest_id: int) -> str:
    """Run a queued backtest (the ``backtests`` worker); idempotent: a run
    already finished, or started by another delivery, is left alone."""
    with transaction.atomic():
        backtest = Backtest.objects.select_for_update().filter(pk=backtest_id).first()
        if backtest is None or backtest.status != Backtest.Status.QUEUED:
            return "skipped"
        if backtest.cancel_requested:
            backtest.status = Backtest.Status.CANCELLED
            backtest.finished_at = timezone.now()
            backtest.save(update_fields=["status", "finished_at"])
            _publish(backtest)
            return backtest.status
        backtest.status = Backtest.Status.RUNNING
        backtest.started_at = timezone.now()
        backtest.save(update_fields=["status", "started_at"])
        _publish(backtest)

    last = [0.0]

    def progress(fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5:
            return
        last[0] = now
        backtest.progress = min(fraction, 0.99)
        Backtest.objects.filter(pk=backtest.pk).update(progress=backtest.progress)
        _publish(backtest)

    def cancelled() -> bool:
        return Backtest.objects.filter(pk=backtest.pk, cancel_requested=True).exists()

    try:
        result = execute(_spec_of(backtest), progress=progress, cancelled=cancelled)
    except BacktestCancelled:
        return _finish(backtest, Backtest.Status.CANCELLED)
    except StrategyError as exc:
        return _finish(backtest, Backtest.Status.FAILED, error=exc.message, code=exc.code)
    except Exception as exc:  # a bug must not leave the run "running" forever
        logger.exception("backtest %s failed", backtest.pk)
        return _finish(backtest, Backtest.Status.FAILED, error=str(exc), code="internal_error")
    backtest.path_used = result.path
    backtest.bars = result.bars
    backtest.seconds = result.seconds
    backtest.metrics = result.metrics
    backtest.equity = pack_equity(result)
    backtest.trades = pack_trades(result.trades)
    backtest.monthly = result.monthly
    backtest.notes = list(result.notes)
    if result.rejected:
        backtest.notes.append(
            f"{len(result.rejected)} orders refused: the equity did not cover their margin "
            "(NO_MONEY)."
        )
    backtest.progress = 1.0
    return _finish(
        backtest,
        Backtest.Status.DONE,
        fields=[
            "path_used",
            "bars",
            "seconds",
            "metrics",
            "equity",
            "trades",
            "monthly",
            "notes",
            "progress",
        ],
    )


def _finish(backtest: Backtest, status: str, *, error: str = "", code: str = "", fields=()) -> str:
    backtest.status = status
    backtest.error, backtest.error_code = error[:2000], code
    backtest.finished_at = timezone.now()
    backtest.save(update_fields=["status", "error", "error_code", "finished_at", *fields])
    _publish(backtest, metrics=backtest.metrics if status == Backtest.Status.DONE else None)
    return status


def backtest_cancel(*, backtest: Backtest) -> Backtest:
    """Ask a queued or running backtest to stop (the run checks between
    chunks of bars); a finished one is left as it is."""
    with transaction.atomic():
        row = Backtest.objects.select_for_update().get(pk=backtest.pk)
        if row.status in Backtest.FINAL:
            return row
        row.cancel_requested = True
        fields = ["cancel_requested"]
        if row.status == Backtest.Status.QUEUED:
            row.status = Backtest.Status.CANCELLED
            row.finished_at = timezone.now()
            fields += ["status", "finished_at"]
        row.save(update_fields=fields)
        transaction.on_commit(lambda: _publish(row))
    return row


# --- results ---------------------------------------------------------------


def pack_equity(result: Result, points: int = 2000) -> dict:
    keep = metrics_mod.downsample(result.time_us, result.equity, points)
    dd = result.drawdown
    return {
        "time": (result.time_us[keep] // 1000).tolist(),
        "equity": np.round(result.equity[keep], 2).tolist(),
        "drawdown": np.round(dd[keep], 6).tolist(),
        "points": int(len(result.equity)),
    }


def pack_trades(trades: list[dict]) -> dict:
    """Columns (compact JSON); times in ms."""
    out = {name: [] for name in TRADE_COLUMNS}
    for t in trades:
        for name in TRADE_COLUMNS:
            value = t[name]
            if name in ("entry_time", "exit_time"):
                value = value // 1000
            elif isinstance(value, float):
                value = round(value, 8)
            out[name].append(value)
    return out
