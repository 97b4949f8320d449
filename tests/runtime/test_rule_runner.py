"""Rules evaluated for camera threads: inline without lookups, on the loop with them."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from sightwire.analysis import Observation, ObservedObject
from sightwire.config.rules import LookupConfig, RuleConfig
from sightwire.rules import RuleEngine
from sightwire.runtime.event_loop import EventLoopThread
from sightwire.runtime.events import RuleRunner, run_to_end


def _crossing(engine: RuleEngine, seq: int) -> Observation:
    return Observation(
        "cross",
        "belt-1",
        engine.triggers[0].watch,
        1_700_000_000.0 + seq,
        float(seq),
        seq,
        line="exit",
        object=ObservedObject("parcel", (1.0, 1.0, 9.0, 9.0), 0.9, seq, {"barcode": f"1Z{seq}"}),
        direction="out",
        sense="left_to_right",
    )


def _engine(**rule: Any) -> RuleEngine:
    config = RuleConfig.model_validate({"name": "exit", "on": {"line": "exit"}, **rule})
    # an unreachable lookup: it answers with an error attribute, after a real await
    lookups = {"wms": LookupConfig(url="http://127.0.0.1:9/{barcode}", timeout_s=1)}
    return RuleEngine([config], lookups, site="dc")


@pytest.fixture
def loop() -> Any:
    running = EventLoopThread().start()
    yield running
    running.stop()


def _threads_of(engine: RuleEngine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    decide = engine._decide

    def spy(t: Any) -> Any:
        seen.append(threading.current_thread().name)
        return decide(t)

    monkeypatch.setattr(engine, "_decide", spy)
    return seen


def test_rules_without_lookups_run_on_the_camera_thread(
    loop: EventLoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine()
    runner = RuleRunner(engine, loop)
    seen = _threads_of(engine, monkeypatch)
    outcomes = [o for seq in range(3) for o in runner.evaluate([_crossing(engine, seq)])]
    assert runner.inline and len(outcomes) == 3
    assert seen == [threading.current_thread().name] * 3


def test_rules_with_a_lookup_run_on_the_loop(
    loop: EventLoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine(lookup="wms")
    runner = RuleRunner(engine, loop)
    seen = _threads_of(engine, monkeypatch)
    (outcome,) = runner.evaluate([_crossing(engine, 1)])
    assert not runner.inline and seen == ["sightwire-events"]
    assert "lookup_error" in outcome.event.data.attributes
    loop.call(engine.aclose())


def test_a_coroutine_that_waits_is_refused_not_run_half() -> None:
    async def waits() -> None:
        await asyncio.sleep(0)  # gives the loop a turn: suspends

    with pytest.raises(RuntimeError, match="must run on an event loop"):
        run_to_end(waits())
