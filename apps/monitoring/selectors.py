"""Readiness: the state and latency of every service the platform needs."""

import time
from collections.abc import Callable
from typing import Any

import redis
from asgiref.sync import async_to_sync
from channels import DEFAULT_CHANNEL_LAYER
from channels.layers import channel_layers
from django.conf import settings
from django.db import connection

CHECK_TIMEOUT = 2.0


def _timed(check: Callable[[], dict[str, Any] | None]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        extra = check() or {}
        ok = extra.pop("ok", True)
        result: dict[str, Any] = {"ok": ok, **extra}
    except Exception as exc:  # a readiness probe reports failures, never raises
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return result


def _check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _check_redis() -> dict[str, Any]:
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=CHECK_TIMEOUT, socket_connect_timeout=CHECK_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()
    return {}


async def _layer_round_trip() -> None:
    import asyncio

    # A layer of its own: probes from several threads must not share (and,
    # on a timeout, disturb) the receive state of the process-wide layer.
    if DEFAULT_CHANNEL_LAYER not in settings.CHANNEL_LAYERS:
        raise RuntimeError("no channel layer configured")
    layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
    try:
        channel = await layer.new_channel("readyz.")
        await layer.send(channel, {"type": "readyz.ping"})
        message = await asyncio.wait_for(layer.receive(channel), timeout=CHECK_TIMEOUT)
        if message.get("type") != "readyz.ping":
            raise RuntimeError(f"unexpected message {message!r}")
    finally:
        close = getattr(layer, "close_pools", None)
        if close is not None:
            await close()


def _check_channel_layer() -> dict[str, Any]:
    async_to_sync(_layer_round_trip)()
    return {}


def _check_celery() -> dict[str, Any]:
    from fxsite.celery import app

    replies = app.control.inspect(timeout=0.5).active_queues() or {}
    queues: dict[str, dict[str, Any]] = {
        name: {"ok": False, "workers": []} for name in settings.CELERY_QUEUES
    }
    for worker, worker_queues in replies.items():
        for queue in worker_queues or []:
            entry = queues.setdefault(queue["name"], {"ok": False, "workers": []})
            entry["workers"].append(worker)
            entry["ok"] = True
    return {"ok": all(entry["ok"] for entry in queues.values()), "queues": queues}


READINESS_CHECKS: dict[str, Callable[[], dict[str, Any] | None]] = {
    "database": _check_database,
    "redis": _check_redis,
    "channel_layer": _check_channel_layer,
    "celery": _check_celery,
}


def readiness() -> dict[str, Any]:
    """``{"status": "ok"|"fail", "checks": {name: {"ok", "latency_ms", ...}}}``."""
    checks = {name: _timed(check) for name, check in READINESS_CHECKS.items()}
    status = "ok" if all(check["ok"] for check in checks.values()) else "fail"
    return {"status": status, "checks": checks}
