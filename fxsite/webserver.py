"""The ``web`` process: several Daphne processes serving one port.

Django runs a sync view under ASGI on one thread per process, so a single
Daphne serves one request at a time, its database and Redis round trips
included: requests queue behind each other's waits while the other CPU core
idles. This starts ``--processes`` Daphnes (default ``WEB_PROCESSES``, else
the number of CPUs, at least 2), each adopting its own listening socket bound
to the same address with ``SO_REUSEPORT``, so the kernel spreads connections
over them. WebSocket groups live in the Redis channel layer, so a user's
sockets on different processes all get their events.

A Daphne that exits is started again (a crash loop ends the server with an
error); SIGTERM or SIGINT stops them all::

    python -m fxsite.webserver -b 127.0.0.1 -p 8000 [--processes N] -- \
        --proxy-headers fxsite.asgi:application
"""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import time

BACKLOG = 2048
RESTART_DELAY = float(os.environ.get("FX_WEBSERVER_RESTART_DELAY", "1.0"))
CRASH_WINDOW = 10.0  # a Daphne that exits sooner than this after starting "crashed"
MAX_CRASHES = 5  # in a row, for one slot: then the server stops with an error
STOP_TIMEOUT = 20.0


def default_processes() -> int:
    configured = os.environ.get("WEB_PROCESSES", "").strip()
    if configured:
        return int(configured)
    return max(2, os.cpu_count() or 1)


def _port_free(host: str, port: int) -> None:
    """Fail clearly if something already listens on the port: the sockets
    below share it with ``SO_REUSEPORT`` and must not share it with a stranger."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise SystemExit(f"webserver: {host}:{port} is already in use") from exc
            raise


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.set_inheritable(True)
    return sock


class _Slot:
    """One Daphne and the socket it serves; restarted when it exits."""

    def __init__(self, number: int, sock: socket.socket, daphne_args: list[str]) -> None:
        self.number = number
        self.sock = sock
        self.daphne_args = daphne_args
        self.proc: subprocess.Popen | None = None
        self.started = 0.0
        self.crashes = 0

    def start(self) -> None:
        fd = self.sock.fileno()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(fd), *self.daphne_args], pass_fds=(fd,)
        )
        self.started = time.monotonic()
        print(f"webserver: daphne {self.number} started (pid {self.proc.pid})", flush=True)

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()


def serve(host: str, port: int, processes: int, daphne_args: list[str]) -> int:
    if processes < 1:
        raise SystemExit("webserver: --processes must be at least 1")
    _port_free(host, port)
    slots = [_Slot(n, listening_socket(host, port), daphne_args) for n in range(processes)]
    stopping = False

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"webserver: {processes} Daphne processes on {host}:{port}", flush=True)
    for slot in slots:
        slot.start()
    status = 0
    while not stopping:
        time.sleep(0.2)
        for slot in slots:
            code = slot.exited()
            if code is None or stopping:
                continue
            quick = time.monotonic() - slot.started < CRASH_WINDOW
            slot.crashes = slot.crashes + 1 if quick else 1
            print(
                f"webserver: daphne {slot.number} (pid {slot.proc.pid}) exited with {code}",
                flush=True,
            )
            if slot.crashes >= MAX_CRASHES:
                print(
                    f"webserver: daphne {slot.number} exited {slot.crashes} times in a row "
                    f"within {CRASH_WINDOW:.0f} s of starting; stopping",
                    flush=True,
                )
                status, stopping = 1, True
                break
            time.sleep(RESTART_DELAY)
            if not stopping:
                slot.start()
    _stop_all(slots)
    return status


def _stop_all(slots: list[_Slot]) -> None:
    running = [s.proc for s in slots if s.proc is not None and s.proc.poll() is None]
    for proc in running:
        proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT
    for proc in running:
        try:
            proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for slot in slots:
        slot.sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fxsite.webserver",
        description="Serve HTTP and WebSockets with several Daphne processes on one port.",
    )
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument(
        "--processes",
        type=int,
        default=None,
        help="Daphne processes (default: WEB_PROCESSES, else the CPU count, at least 2)",
    )
    parser.add_argument("daphne_args", nargs="*", help="passed to each Daphne (after --)")
    args = parser.parse_args(argv)
    processes = args.processes if args.processes is not None else default_processes()
    daphne_args = args.daphne_args or ["fxsite.asgi:application"]
    return serve(args.bind, args.port, processes, daphne_args)


if __name__ == "__main__":
    sys.exit(main())
