"""The sensor, API and review examples in docs/configuration.md are valid configs."""

from __future__ import annotations

import re
from pathlib import Path

from sightwire.config import parse_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def _block(first_key: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    return next(b for b in blocks if b.lstrip().startswith(first_key))


def test_readings_heights_and_weights_example_validates() -> None:
    config = parse_config("version: 1\n" + _block("scales:"), str(DOC), {})
    camera = config.cameras["belt-1"]
    assert camera.depth is not None and set(config.scales) == {"belt-scale"}
    steps = [next(iter(step.model_dump())) for step in camera.analyse]
    assert steps == ["detect", "track", "barcode", "ocr", "measure", "weigh"]


def test_api_example_validates() -> None:
    config = parse_config("version: 1\n" + _block("api:"), str(DOC), {})
    assert config.api.port == 8443 and config.api.tls is not None
    assert config.api.oidc is not None and config.api.oidc.cameras_claim == "cameras"


def test_review_example_validates() -> None:
    config = parse_config("version: 1\n" + _block("review:"), str(DOC), {})
    assert config.review.enabled and config.review.band == 0.15
