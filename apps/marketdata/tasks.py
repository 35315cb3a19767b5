"""Celery tasks of market data: thin wrappers that take ids and call services."""

from celery import shared_task, signals

from apps.marketdata.services import imports, sources


@shared_task(name="apps.marketdata.tasks.import_process", acks_late=True, time_limit=6 * 3600)
def import_process(run_id: int) -> None:
    imports.import_process(run_id)


@shared_task(name="apps.marketdata.tasks.run_source", acks_late=False, ignore_result=True)
def run_source(source_id: int) -> None:
    """Run a live source until it is stopped (on the ``feeds`` or ``mt5`` queue)."""
    sources.source_run(source_id)


@shared_task(name="apps.marketdata.tasks.supervise_sources", ignore_result=True, expires=20)
def supervise_sources() -> None:
    """Restart live sources whose runner died (worker restart, crash)."""
    sources.sources_supervise()


@signals.worker_shutting_down.connect
def _stop_source_runners(**kwargs) -> None:
    # Runners return promptly and leave their sources to the next worker.
    sources.worker_shutdown.set()
