"""Fixtures of the synth tests: the shared synthetic clips."""

from __future__ import annotations

import pytest

from .scenes import CONVEYOR, LIGHTING, STATIC, Clip, session_clip


@pytest.fixture(scope="session")
def conveyor(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "conveyor", "conveyor", CONVEYOR)


@pytest.fixture(scope="session")
def static(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "static", "static", STATIC)


@pytest.fixture(scope="session")
def lighting(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "lighting", "lighting", LIGHTING)
