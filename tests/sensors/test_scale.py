"""The belt scale: payloads, the time-indexed buffer, the weigh step's join by time,
and the MQTT subscriber against the real Mosquitto on 127.0.0.1:1883."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from sightwire.config import ConfigError, load_config
from sightwire.config.sensors import ScaleConfig, WeighOptions
from sightwire.core import Detections, Frame
from sightwire.sensors import ReadingBuffer, ScaleSubscriber, WeighAnalyser, parse_reading
from sightwire.sensors.publish import broker_reachable, publish_readings
from tests.service import require_service

BROKER = ("127.0.0.1", 1883)
LINE = [[300, 0], [300, 400]]


def _scale(**options: object) -> ScaleConfig:
    return ScaleConfig.model_validate({"host": BROKER[0], "topic": "t", **options})


def test_payloads_plain_json_and_units() -> None:
    assert parse_reading(b" 7.25\n", _scale(), arrived=5.0) == (5.0, 7.25)
    grams = _scale(field="reading.net", unit="g")
    assert parse_reading(b'{"reading": {"net": 1500}}', grams, arrived=5.0) == (5.0, 1.5)
    pounds = _scale(field="w", unit="lb", time_field="at")
    t, kg = parse_reading(b'{"w": "10", "at": 12.5}', pounds, arrived=5.0)
    assert t == 12.5 and kg == pytest.approx(4.5359237)


@pytest.mark.parametrize(
    ("payload", "options", "message"),
    [
        (b"heavy", {}, "not a number"),
        (b"[1, 2]", {"field": "w"}, "no field 'w'"),
        (b"{not json", {"field": "w"}, "not JSON"),
        (b'{"w": true}', {"field": "w"}, "not a number"),
        (b'{"w": 1}', {"field": "w", "time_field": "ts"}, "no field 'ts'"),
    ],
)
def test_bad_payloads_are_refused(payload: bytes, options: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_reading(payload, _scale(**options), arrived=0.0)


def test_the_buffer_joins_the_nearest_reading_and_forgets_old_ones() -> None:
    buffer = ReadingBuffer(keep_s=10)
    for t, kg in [(5.0, 1.0), (3.0, 3.0), (4.0, 2.0)]:  # out of order
        buffer.add(t, kg)
    assert buffer.nearest(3.4, window_s=1) == (3.0, 3.0)
    assert buffer.nearest(3.6, window_s=1) == (4.0, 2.0)
    assert buffer.nearest(7.0, window_s=1) is None
    buffer.add(14.5, 9.0)  # 10 s after 4.5: the readings at 3 and 4 go
    assert len(buffer) == 2 and buffer.nearest(3.0, window_s=5) == (5.0, 1.0)


def _frame(t: float) -> Frame:
    return Frame("belt-1", int(t * 10), 1000.0 + t, t, np.zeros((400, 640, 3), np.uint8))


def _objects(*placed: tuple[int, str, float]) -> Detections:
    """Objects (track id, class, centre x), 100 px wide."""
    xs = np.array([x for _, _, x in placed], np.float64)
    return Detections(
        np.stack([xs - 50, np.full(len(xs), 100.0), xs + 50, np.full(len(xs), 200.0)], axis=1),
        np.full(len(xs), 0.9),
        np.zeros(len(xs), np.int64),
        tracker_id=np.array([track for track, _, _ in placed]),
        data={"class_name": np.array([name for _, name, _ in placed])},
    )


def _step(buffer: ReadingBuffer, clock: str = "stream", **options: float) -> WeighAnalyser:
    weigh = WeighOptions.model_validate(
        {"scale": "s", "within": "parcel", "line": "scale", **options}
    )
    return WeighAnalyser(weigh, LINE, _scale(clock=clock, time_field="ts"), readings=buffer)


def test_each_parcel_gets_the_reading_from_when_it_crossed_the_scale() -> None:
    buffer = ReadingBuffer()
    for t, kg in [(1.0, 9.9), (1.25, 4.2), (1.75, 8.8), (2.5, 6.1)]:
        buffer.add(t, kg)
    step = _step(buffer, window_s=0.2)
    # Track 1 at 200 px/s crosses x = 300 at 1.25 s (between frames); track 2 at
    # 1.75 s; the label (another class) is never weighed.
    weights = []
    for t in np.arange(0.0, 3.01, 0.2):
        placed = [(1, "parcel", 50 + 200 * t), (2, "parcel", -50 + 200 * t), (3, "label", 300.0)]
        weights.append(step.analyse(_frame(float(t)), _objects(*placed)).data["weight_kg"])
    assert np.isnan(weights[6][0]) and weights[7][0] == 4.2  # crossed between 1.2 and 1.4 s
    assert weights[-1][:2].tolist() == [4.2, 8.8]
    assert np.isnan(weights[-1][2])


def test_offset_window_and_late_readings() -> None:
    buffer = ReadingBuffer()
    step = _step(buffer, offset_s=0.5, window_s=0.1)  # the scale 0.5 s past the line
    step.analyse(_frame(1.0), _objects((1, "parcel", 250.0)))
    out = step.analyse(_frame(1.5), _objects((1, "parcel", 350.0)))  # crossed at 1.25 s
    assert np.isnan(out.data["weight_kg"][0])  # nothing read yet
    buffer.add(1.25, 3.0)  # at the line, not 0.5 s later: outside the window
    buffer.add(1.78, 5.5)  # arrives late, for 1.75 s
    assert step.analyse(_frame(1.7), _objects((1, "parcel", 390.0))).data["weight_kg"][0] == 5.5


def test_wall_clock_joins_with_capture_times() -> None:
    buffer = ReadingBuffer()
    buffer.add(1001.3, 2.0)  # epoch seconds; the frames were captured at 1000 + t
    step = _step(buffer, clock="wall", window_s=0.1)
    step.analyse(_frame(1.2), _objects((1, "parcel", 280.0)))
    assert step.analyse(_frame(1.4), _objects((1, "parcel", 320.0))).data["weight_kg"][0] == 2.0


def test_a_weigh_step_must_name_a_scale_and_a_line(tmp_path: Path) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(
        "cameras:\n"
        "  belt-1:\n"
        "    source: belt.mp4\n"
        "    lines: {exit: [[1, 0], [1, 9]]}\n"
        "    analyse:\n"
        "      - weigh: {scale: belt-scale, within: parcel, line: scale}\n"
        "scales:\n"
        "  other: {host: localhost, topic: t, clock: stream}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config, {})
    text = str(caught.value)
    assert "site.yaml:6: cameras.belt-1.analyse[0].weigh.scale: no scale named 'belt-scale'" in text
    assert "camera 'belt-1' has no line named 'scale'" in text


def test_an_unreachable_broker_does_not_block_for_long() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subscriber = ScaleSubscriber("s", _scale(port=port, timeout_s=0.3))
    started = time.monotonic()
    assert subscriber.start() is False
    subscriber.close()
    assert time.monotonic() - started < 3
    assert subscriber._thread is not None and not subscriber._thread.is_alive()


@pytest.fixture
def broker() -> tuple[str, int]:
    if not broker_reachable(*BROKER):
        require_service(f"Mosquitto is not reachable at {BROKER[0]}:{BROKER[1]}")
    return BROKER


def _wait_for(condition: threading.Event, seconds: float = 5.0) -> bool:
    return condition.wait(seconds)


def test_readings_published_to_the_broker_land_in_the_buffer(broker: tuple[str, int]) -> None:
    topic = f"sightwire-test/{uuid.uuid4().hex}/scale"
    config = _scale(host=broker[0], port=broker[1], topic=topic, field="weight", time_field="ts")
    arrived = threading.Event()

    class Watched(ReadingBuffer):
        def add(self, t: float, value: float) -> None:
            super().add(t, value)
            if len(self) == 3:
                arrived.set()

    with ScaleSubscriber("belt-scale", config, Watched()) as subscriber:
        assert subscriber.subscribed.is_set()
        publish_readings(*broker, topic, [(10.0, 4.2), (11.0, 5.3)])
        publish_readings(*broker, topic + "x", [(10.5, 99.0)])  # another topic: not ours
        publish_readings(*broker, topic, [(12.0, 6.4)])
        assert _wait_for(arrived)
    assert subscriber.buffer.nearest(10.4, window_s=0.5) == (10.0, 4.2)
    assert subscriber.readings == 3 and subscriber.rejected == 0
    assert subscriber._thread is not None and not subscriber._thread.is_alive()
