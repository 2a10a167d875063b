"""Routes of the public read API and the editorial API under /api/v1/ (namespace "api")."""

from django.urls import path  # noqa: F401

app_name = "api"
urlpatterns: list = []
