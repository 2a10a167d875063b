"""Bench-only settings: the project's settings, plus the floor route (bench/urls.py)."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
