"""Benchmarks: seed data, the API load test with its framework floor, the background sweep.

Scripts a user reruns by hand (see docs/README-performance.md); nothing here is a timed test.
"""
