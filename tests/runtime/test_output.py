"""EventOutput: a frame's events are one transaction with one snapshot; each event is
recorded or reported, and every recorded one is delivered."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import numpy as np
import pytest

from sightwire.analysis.observation import Observation
from sightwire.config import parse_config
from sightwire.config.models import SightwireConfig
from sightwire.core import Detections, Event, EventData, Frame
from sightwire.events.store import EventExistsError
from sightwire.rules import RuleOutcome
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.output import EventOutput
from sightwire.runtime.pipeline import FrameResult
from tests.events.http_stub import Receiver

SECRET = "whsec_" + base64.b64encode(b"output-test-secret-of-32-bytes!!").decode()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def site(folder: Path, receiver: Receiver, delivery: str = "{}") -> SightwireConfig:
    """One upload camera, a line rule and a signed webhook to ``receiver``; ``delivery``
    is the ``delivery:`` section, in YAML flow style."""
    return parse_config(
        f"""
version: 1
store: {{database: 'sqlite:///{folder}/events.db', blobs: 'file://{folder}/blobs'}}
cameras:
  cam: {{source: upload, analyse: [{{track: {{}}}}], lines: {{exit: [[0, 0], [1, 1]]}}}}
rules:
  - {{name: parcel.exit, on: {{line: exit}}}}
webhooks:
  - {{url: "{receiver.url}", secret: "${{HOOK_SECRET}}"}}
delivery: {delivery}
""",
        "site.yaml",
        {"HOOK_SECRET": SECRET},
    )


@pytest.fixture
def output(tmp_path: Path, receiver: Receiver) -> Iterator[EventOutput]:
    config = site(tmp_path, receiver)
    loop = EventLoopThread().start()
    made = EventOutput(config, loop)
    yield made
    made.close()
    loop.stop()


def _frame() -> FrameResult:
    image = np.full((48, 64, 3), 120, np.uint8)
    return FrameResult(Frame("cam", 7, time.time(), 0.7, image), None, Detections.empty(), False)


def _outcome(event: Event | None = None) -> RuleOutcome:
    if event is None:
        data = EventData(rule="parcel.exit", camera="cam", captured_at=time.time())
        event = Event.create(site="default", camera="cam", kind="parcel.exit", data=data)
    return RuleOutcome(event, (), "parcel.exit", cast(Observation, None))


def test_a_frames_events_share_a_transaction_and_a_snapshot(
    output: EventOutput, receiver: Receiver
) -> None:
    outcomes = [_outcome() for _ in range(3)]
    answers = output.record_frame(outcomes, _frame())
    assert [error for _, error in answers] == [None, None, None]
    assert output.writer.groups == 1
    stored = [output.store.get(o.event.id) for o in outcomes]
    keys = {e.data.snapshot for e in stored if e is not None}
    assert len(keys) == 1 and None not in keys  # one JPEG, named by the frame's first event
    assert output.store.blobs is not None and output.store.blobs.get(keys.pop() or "")
    assert output.drain(timeout=30) == 0
    assert all(hit.webhook_id == hit.event_id for hit in receiver.hits)
    assert sorted(receiver.delivered_ids()) == sorted(o.event.id for o in outcomes)  # once each


def test_an_event_that_cannot_be_recorded_is_reported_alone(output: EventOutput) -> None:
    first = _outcome()
    output.record(first, _frame())
    again = [_outcome(), first, _outcome()]
    answers = output.record_frame(again, _frame())
    assert answers[0][1] is None and answers[2][1] is None
    assert isinstance(answers[1][1], EventExistsError)
    assert all(output.store.get(o.event.id) is not None for o in again)
    with pytest.raises(EventExistsError):
        output.record(first, _frame())
    assert output.drain(timeout=30) == 0
