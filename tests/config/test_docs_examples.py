"""The examples in docs/configuration.md are valid configs."""

from __future__ import annotations

import re
from pathlib import Path

from sightwire.config import parse_config

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
ENV = {
    "WMS_URL": "http://wms.local",
    "SLACK_HOOK_URL": "https://hooks.slack.test/T0/B0/x",
    "ERP_HOOK_URL": "http://erp.local/hook",
    "ERP_HOOK_SECRET": "whsec_c2lnaHR3aXJlLXRlc3Qtc2VjcmV0LTMyYnl0ZXMh",
}
# The rules example names zones and a line; this camera has them.
CAMERA = """version: 1
cameras:
  belt-1:
    source: belt.mp4
    motion: {}
    lines: {exit: [[1000, 0], [1000, 720]]}
    zones:
      dock: &square [[0, 0], [100, 0], [100, 100], [0, 100]]
      press: *square
      tills: *square
      shelf-3: *square
      belt: *square
    analyse: [{track: {}}]
"""


def test_rules_and_actions_examples_validate() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    rules = next(b for b in blocks if b.lstrip().startswith("lookups:"))
    actions = next(b for b in blocks if b.lstrip().startswith("actions:"))
    config = parse_config(CAMERA + rules + actions, str(DOC), ENV)
    assert len(config.rules) == 9
    assert set(config.actions) == {"route_to_qc", "stop_belt", "alarms", "chat", "audit_log"}


def test_delivery_example_validates() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), re.S)
    delivery = next(b for b in blocks if b.lstrip().startswith("delivery:"))
    config = parse_config("version: 1\n" + delivery, str(DOC), {})
    assert config.delivery.max_attempts == 10
    assert config.delivery.breaker.threshold == 5
