"""The project's URLs plus /bench/floor/ (see bench/floor.py). Used only by bench/settings.py."""

from django.urls import path

from bench.floor import floor, floor_page
from config.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("bench/floor/", floor, name="bench-floor"), path("bench/floor-page/", floor_page, name="bench-floor-page"),
               *project_urlpatterns]
