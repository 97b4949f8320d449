"""Partitions agree with Kafka's default partitioner; assignments are complete and fair."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sightwire.bus.partitioning import assign, murmur2, partition_of


@pytest.mark.parametrize(
    ("data", "expected"),  # vectors from Kafka's own UtilsTest
    [
        (b"21", -973932308),
        (b"foobar", -790332482),
        (b"a-little-bit-long-string", -985981536),
        (b"a-little-bit-longer-string", -1486304829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
        (b"abc", 479470107),
    ],
)
def test_murmur2_matches_kafka(data: bytes, expected: int) -> None:
    assert murmur2(data) == expected


@given(st.binary(max_size=64))
def test_murmur2_matches_aiokafka(data: bytes) -> None:
    aiokafka = pytest.importorskip("aiokafka.partitioner")
    assert murmur2(data) & 0xFFFFFFFF == aiokafka.murmur2(data)


@given(st.text(min_size=1, max_size=30), st.integers(1, 64))
def test_partition_of_is_in_range_and_stable(key: str, partitions: int) -> None:
    assert 0 <= partition_of(key, partitions) < partitions
    assert partition_of(key, partitions) == partition_of(key, partitions)


@given(
    st.integers(1, 64),
    st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=10, unique=True),
)
def test_assignment_covers_every_partition_once_and_evenly(
    partitions: int, members: list[str]
) -> None:
    owned = assign(range(partitions), members)
    assert set(owned) == set(members)
    everything = [p for parts in owned.values() for p in parts]
    assert sorted(everything) == list(range(partitions))
    sizes = [len(parts) for parts in owned.values()]
    assert max(sizes) - min(sizes) <= 1
    assert assign(range(partitions), list(reversed(members))) == owned  # order-free


def test_no_members_own_nothing() -> None:
    assert assign(range(4), []) == {}
