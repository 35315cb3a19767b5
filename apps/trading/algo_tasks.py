"""Celery tasks of the execution algorithms (``apps.trading.algos``): thin,
idempotent, on the ``execution`` queue.

Each step that moves an algo on queues the next one for the next slice time
(after commit); the beat sweeper steps any algo whose slice is overdue, so a
lost or killed task delays an algo by at most one sweep, never stalls it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from apps.trading import algos
from apps.trading.models import AlgoOrder

logger = logging.getLogger(__name__)

# The queue of every algo task. Named at each call (and in the beat entry)
# rather than with the task's ``queue`` attribute, which Celery deprecates;
# ``CELERY_TASK_ROUTES`` routes only ``apps.trading.tasks.*`` there.
QUEUE = "execution"
# How soon after a slice the algo's progress is refreshed from its children's
# fills (and, after the last slice, the algo completed).
REFRESH_SECONDS = 2.0
# Steps further ahead are left to the sweeper: a long ETA waits in a worker's
# memory and the broker redelivers it after its visibility timeout.
MAX_ETA = timedelta(hours=1)


def schedule_next(algo: AlgoOrder) -> None:
    """Queue the algo's next step once the current transaction commits: at
    its next slice time, or shortly when every slice is out and it waits for
    its children."""
    if algo.status not in algos.ACTIVE:
        return
    algo_id = algo.pk
    if algo.next_slice_at is None:
        transaction.on_commit(
            lambda: algo_step.apply_async((algo_id,), countdown=REFRESH_SECONDS, queue=QUEUE)
        )
        return
    eta = algo.next_slice_at
    if eta - timezone.now() > MAX_ETA:
        return
    transaction.on_commit(lambda: algo_step.apply_async((algo_id,), eta=eta, queue=QUEUE))


def _after_step(step: algos.Step) -> None:
    if step.advanced:
        schedule_next(step.algo)
    if step.child is not None:
        algo_id = step.algo.pk
        transaction.on_commit(
            lambda: algo_refresh.apply_async((algo_id,), countdown=REFRESH_SECONDS, queue=QUEUE)
        )


@shared_task(name="apps.trading.algo_tasks.algo_step", acks_late=True, ignore_result=True)
def algo_step(algo_id: int) -> str:
    """Send the algo's due slices (a no-op when nothing is due)."""
    step = algos.algo_step(algo_id=algo_id)
    if step.algo is None:
        return "missing"
    _after_step(step)
    return step.algo.status


@shared_task(name="apps.trading.algo_tasks.algo_refresh", ignore_result=True)
def algo_refresh(algo_id: int) -> str:
    """Bring the algo's progress up to date with its children's fills."""
    algo = algos.algo_refresh(algo_id=algo_id)
    return "missing" if algo is None else algo.status


@shared_task(name="apps.trading.algo_tasks.algo_sweep", ignore_result=True, expires=9)
def algo_sweep() -> dict:
    """Beat, every 10 s: step every algo that is due or waits for its
    children, and refresh the progress of the others still moving. One
    failing algo does not stop the others."""
    stepped, refreshed = [], []
    due = algos.algos_due()
    for algo_id in due:
        try:
            _after_step(algos.algo_step(algo_id=algo_id))
            stepped.append(algo_id)
        except Exception:
            logger.exception("algo %s: step failed", algo_id)
    for algo_id in algos.algos_to_refresh():
        if algo_id in due:
            continue
        try:
            algos.algo_refresh(algo_id=algo_id)
            refreshed.append(algo_id)
        except Exception:
            logger.exception("algo %s: refresh failed", algo_id)
    return {"stepped": stepped, "refreshed": refreshed}
