"""``sightwire demo``'s window on itself: the API and the web UI, served on the demo's
own event store while it runs, with an admin key made for this run only.

The server is the one ``sightwire serve`` runs (:func:`sightwire.api.server.open_api`),
on 127.0.0.1 only: the key is an admin's. The key is printed once, with the URL, and
revoked when the demo ends (both recorded in the audit trail, like any key's); a key
left active by a demo that was killed is revoked by the next one.

>>> # with demo_api(config, runner, live, 8080, console) as served:   # prints URL and key
>>> #     runner.start(); ...                                          # served.ui: .../ui
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from rich.console import Console

from sightwire.cli.keys import cli_actor
from sightwire.config import SightwireConfig
from sightwire.security.principal import Role

if TYPE_CHECKING:  # FastAPI and uvicorn load when the demo serves, not with every command
    from sightwire.api.context import ApiContext
    from sightwire.api.server import ApiServer
    from sightwire.runtime.live import LiveView
    from sightwire.runtime.runner import Runner
    from sightwire.security.keys import ApiKeyStore, IssuedKey

HOST = "127.0.0.1"  # the demo's key is an admin's: this machine only
KEY_NAME = "sightwire demo"
GRACE_S = 1  # an open event stream (the Events page) must not hold up Ctrl-C


@dataclass(frozen=True, slots=True)
class Served:
    """Where the demo serves: ``url`` is the API's base, ``ui`` the web UI."""

    url: str

    @property
    def ui(self) -> str:
        return f"{self.url}/ui"


@contextmanager
def demo_api(
    config: SightwireConfig,
    runner: Runner,
    live: LiveView,
    port: int,
    console: Console,
) -> Iterator[Served | None]:
    """Serve the API and UI on ``runner``'s event store on ``port`` (taken: a free
    one, said so) while the block runs, and print the URL and a demo key; then stop
    serving and revoke the key. Yields None, having said why, when it cannot serve:
    the demo goes on without the UI."""
    from sightwire.api.server import close_api, listen_on
    from sightwire.security.audit import AuditTrail
    from sightwire.security.keys import ApiKeyStore

    config = listen_on(config, HOST, _port(port, console))
    opened = _open(config, live, runner, console)
    if opened is None:
        yield None
        return
    context, server = opened
    live.attach(runner)  # camera states for the Live and Health pages
    keys = ApiKeyStore(context.store.db, audit=AuditTrail(context.store.db))
    issued: IssuedKey | None = None
    try:
        url = _start(server, console)
        if url is not None:
            issued = _demo_key(keys) if config.api.keys else None
            _announce(url, issued, console)
        yield Served(url) if url is not None else None
    finally:
        server.hang_up()  # the UI's event stream would hold the stop up, then log an error
        server.stop()
        if issued is not None:
            keys.revoke(issued.id, by=cli_actor())
            console.print("stopped serving the UI; the demo key is revoked")
        close_api(context)


def _port(wanted: int, console: Console) -> int:
    """``wanted`` when it is free, else 0 (any free port), said so."""
    if wanted == 0 or _free(wanted):
        return wanted
    console.print(
        f"port {wanted} is taken (another program, or another demo): serving the UI on a "
        "free port instead (--port chooses one)"
    )
    return 0


def _free(port: int) -> bool:
    """Whether ``port`` can be listened on, asked the way uvicorn binds (SO_REUSEADDR:
    a port a finished server left in TIME_WAIT counts as free)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:  # in use, or not ours to take (below 1024)
            return False
    return True


def _open(
    config: SightwireConfig, live: LiveView, runner: Runner, console: Console
) -> tuple[ApiContext, ApiServer] | None:
    """``sightwire serve``'s API on the runner's store; None (said why) when the
    config's ``api.tls`` files cannot be read."""
    from sightwire.api.server import open_api
    from sightwire.security.tls import TlsError

    try:
        return open_api(config, live, runner, grace_s=GRACE_S)
    except TlsError as exc:
        console.print(f"cannot serve the API and UI ({exc}); the demo goes on without them")
        return None


def _start(server: ApiServer, console: Console) -> str | None:
    """Start ``server`` in a thread; its base URL, or None when it did not start."""
    try:
        url = server.start_in_thread()
    except RuntimeError:  # e.g. the port was taken between the check and the bind
        console.print("could not serve the API and UI (see the log); the demo goes on")
        return None
    parts = urlsplit(url)  # the server names 127.0.0.1 "localhost"; keep the address
    return f"{parts.scheme}://{HOST}:{parts.port}"


def _demo_key(keys: ApiKeyStore) -> IssuedKey:
    """A new admin key for this run, after revoking any a killed demo left active."""
    actor = cli_actor()
    for info in keys.list(include_revoked=False):
        if info.name == KEY_NAME:
            keys.revoke(info.id, by=actor)
    return keys.create(KEY_NAME, Role.ADMIN, None, created_by=actor)


def _announce(url: str, issued: IssuedKey | None, console: Console) -> None:
    # Printed, never logged: the key is the user's own, for this run, on this machine.
    if issued is None:
        console.print(f"UI: {url}/ui  (api.keys is false: sign in with an OIDC token)")
        return
    console.print(
        f"UI: {url}/ui  key: {issued.secret}", markup=False, highlight=False, soft_wrap=True
    )
    console.print(
        "  (a demo admin key, made for this run and revoked when it ends: paste it on "
        "the sign-in page; the API takes it as 'Authorization: Bearer <key>')",
        markup=False,
        highlight=False,
    )
