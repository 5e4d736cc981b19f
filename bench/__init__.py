"""Benchmarks at agency scale (issue 9): ``python -m bench --scale 0.01``; see docs/performance.md."""
