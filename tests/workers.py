"""A real Celery worker that a test can SIGKILL, process group and all.

Unlike the session-wide ``celery_worker`` fixture (one solo process for the
whole run), these run the prefork pool as ``make run`` does and live in a
process group of their own, so ``kill()`` takes the parent and every pool
child at once, the way a lost machine or the OOM killer would, and leaves
their unacknowledged messages behind in Redis.

Each worker's database connections carry ``application_name`` ``worker.name``
(libpq's ``PGAPPNAME``), so a test can see in ``pg_stat_activity`` what they
are doing.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import BASE_DIR, VENV_BIN, _process_env

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: the worker gets SIGKILL if the test process itself is killed
    (no teardown then); its pool processes follow their parent."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class KillableWorker:
    def __init__(
        self,
        name: str,
        *,
        queues: str,
        log_dir: Path,
        metrics: Path,
        concurrency: int = 2,
    ):
        self.name = name
        self.hostname = f"{name}-{os.getpid()}@localhost"
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self._signalled = False
        env = _process_env(metrics)
        env["PGAPPNAME"] = name
        self.proc = subprocess.Popen(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "fxsite",
                "worker",
                "--loglevel",
                "INFO",
                "--hostname",
                self.hostname,
                "--queues",
                queues,
                "--pool",
                "prefork",
                "--concurrency",
                str(concurrency),
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killpg reaches the pool too
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60) -> None:
        from fxsite.celery import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-4000:]}")
            try:
                if app.control.ping(destination=[self.hostname], timeout=0.5):
                    return
            except Exception:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout}s:\n{self.log()[-4000:]}")

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the parent and every pool child: no shutdown, no acks, no
        requeue. Signals the group only once (its id could be reused later)."""
        if not self._signalled:
            self._signalled = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown if still running, SIGKILL if that takes too long;
        safe to call after ``kill()`` and more than once."""
        try:
            if not self._signalled:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                    self.proc.wait(timeout=20)
                    self._signalled = True
                except ProcessLookupError:
                    self._signalled = True
                except subprocess.TimeoutExpired:
                    self.kill()
        finally:
            if not self._log.closed:
                self._log.close()
