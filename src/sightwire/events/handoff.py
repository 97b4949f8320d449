"""Deliveries recorded in this process go straight to this process's dispatcher.

Without this, an event's deliveries are written as due, the dispatcher is woken, and
one database round later its claim query reads them back. With it, the store asks
the dispatcher's :class:`LocalHandoff` before writing how many of each destination's
deliveries it has room for, writes those rows already claimed (the claim token and a
lease, in the same transaction as the event), and after the commit hands them over
in memory. The rest are written due, as before, and the dispatcher is woken for them.

Nothing is lost if the process dies: a handed-over delivery is a claimed row like
any other; a restarted dispatcher (SQLite) or the lease's end (PostgreSQL) makes it
due again. A hand-over that arrives after the dispatcher stopped is released in the
database at once.

Threads: ``reserve``, ``recorded`` and ``cancel`` run on the recording thread; the
lanes belong to the dispatcher's event loop, so counts that both touch (a lane's
``inbound``) change under one lock, and the claims land on the loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from sightwire.core.ids import new_id
from sightwire.events.lanes import Lane
from sightwire.events.outbox import Claimed


@dataclass(slots=True)
class Reservation:
    """Room granted for one transaction: deliveries per destination, under one claim."""

    claim: str
    lease_end: float
    room: dict[str, int] = field(default_factory=dict)


class Handoff(Protocol):
    """What an event store asks of a dispatcher in its process (see the module doc)."""

    def reserve(self, wanted: Mapping[str, int], now: float) -> Reservation | None:
        """Room for up to ``wanted[destination]`` deliveries; None for none at all."""
        ...

    def recorded(self, reservation: Reservation | None, claimed: list[Claimed], due: int) -> None:
        """After the commit: ``claimed`` rows were written under ``reservation``, and
        ``due`` other deliveries were written due (for the claim query)."""
        ...

    def cancel(self, reservation: Reservation) -> None:
        """The transaction failed: give the room back."""
        ...


class LocalHandoff:
    """A dispatcher's side of the hand-over: it grants room in its lanes."""

    def __init__(
        self,
        lanes: Mapping[str, Lane],
        lease_s: float,
        loop: asyncio.AbstractEventLoop,
        land: Callable[[list[Claimed]], None],
        wake: Callable[[], None],
        release: Callable[[list[Claimed]], None],
    ) -> None:
        self.lanes = lanes
        self.lease_s = lease_s
        self._loop = loop
        self._land = land  # on the loop: put claims in their lanes and start them
        self._wake = wake  # any thread: look at the outbox
        self._release = release  # any thread: make claims due again in the database
        self._lock = threading.Lock()
        self._open = True

    def reserve(self, wanted: Mapping[str, int], now: float) -> Reservation | None:
        room: dict[str, int] = {}
        with self._lock:
            if not self._open:
                return None
            for destination, count in wanted.items():
                lane = self.lanes.get(destination)
                if lane is None:
                    continue
                granted = min(count, lane.room(now))
                if granted > 0:
                    lane.inbound += granted
                    room[destination] = granted
        return Reservation(new_id(now), now + self.lease_s, room) if room else None

    def recorded(self, reservation: Reservation | None, claimed: list[Claimed], due: int) -> None:
        if reservation is not None:
            with self._lock:
                landing = self._open
                if landing:
                    try:
                        self._loop.call_soon_threadsafe(self._arrive, reservation, claimed)
                    except RuntimeError:  # the loop is closed: as if stopped
                        landing = False
            if not landing:
                self._give_room_back(reservation)
                self._release(claimed)
        if due:
            self._wake()

    def cancel(self, reservation: Reservation) -> None:
        self._give_room_back(reservation)

    def close(self) -> None:
        """Grant no more room; later hand-overs are released in the database instead.

        Hand-overs scheduled before this land on the loop's next turn.
        """
        with self._lock:
            self._open = False

    def _arrive(self, reservation: Reservation, claimed: list[Claimed]) -> None:
        self._give_room_back(reservation)
        self._land(claimed)

    def _give_room_back(self, reservation: Reservation) -> None:
        with self._lock:
            for destination, granted in reservation.room.items():
                self.lanes[destination].inbound -= granted
