"""The detail fields of a reference (`articles.models.DETAIL_FIELDS`): how they are cleaned and
compared, wherever they come from (the editor form, the editorial API, an import, a look-up)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from articles.models import DETAIL_FIELDS, Reference, normalize_doi

DETAIL_LABELS = {name: str(Reference._meta.get_field(name).verbose_name) for name in DETAIL_FIELDS}
TEXT_DETAILS = tuple(name for name in DETAIL_FIELDS if name != "accessed")


def max_length(name: str) -> int | None:
    return Reference._meta.get_field(name).max_length


def parse_date(value: Any) -> dt.date | None:
    """A date from a date, an ISO text (2024-03-01) or nothing; ValueError otherwise."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value).strip()[:10])


def detail_text(value: Any) -> str:
    """A detail field as the revision hash and comparisons see it: text, a date as ISO, "" if unset."""
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def clean_details(fields: dict[str, Any], prefix: str, errors: dict[str, list[str]]) -> None:
    """Strip the detail texts in place and read `accessed` as a date; an error names the field."""
    for name in TEXT_DETAILS:
        value = fields.get(name)
        fields[name] = "" if value is None else str(value).strip()
        limit = max_length(name)
        if limit and len(fields[name]) > limit:
            errors.setdefault(f"{prefix}.{name}", []).append(f"At most {limit} characters.")
    try:
        fields["accessed"] = parse_date(fields.get("accessed"))
    except ValueError:
        errors.setdefault(f"{prefix}.accessed", []).append("Enter the date as YYYY-MM-DD.")
        fields["accessed"] = None


def detail_document(reference: Any) -> dict[str, Any]:
    """The detail fields of a reference (a row, a cited copy or a dict) as JSON documents carry
    them: texts ("" when unset), `accessed` as an ISO date or null."""
    get = reference.get if isinstance(reference, dict) else lambda name: getattr(reference, name, None)
    document: dict[str, Any] = {name: detail_text(get(name)) for name in TEXT_DETAILS}
    document["accessed"] = detail_text(get("accessed")) or None
    return document


def normalised_title(title: str) -> str:
    """A title as duplicates are compared: accents, case, punctuation and spacing ignored."""
    text = unicodedata.normalize("NFKD", title or "").encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def first_author_family(authors: Any) -> str:
    names = authors.splitlines() if isinstance(authors, str) else list(authors or [])
    first = next((n.strip() for n in names if str(n).strip()), "")
    return normalised_title(first.split()[0] if first else "")


def duplicate_keys(reference: dict[str, Any]) -> set[tuple[str, str]]:
    """What makes two references one: the same DOI, PMID or PMCID; with none of them, the same
    normalised title, year and first author's family name."""
    keys = set()
    if reference.get("doi"):
        keys.add(("doi", normalize_doi(str(reference["doi"]))))
    for name in ("pmid", "pmcid"):
        value = str(reference.get(name) or "").strip().upper()
        if value:
            keys.add((name, value))
    title = normalised_title(str(reference.get("title") or ""))
    if not keys and title:
        keys.add(("title", f"{title}|{reference.get('year') or ''}|{first_author_family(reference.get('authors'))}"))
    return keys
