"""The article list's `q`: the same ranked search as the public site's /search/ (articles.search),
best match first. Ranks are not a stable key to page on, so its pages are an offset carried in the
same opaque `cursor` parameter DRF's CursorPagination uses for the slug-ordered list."""

from __future__ import annotations

from typing import Any

from rest_framework import exceptions
from rest_framework.pagination import Cursor, CursorPagination


class RankedPagination(CursorPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "slug"  # unused: the ranked queryset keeps its own order (rank, then slug)

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any]:
        self.page_size = self.get_page_size(request)
        self.base_url = request.build_absolute_uri()
        try:
            cursor = self.decode_cursor(request)
        except exceptions.NotFound as exc:
            raise exceptions.ValidationError({"cursor": ["Invalid cursor: use a `next` URL as given."]}) from exc
        self.offset = cursor.offset if cursor else 0
        rows = list(queryset[self.offset:self.offset + self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        return rows[:self.page_size]

    def get_next_link(self) -> str | None:
        if not self.has_next:
            return None
        return self.encode_cursor(Cursor(offset=self.offset + self.page_size, reverse=False, position=None))

    def get_previous_link(self) -> str | None:
        if not self.offset:
            return None
        return self.encode_cursor(Cursor(offset=max(0, self.offset - self.page_size), reverse=False, position=None))
