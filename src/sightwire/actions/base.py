"""What every action promises: deliver one event, say how it went.

An action is one kind of destination (a webhook, an HTTP call, an MQTT topic, a PLC
register, ...). The dispatcher owns retries, backoff, circuit breakers and the
delivery log; an action makes exactly one attempt per call and reports the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sightwire.core import Event


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One delivery attempt's outcome.

    ``retryable`` false means trying again cannot help (a 4xx other than 408/429, a
    template that names a missing field): the dispatcher dead-letters at once.
    ``retry_after_s``: the receiver asked to wait this long (``Retry-After``); the
    dispatcher waits at least that (up to its longest backoff) before the next try.
    """

    ok: bool
    retryable: bool = True
    status_code: int | None = None
    detail: str = ""
    retry_after_s: float | None = None


class Action(Protocol):
    """A named destination for events."""

    name: str

    def accepts(self, event: Event) -> bool:
        """Whether this action wants ``event`` (e.g. a webhook's type filter)."""
        ...

    async def send(self, event: Event) -> ActionResult:
        """Make one delivery attempt. Never raises for a delivery failure."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
