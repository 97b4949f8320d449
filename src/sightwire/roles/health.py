"""``/healthz`` and ``/readyz`` for the ingest, worker and dispatch roles.

Plain HTTP/1.1 on asyncio streams, no auth, no framework: the Kubernetes probes of
the Helm chart (``roles.<role>.health.port``) are its only clients. ``/healthz``
answers 200 while the process runs its loop; ``/readyz`` answers 200 while the
role's ``ready()`` says so (its bus or database answers), 503 otherwise;
``/stats`` gives the role's counters as JSON (frames, events, last frame per camera),
and ``/metrics`` the same numbers in Prometheus' text format (``sightwire_<role>_<name>``;
per-camera values labelled) followed by the process's Sightwire registry (events
recorded, deliveries, capture-to-action latency, a worker's frame time and lag), for
the chart's ServiceMonitor.

>>> # server = await serve_health(8081, ready=lambda: role.ready)
>>> # ... later: server.close(); await server.wait_closed()
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

from prometheus_client import generate_latest

from sightwire.events.metrics import sightwire_registry

log = logging.getLogger("sightwire.health")
READ_TIMEOUT_S = 5.0


async def serve_health(
    port: int,
    ready: Callable[[], bool],
    host: str = "0.0.0.0",
    stats: Callable[[], Any] | None = None,
    role: str = "role",
) -> asyncio.Server:
    """Start answering the probes on ``host:port``; returns the running server."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].split(b"?")[0] if request.count(b" ") >= 2 else b""
            status, body = _status(path, ready, stats, role)
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: text/plain; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}".encode()
            )
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError):
            pass  # a probe that hung up or sent garbage gets nothing
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    server = await asyncio.start_server(answer, host, port)
    log.info("health on http://%s:%d/healthz and /readyz", host, port)
    return server


def _status(
    path: bytes, ready: Callable[[], bool], stats: Callable[[], Any] | None, role: str
) -> tuple[str, str]:
    if path == b"/healthz":
        return "200 OK", "ok\n"
    if path == b"/stats" and stats is not None:
        return "200 OK", json.dumps(stats()) + "\n"
    if path == b"/metrics" and stats is not None:
        registry = generate_latest(sightwire_registry()).decode()
        return "200 OK", prometheus_text(role, stats()) + registry
    if path == b"/readyz":
        try:
            is_ready = ready()
        except Exception:  # a failing check means not ready, never a dead server
            is_ready = False
        return ("200 OK", "ready\n") if is_ready else ("503 Service Unavailable", "not ready\n")
    return "404 Not Found", "not found\n"


def prometheus_text(role: str, stats: Any) -> str:
    """``stats``' numbers as Prometheus gauges; a mapping of numbers (per camera)
    becomes one labelled series each, lists and text are left out.

    >>> print(prometheus_text("worker", {"frames": 3, "last_seq": {"belt-1": 7}}), end="")
    # HELP sightwire_worker_frames The worker's frames (as on /stats)
    # TYPE sightwire_worker_frames gauge
    sightwire_worker_frames 3
    # HELP sightwire_worker_last_seq The worker's last seq (as on /stats)
    # TYPE sightwire_worker_last_seq gauge
    sightwire_worker_last_seq{camera="belt-1"} 7
    """
    lines: list[str] = []
    for name, value in stats.items() if isinstance(stats, dict) else ():
        metric = f"sightwire_{role}_{name}"
        series: list[str] = []
        if isinstance(value, int | float) and not isinstance(value, bool):
            series.append(f"{metric} {value}")
        elif isinstance(value, dict):
            for camera, number in sorted(value.items()):
                label = str(camera).replace("\\", "\\\\").replace('"', '\\"')
                series.append(f'{metric}{{camera="{label}"}} {number}')
        if series:
            what = name.replace("_", " ")
            lines += [f"# HELP {metric} The {role}'s {what} (as on /stats)",
                      f"# TYPE {metric} gauge", *series]  # fmt: skip
    return "".join(line + "\n" for line in lines)
