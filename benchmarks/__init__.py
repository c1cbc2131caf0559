"""Benchmarks of the generator against its references (issue 8): ``python -m benchmarks``."""
