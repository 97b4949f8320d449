"""The config file: pydantic models, a loader with file:line errors, JSON Schema."""

from sightwire.config.loader import ConfigError, load_config, parse_config
from sightwire.config.models import CameraConfig, SightwireConfig
from sightwire.config.yaml_source import ConfigIssue

__all__ = [
    "CameraConfig",
    "ConfigError",
    "ConfigIssue",
    "SightwireConfig",
    "load_config",
    "parse_config",
]
