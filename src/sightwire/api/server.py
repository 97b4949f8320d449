"""Serving the API with uvicorn in this process, with the pipelines beside it.

``Service`` is what ``sightwire serve`` runs: it starts the camera pipelines (unless
told not to), opens the API on the pipelines' event store, and serves it until
SIGINT/SIGTERM, then stops both. ``ApiServer`` is the uvicorn part alone, also
startable in a thread (tests, embedding).

>>> # Service(load_config("site.yaml")).run()                # blocks until Ctrl-C
>>> # service.start(); service.server.start_in_thread(); ...; service.close()
>>> # server = ApiServer(app, config.api); url = server.start_in_thread(); server.stop()

``open_api`` and ``close_api`` are the parts ``Service`` shares with ``sightwire demo``,
which serves the API beside pipelines it runs itself.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
import time
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from sightwire.api.app import create_app
from sightwire.api.context import ApiContext
from sightwire.api.streams import OpenStreams
from sightwire.config.api import ApiConfig
from sightwire.config.models import SightwireConfig
from sightwire.runtime.live import LiveView
from sightwire.runtime.runner import Runner
from sightwire.security.tls import uvicorn_ssl_kwargs

log = logging.getLogger("sightwire.serve")
START_TIMEOUT_S = 30.0
GRACE_S = 5
"""How long a stopping server lets requests in flight (an event stream) finish."""


class _Server(uvicorn.Server):
    """uvicorn's server, ending the app's event streams first when it stops (on a
    signal or :meth:`ApiServer.stop`): they never end by themselves, so uvicorn would
    wait out the grace period, then cancel them and log an ASGI traceback."""

    def __init__(self, config: uvicorn.Config, streams: OpenStreams | None) -> None:
        super().__init__(config)
        self.streams = streams

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.streams is not None:
            self.streams.close()
        await super().shutdown(sockets)


class ApiServer:
    """uvicorn serving one app, HTTPS (and mutual TLS) when the config says so."""

    def __init__(self, app: FastAPI, api: ApiConfig, *, grace_s: int = GRACE_S) -> None:
        self.https = api.tls is not None
        config = uvicorn.Config(
            app,
            host=api.host,
            port=api.port,
            log_config=None,  # Sightwire's logging formats apply to uvicorn's loggers too
            server_header=False,
            timeout_graceful_shutdown=grace_s,
            **uvicorn_ssl_kwargs(api.tls),
        )
        context = getattr(app.state, "context", None)
        self.server = _Server(config, getattr(context, "streams", None))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The base URL, with the port the socket really got (``port: 0`` picks one)."""
        config = self.server.config
        port = config.port
        servers: list[Any] = getattr(self.server, "servers", [])
        if servers and servers[0].sockets:
            port = servers[0].sockets[0].getsockname()[1]
        host = "localhost" if config.host in ("127.0.0.1", "0.0.0.0", "::") else config.host
        return f"{'https' if self.https else 'http'}://{host}:{port}"

    def run(self) -> None:
        """Serve until SIGINT/SIGTERM (uvicorn's handlers; main thread only)."""
        self.server.run()

    def start_in_thread(self, timeout: float = START_TIMEOUT_S) -> str:
        """Serve from a thread; returns the URL once the socket listens."""
        self._thread = threading.Thread(target=self.server.run, name="sightwire-api", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the API server did not start (see the log)")
            time.sleep(0.01)  # polling uvicorn's flag: it offers no event to wait on
        return self.url

    def hang_up(self, timeout: float = 1.0) -> None:
        """Stop listening and close every open connection now, from any thread; then
        :meth:`stop`. An open event stream hears a disconnect and ends cleanly, where
        :meth:`stop` alone would wait out the grace period, cancel it and log an error.
        """
        servers: list[Any] = getattr(self.server, "servers", [])
        if not servers:
            return
        closed = threading.Event()

        def close() -> None:  # on the server's event loop: transports are not thread-safe
            for server in servers:
                server.close()
            for connection in list(self.server.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.close()
            closed.set()

        try:
            servers[0].get_loop().call_soon_threadsafe(close)
        except RuntimeError:  # the loop has ended: nothing is open
            return
        closed.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish its requests and stop; wait for its thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None


class Service:
    """The API and, unless ``pipelines`` is false, every camera's pipeline."""

    def __init__(self, config: SightwireConfig, *, pipelines: bool = True) -> None:
        self.config = config
        self.live = LiveView(config)
        self.runner = Runner(config, on_result=self.live.observe) if pipelines else None
        self.context, self.server = open_api(config, self.live, self.runner)

    def start(self) -> None:
        """Start the pipelines (the server is started by :meth:`run`)."""
        if self.runner is not None:
            self.runner.start()
            self.live.attach(self.runner)
        self._announce()

    def run(self) -> None:
        """Start the pipelines, serve until SIGINT/SIGTERM, then stop everything.

        uvicorn handles the signal while it serves and raises it again when done;
        the handlers installed here take that second delivery, so the pipelines and
        the database are closed before the process exits (status 0).
        """

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            self.server.server.should_exit = True

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.start()
            self.server.run()
        finally:
            self.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def close(self) -> None:
        """Stop the server (if in a thread) and the pipelines; close the database."""
        self.server.stop()
        if self.runner is not None:
            self.runner.stop()
        close_api(self.context)
        log.info("stopped")

    def _announce(self) -> None:
        api = self.config.api
        scheme = "https" if api.tls is not None else "http"
        mtls = " with client certificates" if api.tls and api.tls.client_ca else ""
        cameras = len(self.config.cameras) if self.runner is not None else 0
        if not api.keys and api.oidc is None:
            log.warning("api.keys is false and api.oidc is unset: no one can sign in")
        log.info(
            "serving %s://%s:%s%s (OpenAPI page at /api/docs), %d camera pipelines",
            scheme,
            api.host,
            api.port,
            mtls,
            cameras,
        )


def listen_on(
    config: SightwireConfig, host: str | None = None, port: int | None = None
) -> SightwireConfig:
    """``config`` with ``api.host`` and ``api.port`` replaced where given (``--host``,
    ``--port``); validated like the file's own values."""
    updates = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    if not updates:
        return config
    api = config.api.model_validate({**config.api.model_dump(), **updates})
    return config.model_copy(update={"api": api})


def open_api(
    config: SightwireConfig,
    live: LiveView,
    runner: Runner | None,
    *,
    grace_s: int = GRACE_S,
) -> tuple[ApiContext, ApiServer]:
    """The API of ``config`` on ``runner``'s event store (so the event stream hears of
    its events at once), and a server for it, not yet started.

    Without a runner, or with pipelines that record nothing, the API opens the store.
    """
    store = runner.output.store if runner is not None and runner.output is not None else None
    context = ApiContext.open(config, live=live, store=store)
    return context, ApiServer(create_app(context), config.api, grace_s=grace_s)


def close_api(context: ApiContext) -> None:
    """Close what :func:`open_api` opened beside the server: OIDC's client, the database."""
    close_oidc = getattr(context.oidc, "close", None)
    if close_oidc is not None:
        close_oidc()
    context.store.db.close()
