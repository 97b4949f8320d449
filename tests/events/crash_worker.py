"""A process that records events and dispatches them, for the crash test to SIGKILL.

``python -m tests.events.crash_worker DB_URL HOOK_URL DELIVERY_JSON --record N``
records N events (a pipeline thread) for destination ``hook`` while a dispatcher
delivers them; it prints ``accepted ID`` as soon as each ``record`` returns and runs
until killed. With ``--blobs FOLDER`` each event has a snapshot (:func:`snapshot_of`
its id) in pack files there. Without ``--record`` it only dispatches, and exits 0 once
nothing is pending (exit 3 if that takes longer than ``--timeout``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from sightwire.config.delivery import DeliveryConfig
from sightwire.events.dispatcher import Dispatcher
from sightwire.events.store import EventStore
from sightwire.storage.blobs import FileBlobStore
from sightwire.storage.database import open_database
from tests.events.factory import make_event
from tests.events.http_stub import HttpPost


def snapshot_of(event_id: str) -> bytes:
    """The snapshot the worker stores for an event (12 KB, like a small JPEG)."""
    return f"snapshot of {event_id};".encode() * 300


def _record(store: EventStore, count: int) -> None:
    for _ in range(count):
        event = make_event()
        snapshot = snapshot_of(event.id) if store.blobs is not None else None
        event = store.record(event, ["hook"], snapshot)
        print(f"accepted {event.id}", flush=True)


async def main(args: argparse.Namespace) -> int:
    blobs = FileBlobStore(args.blobs) if args.blobs else None
    store = EventStore(open_database(args.database, migrate=True), blobs)
    config = DeliveryConfig.model_validate_json(args.delivery)
    action = HttpPost("hook", args.hook)
    async with Dispatcher(store, {"hook": action}, config) as dispatcher:
        print("dispatching", flush=True)
        if args.record:
            await asyncio.to_thread(_record, store, args.record)
            await asyncio.Event().wait()  # until killed
        left = await dispatcher.wait_delivered(args.timeout)
    await action.close()
    print(f"pending {left}", flush=True)
    return 0 if left == 0 else 3


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("database")
    parser.add_argument("hook")
    parser.add_argument("delivery")
    parser.add_argument("--record", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=60)
    parser.add_argument("--blobs", default="")
    sys.exit(asyncio.run(main(parser.parse_args())))
