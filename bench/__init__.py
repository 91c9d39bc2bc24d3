"""Benchmarks of the platform at province scale (issue 16): ``python -m bench`` writes docs/PERFORMANCE.md."""
