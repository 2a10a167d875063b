"""The project's URLs plus /bench/floor/ (see bench/floor.py). Used only by bench/settings.py."""

from django.urls import path

from bench.floor import floor
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/floor/", floor, name="bench-floor"), *project_urlpatterns]
