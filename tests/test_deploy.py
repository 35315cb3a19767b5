"""Production settings, the compose stack and the served dashboard."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)


def test_production_settings_pass_check_deploy_without_warnings():
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fxsite.settings.production",
        "DJANGO_SECRET_KEY": "p" * 20 + "roduction-Secret-Key-0123456789-!@#$%^&*()-abcdefghij",
        "DJANGO_ALLOWED_HOSTS": "fx.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(DJANGO_SETTINGS_MODULE="fxsite.settings.production", DJANGO_ALLOWED_HOSTS="x")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def _compose() -> dict:
    return yaml.safe_load((BASE_DIR / "docker-compose.yml").read_text())


def test_compose_stack_shape():
    compose = _compose()
    services = compose["services"]
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    app_services = ("web", "worker", "beat")
    images = {
        services[name]["build"]["context"] if "build" in services[name] else None
        for name in app_services
    }
    assert images == {"."}, "web, worker and beat share one application image"
    assert len({services[name]["image"] for name in app_services}) == 1
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert "fxsite.webserver" in services["web"]["command"]  # Daphnes on one port
    assert "fxsite.asgi:application" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "DatabaseScheduler" in " ".join(services["beat"]["command"])
    assert (BASE_DIR / "Dockerfile").exists()


def _docker_compose() -> list[str] | None:
    if shutil.which("docker"):
        if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


@pytest.mark.skipif(_docker_compose() is None, reason="no docker compose client on this machine")
def test_docker_compose_config_validates():
    env = {**os.environ, "DJANGO_SECRET_KEY": "x" * 60, "POSTGRES_PASSWORD": "pw"}
    result = subprocess.run(
        [*_docker_compose(), "-f", "docker-compose.yml", "config", "--quiet"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_dashboard_is_served_at_root_and_client_routes(client):
    index = BASE_DIR / "frontend" / "dist" / "index.html"
    assert index.exists(), "build the dashboard first: make frontend"
    for path in ("/", "/login", "/some/client/route"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert b'<div id="root">' in response.content
        assert b"/static/assets/" in response.content
