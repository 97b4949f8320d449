"""A group member that takes messages and never acks them; the test SIGKILLs it.

``python -m tests.bus.crash_consumer URL STREAM GROUP MEMBER COUNT`` prints the key of
each message it receives, one per line, then ``holding`` once it has ``COUNT``.
"""

from __future__ import annotations

import asyncio
import sys

from sightwire.bus import open_bus


async def main(url: str, stream: str, group: str, member: str, count: int) -> None:
    bus = await open_bus(url)
    consumer = await bus.consumer(stream, group, member)
    held = []
    while len(held) < count:
        for message in await consumer.fetch(count, 1.0):
            held.append(message)  # kept, never acked
            print(message.key, flush=True)
    print("holding", flush=True)
    await asyncio.Event().wait()  # until killed


if __name__ == "__main__":
    url, stream, group, member, count = sys.argv[1:6]
    asyncio.run(main(url, stream, group, member, int(count)))
