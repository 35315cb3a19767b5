"""``python -m fxsite.webserver``: several Daphne processes on one port."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import BASE_DIR, Process, _process_env, free_port

pytestmark = pytest.mark.django_db(transaction=True)


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return sorted(int(p) for p in out.split())


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += os.readlink(fd).startswith("socket:")
        except OSError:
            pass
    return count


class _Web(Process):
    """``python -m fxsite.webserver`` with ``processes`` Daphnes."""

    def __init__(self, tmp_path: Path, processes: int, port: int | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        metrics = tmp_path / "metrics"
        metrics.mkdir(exist_ok=True)
        super().__init__(
            f"web-{self.port}",
            [sys.executable, "-m", "fxsite.webserver", "-b", "127.0.0.1", "-p", str(self.port)]
            + ["--processes", str(processes), "--", "fxsite.asgi:application"],
            tmp_path,
            metrics,
        )

    def wait_serving(self, children: int) -> list[int]:
        self.wait_until(
            lambda: (
                len(_children(self.proc.pid)) == children
                and httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
            )
        )
        return _children(self.proc.pid)


@pytest.fixture
def web(tmp_path):
    servers = []

    def start(processes: int, port: int | None = None) -> _Web:
        servers.append(_Web(tmp_path, processes, port))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def test_connections_are_spread_over_every_daphne(web):
    server = web(2)
    pids = server.wait_serving(2)
    before = {pid: _sockets(pid) for pid in pids}
    clients = [httpx.Client(base_url=server.base, timeout=10) for _ in range(24)]
    try:
        for client in clients:  # one kept-alive connection each
            assert client.get("/healthz").status_code == 200
        grown = {pid: _sockets(pid) - before[pid] for pid in pids}
    finally:
        for client in clients:
            client.close()
    # about 12 each (other sockets of a process may open or close meanwhile)
    assert all(n >= 3 for n in grown.values()), grown


def test_a_daphne_that_dies_is_started_again(web):
    server = web(2)
    first, second = server.wait_serving(2)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        pids = _children(server.proc.pid)
        if len(pids) == 2 and first not in pids:
            break
        time.sleep(0.2)
    assert second in pids and first not in pids and len(pids) == 2, server.log()
    server.wait_serving(2)
    for _ in range(20):  # both sockets answer again
        with httpx.Client(base_url=server.base, timeout=10) as client:
            assert client.get("/healthz").status_code == 200
    assert f"(pid {first}) exited with -9" in server.log()


def test_sigterm_stops_every_daphne(web):
    server = web(3)
    pids = server.wait_serving(3)
    server.stop()
    assert server.proc.returncode == 0
    for pid in pids:  # stopped and reaped
        assert not Path(f"/proc/{pid}").exists()


def test_a_port_already_in_use_is_a_clear_error(web):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = web(2, port=taken.getsockname()[1])
        assert server.proc.wait(30) != 0
        assert f"127.0.0.1:{server.port} is already in use" in server.log()
        assert _children(server.proc.pid) == []


def test_a_daphne_that_cannot_start_stops_the_server(tmp_path):
    """A crash loop (here: an application that does not import) ends the
    server with an error instead of restarting forever."""
    port = free_port()
    env = _process_env(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "fxsite.webserver", "-p", str(port), "--processes", "1"]
        + ["--", "fxsite.no_such_module:application"],
        cwd=BASE_DIR,
        env={**env, "FX_WEBSERVER_RESTART_DELAY": "0.05"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert "exited 5 times in a row" in proc.stdout
