"""Tests that need a real server skip when it is missing, unless services are required."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def require_service(reason: str) -> NoReturn:
    """Skip a test whose server is unavailable, or fail it when services are required.

    ``SIGHTWIRE_REQUIRE_SERVICES=1`` (set by ``.ci/run``) turns the skip into a failure.
    """
    if os.environ.get("SIGHTWIRE_REQUIRE_SERVICES") == "1":
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)
