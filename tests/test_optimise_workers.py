"""An optimisation on real workers: its trials are a Celery chord on the
``backtests`` queue, shared by every worker that consumes it (here the
session's worker and a second one), then the walk-forward step and the
finish run as the chord's callbacks."""

import time

import pytest

from apps.accounts.tests.factories import UserFactory
from apps.strategies import optimise
from apps.strategies.models import Optimisation
from apps.strategies.tests.test_api import BODY, store_bars
from tests.workers import KillableWorker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def second_worker(celery_worker, process_logs, metrics_dir):
    worker = KillableWorker(
        "backtests-2",
        queues="backtests",
        log_dir=process_logs,
        metrics=metrics_dir,
        concurrency=1,
    )
    worker.wait_ready()
    yield worker
    worker.stop()


def test_trials_run_in_parallel_on_two_workers_and_walk_forward_completes(
    celery_worker, second_worker
):
    user = UserFactory(username="opt-workers", roles=["trader"])
    store_bars(n=12_000, seed=21)
    body = {
        **BODY,
        "params": {"stop_pips": 40},  # the bar-by-bar path: each trial takes a moment
        "start": "2024-01-08",
        "end": "2025-05-01",
        "space": {"fast": {"values": [5, 8, 12]}, "slow": {"values": [20, 30]}},
        "min_trades": 1,
        "walk_forward": {"mode": "anchored", "in_sample_days": 200, "out_of_sample_days": 90},
    }
    opt = optimise.request(user=user, data=body)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        opt.refresh_from_db()
        if opt.status in Optimisation.FINAL:
            break
        time.sleep(0.25)
    assert opt.status == "done", (opt.status, opt.error, second_worker.log()[-2000:])
    workers = set(opt.trials.values_list("worker", flat=True))
    assert celery_worker.hostname in workers and second_worker.hostname in workers
    n = len(optimise.windows(opt.start, opt.end, opt.walk_forward))
    assert opt.trials.filter(phase="is").count() == 6 * n
    assert opt.trials.filter(phase="oos", status="done").count() == n
    assert len(opt.result["windows"]) == n and opt.result["stitched_equity"]["equity"]
