"""End-to-end benchmarks of ivrhooks (``python bench/e2e.py``; see docs/performance.md)."""
