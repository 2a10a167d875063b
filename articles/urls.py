"""Routes of the editor web UI (/editor/), the public article page and the editorial policy."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
