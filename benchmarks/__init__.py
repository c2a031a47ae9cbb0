"""Reproducible benchmarks (not part of CI's pass/fail); see README.rst."""
