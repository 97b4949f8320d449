"""Session fixtures shared across test areas: the synthetic clips (written once per
session, see tests/synth/scenes.py)."""

from __future__ import annotations

import pytest

from tests.synth.scenes import CONVEYOR, LIGHTING, STATIC, SWITCH_WITH_PERSON, Clip, session_clip


@pytest.fixture(scope="session")
def conveyor(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "conveyor", "conveyor", CONVEYOR)


@pytest.fixture(scope="session")
def static(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "static", "static", STATIC)


@pytest.fixture(scope="session")
def lighting(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "lighting", "lighting", LIGHTING)


@pytest.fixture(scope="session")
def switch_with_person(tmp_path_factory: pytest.TempPathFactory) -> Clip:
    return session_clip(tmp_path_factory, "switch-with-person", "lighting", SWITCH_WITH_PERSON)
