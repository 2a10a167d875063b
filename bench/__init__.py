"""Benchmarks: seed data, the API load test with its framework floor, the background sweep.

Scripts a user reruns by hand (see the README, section "Performance"); nothing here is a timed test.
"""
