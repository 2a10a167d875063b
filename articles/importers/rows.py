"""The row every importer produces: the reference form's fields, as text."""

from __future__ import annotations

import re
from typing import Any

from articles.models import DETAIL_FIELDS, PMCID_PATTERN, PMID_PATTERN, normalize_doi


class ImportRefused(Exception):
    """A record the file holds cannot be read; the message names its line or record."""


def year_of(*values: Any) -> int | None:
    for value in values:
        match = re.search(r"(1[6-9]|20)\d\d", str(value or ""))
        if match:
            return int(match.group(0))
    return None


def short_name(author: str) -> str:
    """'Smith, John A' / 'Smith John A' / 'Smith J A' → 'Smith JA' (AMA), an organisation unchanged."""
    author = author.strip()
    if "," in author:
        family, _, given = author.partition(",")
        given_parts = given.replace(".", " ").replace("-", " ").split()
        if given_parts and len(given_parts) <= 3:
            return f"{family.strip()} {''.join(g[0].upper() for g in given_parts)}"
        return family.strip()
    parts = author.split()
    if len(parts) < 2 or not all(p[:1].isupper() for p in parts) or len(parts) > 4:
        return author
    return f"{parts[0]} {''.join(g[0] for g in parts[1:])}"


def row(*, kind: str, title: str, authors: list[str], year: int | None = None, container: str = "", doi: str = "",
        pmid: str = "", pmcid: str = "", url: str = "", **details: Any) -> dict[str, Any]:
    """A reference form row; identifiers kept only when well formed (the form re-checks them)."""
    doi = normalize_doi(doi or "")
    pmid = str(pmid or "").strip()
    pmcid = str(pmcid or "").strip().upper()
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    return {
        "key": "", "kind": kind, "title": (title or "").strip(), "authors": "\n".join(a for a in authors if a),
        "container": (container or "").strip(), "year": year, "doi": doi,
        "pmid": pmid if re.fullmatch(PMID_PATTERN, pmid) else "",
        "pmcid": pmcid if re.fullmatch(PMCID_PATTERN, pmcid) else "",
        "url": "" if doi else (url or "").strip(),
        **{name: str(details.get(name) or "").strip() for name in DETAIL_FIELDS},
        # Page ranges come with an en dash (BibTeX's --, CSL) or a hyphen: the AMA style writes a hyphen.
        "pages": str(details.get("pages") or "").strip().replace("\u2013", "-").replace("--", "-"),
    }
