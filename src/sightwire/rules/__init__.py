"""Rules: triggers, lookups, conditions and false-positive controls that emit events."""
