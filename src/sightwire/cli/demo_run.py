"""Running ``sightwire demo``'s pipelines: a runner that records what the demo reports
and prints each route as it happens, run until the clip ends, ``--duration`` or Ctrl-C,
then its routes delivered.

>>> # result = DemoRun(); runner = demo_runner(config, result, feed, live, ...)
>>> # with stop_on_signals(stop): run_demo(runner, result, duration, stop, ...)
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from rich.console import Console

from sightwire.cli.demo_scale import ResultListener
from sightwire.cli.run import DRAIN_TIMEOUT_S
from sightwire.config import SightwireConfig
from sightwire.rules import RuleOutcome
from sightwire.runtime.display import LiveDisplay
from sightwire.runtime.live import LiveView
from sightwire.runtime.objects import ObjectLog
from sightwire.runtime.pipeline import FrameResult
from sightwire.runtime.runner import Runner

STOP_DRAIN_S = 2.0  # after Ctrl-C: deliveries still pending then are left in the outbox


class DemoRun:
    """What one run saw: camera summaries, every rule outcome, every tracked object."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.outcomes: list[RuleOutcome] = []
        self.log = ObjectLog()
        self.stopped_early = False
        self.realtime = False


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """Ctrl-C and SIGTERM set ``stop`` (the run, then the serving, end) while inside."""

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def demo_runner(
    config: SightwireConfig,
    result: DemoRun,
    feed: ResultListener | None,
    live: LiveView | None,
    *,
    show_progress: bool,
    console: Console,
) -> Runner:
    """A runner of ``config`` (not started) that fills ``result``, feeds the belt scale
    and the served live view, and prints each route as it happens."""
    result.realtime = any(c.realtime for c in config.cameras.values())
    lock = threading.Lock()

    def on_outcome(outcome: RuleOutcome, _result: FrameResult) -> None:
        with lock:
            result.outcomes.append(outcome)
        if show_progress:
            a = outcome.event.data.attributes
            console.print(
                f"[bold]{outcome.rule}[/] {a.get('tracking_number') or '(no number)'} → "
                f"{a.get('station', '-')}: {a.get('reason', '')} "
                f"[dim]({outcome.event.data.latency_ms or 0:.0f} ms)[/]"
            )

    def on_result(frame: FrameResult) -> None:
        for listener in (feed, live.observe if live else None):
            if listener is not None:
                listener(frame)
        with lock:
            result.log.add(frame)

    return Runner(config, until_end=True, on_result=on_result, on_outcome=on_outcome)


def run_demo(
    runner: Runner,
    result: DemoRun,
    duration: float | None,
    stop: threading.Event,
    *,
    show_progress: bool,
    console: Console,
) -> None:
    """Run until the files end (or ``duration``, or ``stop``); deliver the routes."""
    deadline = None if duration is None else time.monotonic() + duration
    try:
        runner.start()
        if show_progress and console.is_terminal:
            with LiveDisplay(runner.stats, console):
                _wait(runner, deadline, stop, result)
        else:
            _wait(runner, deadline, stop, result)
        pending = _drain(runner, stop)
        if pending:
            console.print(f"{pending} routes still pending (left in the outbox)")
    finally:
        runner.stop()
    result.rows = runner.summary()


def _wait(runner: Runner, deadline: float | None, stop: threading.Event, result: DemoRun) -> None:
    while not runner.wait(0.2):
        late = deadline is not None and time.monotonic() > deadline
        if (late or stop.is_set()) and not runner.stopping:
            result.stopped_early = True
            runner.request_stop()


def _drain(runner: Runner, stop: threading.Event) -> int:
    """Wait for pending deliveries, in slices so that Ctrl-C cuts the wait short."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while (pending := runner.drain(0.5)) and time.monotonic() < deadline:
        if stop.is_set():
            return runner.drain(STOP_DRAIN_S)
    return pending
