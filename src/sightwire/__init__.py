"""Sightwire: turn camera feeds into typed, signed business events."""

__version__ = "0.1.0"
