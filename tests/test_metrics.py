"""/metrics aggregates web and worker processes (prometheus multiprocess mode)."""

import httpx
import pytest

from apps.monitoring.tasks import ping

pytestmark = pytest.mark.django_db(transaction=True)


def test_metrics_include_http_and_worker_task_metrics(daphne_server, celery_worker):
    ping.delay("metrics").get(timeout=30)
    httpx.get(f"{daphne_server.base_url}/healthz", timeout=5)
    response = httpx.get(f"{daphne_server.base_url}/metrics", timeout=10)
    assert response.status_code == 200
    text = response.text
    # Recorded by the worker process, served by the web process.
    assert 'fx_celery_tasks_total{state="SUCCESS",task="apps.monitoring.tasks.ping"}' in text
    assert "django_http_requests_total_by_method_total" in text
