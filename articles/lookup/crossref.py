"""Crossref's REST API through habanero (it takes our base URL, the polite pool's mailto and a
timeout), read into our reference fields."""

from __future__ import annotations

from typing import Any

import httpx2
from django.conf import settings
from habanero import Crossref
from habanero.exceptions import RequestError

from articles.models import Reference

from .errors import LookupUnavailable, ReferenceNotFound, retry_after_seconds

SERVICE = "Crossref"
KINDS = {
    "journal-article": Reference.Kind.RESEARCH, "posted-content": Reference.Kind.RESEARCH,
    "book": Reference.Kind.TEXTBOOK, "monograph": Reference.Kind.TEXTBOOK, "edited-book": Reference.Kind.TEXTBOOK,
    "reference-book": Reference.Kind.TEXTBOOK, "book-chapter": Reference.Kind.TEXTBOOK,
    "report": Reference.Kind.GUIDELINE, "standard": Reference.Kind.GUIDELINE,
}
# Crossref's update types (`updated-by` on the work, `update-to` on a notice) and what they make of
# the work: a retraction, a correction, a concern, or a newer version that supersedes it.
UPDATE_STATUS = {
    "retraction": "retracted", "withdrawal": "retracted", "removal": "retracted", "partial_retraction": "retracted",
    "correction": "corrected", "erratum": "corrected", "corrigendum": "corrected", "addendum": "corrected",
    "clarification": "corrected", "expression_of_concern": "expression_of_concern",
    "new_version": "superseded", "new-version": "superseded",
}
STATUS_WEIGHT = {"retracted": 3, "expression_of_concern": 2, "superseded": 1, "corrected": 1}


def _client() -> Crossref:
    return Crossref(base_url=settings.IMPRIMATUR_CROSSREF_URL, mailto=settings.IMPRIMATUR_LOOKUP_CONTACT,
                    ua_string="Imprimatur (reference look-up)", timeout=settings.IMPRIMATUR_LOOKUP_TIMEOUT)


def fetch_work(doi: str) -> dict[str, Any]:
    """The Crossref record of `doi` (its `message`); ReferenceNotFound or LookupUnavailable."""
    try:
        answer = _client().works(ids=doi)
    except httpx2.HTTPStatusError as exc:
        response = exc.response
        if response.status_code == 404:
            raise ReferenceNotFound(f"Crossref has no record of the DOI {doi}.") from exc
        retry = retry_after_seconds(response.headers.get("Retry-After"))
        if response.status_code == 429:
            raise LookupUnavailable(f"Crossref is limiting our requests; try again in {retry} s, or type the "
                                    "reference by hand.", retry_after=retry) from exc
        raise LookupUnavailable(f"Crossref answered {response.status_code}; try again later, or type the "
                                "reference by hand.", retry_after=retry) from exc
    except httpx2.TimeoutException as exc:
        raise LookupUnavailable(f"Crossref did not answer within {settings.IMPRIMATUR_LOOKUP_TIMEOUT} s; try "
                                "again later, or type the reference by hand.") from exc
    except (httpx2.HTTPError, RequestError, ValueError) as exc:
        raise LookupUnavailable("Crossref cannot be reached or sent an unreadable answer; try again later, or "
                                "type the reference by hand.") from exc
    message = answer.get("message") if isinstance(answer, dict) else None
    if not isinstance(message, dict):
        raise LookupUnavailable("Crossref sent an unreadable answer; try again later, or type the reference by hand.")
    return message


def _first(values: Any) -> str:
    return str(values[0]).strip() if isinstance(values, list) and values else ""


def _as_cited(author: dict[str, Any]) -> str:
    """{'given': 'Fernando P.', 'family': 'Polack'} → 'Polack FP' (AMA); an organisation as named."""
    family = str(author.get("family") or "").strip()
    if not family:
        return str(author.get("name") or "").strip()
    initials = "".join(part[0] for part in str(author.get("given") or "").replace(".", " ").replace("-", " ").split())
    return f"{family} {initials}".strip()


def _year(message: dict[str, Any]) -> int | None:
    for name in ("published-print", "published", "issued", "published-online"):
        parts = (message.get(name) or {}).get("date-parts") or [[None]]
        if parts and parts[0] and parts[0][0]:
            return int(parts[0][0])
    return None


def notices(message: dict[str, Any]) -> list[dict[str, str]]:
    """The updates Crossref records against this work (`updated-by`): each notice's type and DOI."""
    found = []
    for update in message.get("updated-by") or []:
        kind = str(update.get("type") or "").lower()
        if kind in UPDATE_STATUS:
            found.append({"type": kind, "effect": UPDATE_STATUS[kind], "doi": str(update.get("DOI") or "").lower(),
                          "label": str(update.get("label") or kind.replace("_", " ").capitalize())})
    return found


def reference_fields(message: dict[str, Any]) -> dict[str, Any]:
    """Our reference fields from a Crossref work."""
    kind = KINDS.get(str(message.get("type") or ""), Reference.Kind.OTHER)
    book = kind == Reference.Kind.TEXTBOOK
    return {
        "kind": kind,
        "title": _first(message.get("title")),
        "authors": [name for name in (_as_cited(a) for a in message.get("author") or []) if name],
        "container": "" if book else (_first(message.get("short-container-title")) or _first(message.get("container-title"))),
        "year": _year(message),
        "doi": str(message.get("DOI") or "").lower() or None,
        "url": str(message.get("URL") or ""),
        "volume": str(message.get("volume") or ""),
        "issue": str(message.get("issue") or ""),
        "pages": str(message.get("page") or message.get("article-number") or ""),
        "edition": str(message.get("edition-number") or ""),
        "publisher": str(message.get("publisher") or "") if book or kind == Reference.Kind.GUIDELINE else "",
        "place": str(message.get("publisher-location") or "") if book else "",
        "notices": notices(message),
        # A record that is itself a notice (`update-to`): which work it updates.
        "updates": [str(u.get("DOI") or "").lower() for u in message.get("update-to") or [] if u.get("DOI")],
    }


def strongest_status(found: list[dict[str, str]]) -> str:
    """The status the notices give the work: a retraction outweighs a concern, a concern a correction."""
    statuses = [n["effect"] for n in found]
    return max(statuses, key=STATUS_WEIGHT.__getitem__) if statuses else "none"
