"""Benchmark runner comparing symback with other differentiation tools.

Run ``python -m benchmarks --help``; see benchmarks/README.md.
"""
