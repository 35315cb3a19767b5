"""Strategy tasks, on the ``backtests`` queue: they take ids and call one service."""

from celery import shared_task

from apps.strategies import services


@shared_task(name="apps.strategies.tasks.run_backtest", acks_late=True, ignore_result=True)
def run_backtest(backtest_id: int) -> str:
    return services.backtest_run(backtest_id)


# Optimisations: a chord of trials, then a step that asks for more (Optuna),
# tests the winners out of sample (walk-forward) or finishes.


@shared_task(name="apps.strategies.tasks.optimisation_start", acks_late=True, ignore_result=True)
def optimisation_start(optimisation_id: int) -> str:
    from apps.strategies import optimise

    return optimise.start(optimisation_id)


@shared_task(name="apps.strategies.tasks.run_trial", acks_late=True, bind=True)
def run_trial_task(self, trial_id: int) -> int:
    """A chord member: its (small) result tells the chord it is done."""
    from apps.strategies import optimise

    return optimise.run_trial(trial_id, worker=self.request.hostname or "")


@shared_task(name="apps.strategies.tasks.optimisation_step", acks_late=True, ignore_result=True)
def optimisation_step(optimisation_id: int) -> str:
    from apps.strategies import optimise

    return optimise.step(optimisation_id)


@shared_task(name="apps.strategies.tasks.optimisation_finish", acks_late=True, ignore_result=True)
def optimisation_finish(optimisation_id: int) -> str:
    from apps.strategies import optimise

    return optimise.finish(optimisation_id)


# Deployments: a closed bar is evaluated quickly on the default queue (not
# behind long backtests); a replay is a long task on the backtests queue.


@shared_task(
    name="apps.strategies.tasks.deployment_bar", acks_late=True, ignore_result=True, expires=300
)
def deployment_bar(deployment_id: int, bar_us: int, source_id: int) -> str:
    from apps.strategies import deploy

    return deploy.on_bar(deployment_id, bar_us, source_id)


@shared_task(
    name="apps.strategies.tasks.deployment_ticks", acks_late=True, ignore_result=True, expires=60
)
def deployment_ticks(deployment_id: int, source_id: int, up_to_us: int) -> str:
    from apps.strategies import deploy

    return deploy.on_ticks(deployment_id, source_id, up_to_us)


@shared_task(name="apps.strategies.tasks.deployment_replay", acks_late=True, ignore_result=True)
def deployment_replay(deployment_id: int) -> str:
    from apps.strategies import deploy

    return deploy.replay(deployment_id)


def on_bars_closed(sender, instrument_id, source_id, bars, **kwargs) -> None:
    """Receiver of ``marketdata.signals.bars_closed``: only enqueues."""
    from apps.strategies import deploy

    deploy.on_bars_closed(instrument_id=instrument_id, source_id=source_id, bars=bars)


def on_ticks_stored(sender, instrument_id, source_id, last_us=None, **kwargs) -> None:
    """Receiver of ``marketdata.signals.ticks_stored``: only enqueues (for
    live deployments whose strategy has an ``on_tick``)."""
    from apps.strategies import deploy

    if last_us is not None:
        deploy.on_ticks_stored(instrument_id=instrument_id, source_id=source_id, last_us=last_us)
