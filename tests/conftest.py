"""Real processes for integration tests: a Celery worker and Daphne.

They run as subprocesses against the test database (created by pytest-django)
and the same Redis, exactly as ``make run`` runs them. Tests that use them
must commit their data: mark them ``django_db(transaction=True)``.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent
ALL_QUEUES = ",".join(settings.CELERY_QUEUES)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@pytest.fixture(scope="session")
def metrics_dir(tmp_path_factory) -> Path:
    """prometheus_client multiprocess directory shared by Daphne and the worker."""
    return tmp_path_factory.mktemp("prometheus")


def _process_env(metrics: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="fxsite.settings.test",
        DATABASE_URL=_test_database_url(),
        REDIS_URL=settings.REDIS_URL,
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(metrics),
    )
    return env


class Process:
    def __init__(self, name: str, args: list[str], log_dir: Path, metrics: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=_process_env(metrics),
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_until(self, predicate, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")
            try:
                if predicate():
                    return
            except Exception:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()[-4000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


@pytest.fixture(scope="session")
def process_logs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("process-logs")


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, process_logs, metrics_dir):
    """A real ``celery worker`` consuming every queue of the platform."""
    from fxsite.celery import app

    hostname = f"test-worker-{os.getpid()}@localhost"
    with django_db_blocker.unblock():
        worker = Process(
            "celery-worker",
            [
                str(VENV_BIN / "celery"),
                "-A",
                "fxsite",
                "worker",
                "--loglevel",
                "INFO",
                "--hostname",
                hostname,
                "--queues",
                ALL_QUEUES,
                "--concurrency",
                "1",
                "--pool",
                "solo",
                "--without-gossip",
                "--without-mingle",
            ],
            process_logs,
            metrics_dir,
        )
    worker.wait_until(lambda: app.control.ping(destination=[hostname], timeout=0.5), timeout=60)
    worker.hostname = hostname
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def daphne_server(django_db_setup, django_db_blocker, process_logs, metrics_dir):
    """The real ``web`` process serving the ASGI app (HTTP and WebSocket): two
    Daphnes on one port, as ``make run`` runs it, so a request and the socket
    that gets its events are often served by different processes."""
    port = free_port()
    with django_db_blocker.unblock():
        server = Process(
            "daphne",
            [
                sys.executable,
                "-m",
                "fxsite.webserver",
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "--processes",
                "2",
                "--",
                "fxsite.asgi:application",
            ],
            process_logs,
            metrics_dir,
        )
    base = f"http://127.0.0.1:{port}"
    server.wait_until(lambda: httpx.get(f"{base}/healthz", timeout=1).status_code == 200)
    server.base_url = base
    server.ws_url = f"ws://127.0.0.1:{port}"
    yield server
    server.stop()
