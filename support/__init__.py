"""Helpers shared by the template's tests and benchmarks."""
