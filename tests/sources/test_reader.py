"""CameraReader: states, hand-off policies, reconnects, isolation and stop()."""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

import pytest

from sightwire.config.models import CameraConfig, ReconnectConfig
from sightwire.sources import (
    CameraReader,
    SourceState,
    StateChange,
    backoff_delay,
)

from .fakes import ScriptedSource
from .media import read_index
from .services import wait_until

S = SourceState
FAST = ReconnectConfig(initial_s=0.01, max_s=0.05, jitter=0.0)


class Recorder:
    """A state listener that keeps every change."""

    def __init__(self) -> None:
        self.changes: list[StateChange] = []
        self.lock = threading.Lock()

    def __call__(self, change: StateChange) -> None:
        with self.lock:
            self.changes.append(change)

    @property
    def states(self) -> list[SourceState]:
        with self.lock:
            return [c.state for c in self.changes]


def test_file_reader_delivers_every_frame_through_a_small_queue(clip: Path) -> None:
    recorder = Recorder()
    config = CameraConfig(source=str(clip))
    with CameraReader.from_config("cam", config, recorder, queue_size=2) as reader:
        frames = list(reader)
        assert reader.finished and reader.get(timeout=0.1) is None
    assert [read_index(f.image) for f in frames] == list(range(100))
    assert recorder.states == [S.CONNECTING, S.STREAMING, S.ENDED]
    stats = reader.stats()
    assert (stats.frames_read, stats.frames_dropped, stats.reconnects) == (100, 0, 0)


def test_file_queue_blocks_the_producer_and_never_drops() -> None:
    source = ScriptedSource("cam", live=False, steps=[(200, "end")])
    reader = CameraReader(source, queue_size=4).start()
    wait_until(lambda: reader.stats().frames_read == 5, what="producer blocked on a full queue")
    assert reader.stats().frames_read == 5 and not reader.done
    seqs = [f.seq for f in reader]
    assert seqs == list(range(200))
    assert reader.stats().frames_dropped == 0


def test_frames_gives_every_frame_then_ends_with_the_source() -> None:
    source = ScriptedSource("cam", live=False, steps=[(30, "end")])
    with CameraReader(source, queue_size=4).start() as reader:
        seqs = [f.seq for f in reader.frames(threading.Event(), poll_s=0.01)]
    assert seqs == list(range(30))


def test_frames_ends_when_stopping_is_set_on_a_source_that_goes_quiet() -> None:
    source = ScriptedSource("cam", live=False, steps=[(3, "block")])  # then nothing comes
    stopping = threading.Event()
    with CameraReader(source).start() as reader:
        seen = []
        for frame in reader.frames(stopping, poll_s=0.01):
            seen.append(frame.seq)
            if frame.seq == 2:
                stopping.set()
        assert seen == [0, 1, 2] and not reader.done  # ended by stopping, not the source


def test_live_slot_keeps_only_the_latest_frame() -> None:
    source = ScriptedSource("cam", live=True, steps=[(50, "block")])
    reader = CameraReader(source).start()
    try:
        wait_until(lambda: reader.stats().frames_read == 50, what="50 frames read")
        frame = reader.get(timeout=1)
        assert frame is not None and frame.seq == 49
        assert reader.get(timeout=0.05) is None
        assert reader.stats().frames_dropped == 49
    finally:
        assert reader.stop()


def test_live_source_reconnects_with_one_report_per_change() -> None:
    recorder = Recorder()
    steps = [(3, "camera went away"), (0, "refused"), (0, "refused"), (2, "block")]
    source = ScriptedSource("cam", live=True, steps=steps)
    reader = CameraReader(source, reconnect=FAST, listener=recorder).start()
    try:
        wait_until(lambda: source.calls == 4 and reader.state is S.STREAMING, what="reconnect")
        assert recorder.states == [S.CONNECTING, S.STREAMING, S.RECONNECTING, S.STREAMING]
        assert "camera went away" in recorder.changes[2].detail
        assert reader.stats().reconnects == 3 and reader.stats().frames_read == 5
    finally:
        assert reader.stop()
    assert recorder.states[-1] is S.ENDED and recorder.changes[-1].detail == "stopped"


def test_max_attempts_ends_in_failed() -> None:
    recorder = Recorder()
    source = ScriptedSource("cam", live=True, steps=[(0, "connection refused")])
    config = ReconnectConfig(initial_s=0.01, max_s=0.02, jitter=0.0, max_attempts=2)
    reader = CameraReader(source, reconnect=config, listener=recorder).start()
    assert reader.wait(5)
    assert recorder.states == [S.CONNECTING, S.RECONNECTING, S.FAILED]
    assert "gave up after 2 reconnects: camera 'cam': connection refused" in reader.detail
    assert source.calls == 3 and reader.stats().reconnects == 2
    assert reader.finished


