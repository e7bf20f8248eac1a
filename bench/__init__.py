"""Benchmarks: ``python -m bench`` (see the README)."""
