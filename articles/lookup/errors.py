"""What can go wrong when a reference is looked up by its identifier."""

from __future__ import annotations


class LookupFailed(Exception):
    """The base: `message` is shown to the editor as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ReferenceNotFound(LookupFailed):
    """The service answered: it knows no such DOI or PMID (HTTP 404 in the editorial API)."""


class LookupUnavailable(LookupFailed):
    """The service is slow, down or refusing us for now (HTTP 503 with Retry-After in the API);
    the editor can still type the reference by hand."""

    def __init__(self, message: str, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, default: int = 60) -> int:
    """A Retry-After header's seconds (the HTTP-date form is rare here: taken as the default)."""
    try:
        return max(1, min(int(str(value).strip()), 3600))
    except (TypeError, ValueError):
        return default
