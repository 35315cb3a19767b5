"""A real Celery task round trip: web process → Redis → worker → Redis."""

import httpx
import pytest

from apps.monitoring.context import reset_request_id, set_request_id
from apps.monitoring.tasks import ping

pytestmark = pytest.mark.django_db(transaction=True)


def test_task_round_trip_through_redis(celery_worker):
    result = ping.delay("hello").get(timeout=30)
    assert result["value"] == "hello"
    assert result["worker"]


def test_request_id_is_carried_into_the_task_and_its_logs(celery_worker):
    token = set_request_id("req-from-http-123")
    try:
        result = ping.delay("traced").get(timeout=30)
    finally:
        reset_request_id(token)
    assert result["request_id"] == "req-from-http-123"
    assert '"request_id": "req-from-http-123"' in celery_worker.log()


def test_tasks_are_routed_to_their_queue(celery_worker):
    from fxsite.celery import app

    route = app.amqp.router.route({}, "apps.marketdata.tasks.anything")
    assert route["queue"].name == "marketdata"
    route = app.amqp.router.route({}, "apps.trading.tasks.anything")
    assert route["queue"].name == "execution"


def test_readyz_is_green_with_a_worker_on_every_queue(celery_worker, daphne_server):
    response = httpx.get(f"{daphne_server.base_url}/readyz", timeout=15)
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    for name in ("database", "redis", "channel_layer", "celery"):
        assert body["checks"][name]["ok"] is True
        assert body["checks"][name]["latency_ms"] >= 0
    for queue in ("default", "marketdata", "execution", "backtests", "ml"):
        assert celery_worker.hostname in body["checks"]["celery"]["queues"][queue]["workers"]
