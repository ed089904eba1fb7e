"""Knock benchmarks: `python -m bench [--quick]` (see bench/RESULTS.md)."""
