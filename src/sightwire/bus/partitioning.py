"""Which partition a key lands on, and which member owns which partitions.

Every transport uses Kafka's default partitioner (murmur2 of the key's UTF-8 bytes,
sign bit cleared, modulo the partitions), so a camera lands on the same partition
number whatever the bus, and other Kafka clients agree with ours.

>>> partition_of("belt-1", 16)
14
>>> assign(range(6), ["w2", "w1"])["w1"]
frozenset({0, 1, 2})
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_M = 0x5BD1E995
_MASK = 0xFFFFFFFF


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 (seed 0x9747b28c) as a signed 32-bit int, like Java's."""
    length = len(data)
    h = (0x9747B28C ^ length) & _MASK
    body = length - length % 4
    for i in range(0, body, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = data[body:]
    if len(tail) >= 3:
        h ^= tail[2] << 16
    if len(tail) >= 2:
        h ^= tail[1] << 8
    if tail:
        h ^= tail[0]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - (1 << 32) if h & 0x80000000 else h


def partition_of(key: str, partitions: int) -> int:
    """The partition of ``key`` among ``partitions`` (Kafka's default partitioner)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def assign(partitions: Iterable[int], members: Sequence[str]) -> dict[str, frozenset[int]]:
    """Spread ``partitions`` over ``members`` in contiguous ranges (Kafka's range
    assignor); every member computes the same answer from the same member list."""
    ordered = sorted(set(members))
    owned: dict[str, set[int]] = {member: set() for member in ordered}
    items = sorted(partitions)
    if not ordered:
        return {}
    share, extra = divmod(len(items), len(ordered))
    start = 0
    for index, member in enumerate(ordered):
        count = share + (1 if index < extra else 0)
        owned[member].update(items[start : start + count])
        start += count
    return {member: frozenset(parts) for member, parts in owned.items()}
