"""Strategy tasks, on the ``backtests`` queue: they take ids and call one service."""

from celery import shared_task

from apps.strategies import services


@shared_task(name="apps.strategies.tasks.run_backtest", acks_late=True, ignore_result=True)
def run_backtest(backtest_id: int) -> str:
    return services.backtest_run(backtest_id)
