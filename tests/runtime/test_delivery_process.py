"""``delivery.own_process``: a child process delivers what the camera process records,
is woken per frame, reports its measurements to the camera process's metrics, and is
started again when it dies, with nothing lost."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from sightwire.analysis.observation import Observation
from sightwire.core import Detections, Event, EventData, Frame
from sightwire.events.metrics import sightwire_registry
from sightwire.rules import RuleOutcome
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.output import EventOutput
from sightwire.runtime.pipeline import FrameResult
from tests.events.http_stub import Behaviour, Receiver, always_ok
from tests.runtime.test_output import site


def _output(folder: Path, receiver: Receiver) -> EventOutput:
    delivery = "{own_process: true, attempt_timeout_s: 1, lease_s: 2,"
    delivery += " backoff: {initial_s: 0.2, jitter: 0}}"
    return EventOutput(site(folder, receiver, delivery), EventLoopThread().start())


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Callable[[Behaviour], tuple[EventOutput, Receiver]]]:
    started: list[tuple[EventOutput, Receiver]] = []

    def start(behaviour: Behaviour) -> tuple[EventOutput, Receiver]:
        receiver = Receiver(behaviour).__enter__()
        started.append((_output(tmp_path, receiver), receiver))
        return started[-1]

    yield start
    for output, receiver in started:
        output.close()
        output.loop.stop()
        receiver.__exit__()


def _frame(seq: int) -> FrameResult:
    image = np.full((48, 64, 3), 120, np.uint8)
    frame = Frame("cam", seq, time.time(), seq / 10, image)
    return FrameResult(frame, None, Detections.empty(), skipped=False)


def _outcomes(count: int) -> list[RuleOutcome]:
    outcomes = []
    for _ in range(count):
        data = EventData(rule="parcel.exit", camera="cam", captured_at=time.time())
        event = Event.create(site="default", camera="cam", kind="parcel.exit", data=data)
        outcomes.append(RuleOutcome(event, (), "parcel.exit", cast(Observation, None)))
    return outcomes


def _record(output: EventOutput, frames: int, per_frame: int) -> list[str]:
    ids = []
    for seq in range(frames):
        outcomes = _outcomes(per_frame)
        assert all(error is None for _, error in output.record_frame(outcomes, _frame(seq)))
        ids += [o.event.id for o in outcomes]
    return ids


def _sample(name: str, destination: str, **labels: str) -> float:
    value = sightwire_registry().get_sample_value(name, {"destination": destination, **labels})
    return value or 0.0


def test_the_child_delivers_each_event_and_its_figures_reach_this_process(
    running: Callable[[Behaviour], tuple[EventOutput, Receiver]],
) -> None:
    output, receiver = running(always_ok)
    assert output.deliveries is not None and output.dispatcher is None
    assert output.deliveries.pid not in (None, os.getpid())
    [destination] = output.actions
    delivered = _sample("sightwire_deliveries_total", destination, outcome="delivered")
    timed = _sample("sightwire_capture_to_action_seconds_count", destination)
    ids = _record(output, frames=5, per_frame=4)
    assert output.drain(timeout=30) == 0
    assert sorted(receiver.delivered_ids()) == sorted(ids)  # once each
    # The child's measurements arrive a moment after the deliveries themselves.
    deadline = time.monotonic() + 10
    while _sample("sightwire_capture_to_action_seconds_count", destination) < timed + len(ids):
        assert time.monotonic() < deadline, "the child's figures did not arrive"
        time.sleep(0.02)
    assert _sample("sightwire_deliveries_total", destination, outcome="delivered") == (
        delivered + len(ids)
    )


def test_a_killed_child_is_started_again_and_every_event_arrives(
    running: Callable[[Behaviour], tuple[EventOutput, Receiver]],
) -> None:
    def slow_at_first(n: int) -> tuple[int, float]:  # the child is mid-request when killed
        return 200, 0.5 if n <= 3 else 0.0

    output, receiver = running(slow_at_first)
    assert output.deliveries is not None
    ids = _record(output, frames=3, per_frame=3)
    deadline = time.monotonic() + 10
    while not receiver.in_flight:
        assert time.monotonic() < deadline, "no delivery started"
        time.sleep(0.01)
    victim = output.deliveries.pid
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while output.deliveries.restarts < 1:
        assert time.monotonic() < deadline, "the delivery process was not started again"
        time.sleep(0.05)
    assert output.deliveries.pid != victim
    ids += _record(output, frames=2, per_frame=3)
    assert output.drain(timeout=60) == 0  # the dead child's claims fell due after lease_s
    delivered = receiver.delivered_ids()
    assert set(delivered) == set(ids)  # at least once each; by webhook-id, exactly once