def test_successful_frames_reset_the_attempt_count() -> None:
    steps = [(1, "drop"), (1, "drop"), (1, "drop"), (0, "refused")]
    source = ScriptedSource("cam", live=True, steps=steps)
    config = ReconnectConfig(initial_s=0.01, max_s=0.02, jitter=0.0, max_attempts=1)
    reader = CameraReader(source, reconnect=config).start()
    assert reader.wait(5)
    assert reader.state is S.FAILED and source.calls == 4


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    config = ReconnectConfig(initial_s=0.5, max_s=4.0, jitter=0.2)
    assert [backoff_delay(config, n, lambda: 0.0) for n in range(1, 6)] == [0.5, 1, 2, 4, 4]
    assert backoff_delay(config, 2, lambda: 1.0) == pytest.approx(1.2)
    assert backoff_delay(config, 1000, lambda: 0.5) == pytest.approx(4.4)


def test_a_failing_listener_does_not_stop_the_reader(clip: Path) -> None:
    def explode(change: StateChange) -> None:
        raise RuntimeError("listener bug")

    reader = CameraReader.from_config("cam", CameraConfig(source=str(clip)), explode).start()
    assert sum(1 for _ in reader) == 100
    assert reader.state is S.ENDED


def test_a_crashing_source_fails_only_its_reader() -> None:
    source = ScriptedSource("cam", live=False, steps=[(2, "end")])

    def boom(seq: int) -> None:
        if seq == 1:
            raise ZeroDivisionError("bug")

    source.on_frame = boom
    reader = CameraReader(source).start()
    assert reader.wait(5) and reader.state is S.FAILED
    assert "ZeroDivisionError" in reader.detail


def test_bad_camera_fails_while_good_one_delivers_everything(clip: Path, tmp_path: Path) -> None:
    noise = tmp_path / "noise.mp4"
    noise.write_bytes(os.urandom(100_000))
    good_states, bad_states = Recorder(), Recorder()
    good = CameraReader.from_config("good", CameraConfig(source=str(clip)), good_states)
    bad = CameraReader.from_config("bad", CameraConfig(source=str(noise)), bad_states)
    bad.start()
    good.start()
    frames = list(good)
    assert bad.wait(5)
    assert [read_index(f.image) for f in frames] == list(range(100))
    assert good_states.states == [S.CONNECTING, S.STREAMING, S.ENDED]
    assert bad_states.states == [S.CONNECTING, S.FAILED]
    assert "camera 'bad'" in bad.detail and str(noise) in bad.detail


def test_bad_image_fails_its_reader_with_a_clear_message(tmp_path: Path) -> None:
    junk = tmp_path / "photo.jpg"
    junk.write_bytes(os.urandom(5_000))
    reader = CameraReader.from_config("drone", CameraConfig(source=str(junk))).start()
    assert reader.wait(5) and reader.state is S.FAILED
    assert reader.detail == f"camera 'drone': {junk} is not a readable image (5000 bytes)"


def test_stop_interrupts_a_realtime_paced_file_within_2s(clip: Path) -> None:
    # fps=0.1 makes the pacer wait 10 s for the second frame.
    config = CameraConfig(source=str(clip), realtime=True, loop=True, fps=0.1)
    changes: list[S] = []
    reader = CameraReader.from_config("cam", config, lambda c: changes.append(c.state)).start()
    assert reader.get(timeout=5) is not None
    started = time.monotonic()
    assert reader.stop()
    assert time.monotonic() - started < 2.0
    assert reader.state is S.ENDED
    assert changes == [S.CONNECTING, S.STREAMING, S.ENDED]  # a stop is not a failure


@pytest.mark.parametrize("live", [False, True])
def test_an_error_caused_by_stop_is_not_a_failure(live: bool) -> None:
    source = ScriptedSource("cam", live=live, steps=[(1, "interrupted")])
    changes: list[S] = []
    reader = CameraReader(source, listener=lambda c: changes.append(c.state)).start()
    assert reader.get(timeout=5) is not None
    assert reader.stop()
    assert changes == [S.CONNECTING, S.STREAMING, S.ENDED]
    assert reader.detail == "stopped"


def test_stop_before_start_and_twice_is_harmless(clip: Path) -> None:
    reader = CameraReader.from_config("cam", CameraConfig(source=str(clip)))
    assert reader.stop()
    reader.start()
    assert reader.wait(2) and reader.stop()
    assert list(itertools.islice(reader, 1)) == []
