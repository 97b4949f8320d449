"""Benchmarks: each compares Sightwire against a baseline measured in the same run."""
