"""RIS (PubMed, Zotero, EndNote) through rispy."""

from __future__ import annotations

import re
from typing import Any

import rispy

from articles.models import PMID_PATTERN, Reference

from .rows import ImportRefused, row, short_name, year_of

EMPTY = "The RIS file holds no references (each should start with a TY tag)."
KINDS = {
    "JOUR": Reference.Kind.RESEARCH, "JFULL": Reference.Kind.RESEARCH, "EJOUR": Reference.Kind.RESEARCH,
    "BOOK": Reference.Kind.TEXTBOOK, "CHAP": Reference.Kind.TEXTBOOK, "EBOOK": Reference.Kind.TEXTBOOK,
    "RPRT": Reference.Kind.GUIDELINE, "STAND": Reference.Kind.GUIDELINE, "GOVDOC": Reference.Kind.REGULATORY,
    "LEGAL": Reference.Kind.REGULATORY, "STAT": Reference.Kind.REGULATORY, "ELEC": Reference.Kind.WEBSITE,
    "WEB": Reference.Kind.WEBSITE, "CASE": Reference.Kind.CASE_REPORT,
}


def _pages(entry: dict[str, Any]) -> str:
    start, end = str(entry.get("start_page") or "").strip(), str(entry.get("end_page") or "").strip()
    return f"{start}-{end}" if start and end and end != start else start


def parse(text: str) -> list[dict[str, Any]]:
    try:
        entries = rispy.loads(text)
    except Exception as exc:  # rispy raises bare IOError/ValueError subclasses, naming the line
        raise ImportRefused(f"This file is not a RIS export we can read ({exc}).") from exc
    rows = []
    for entry in entries:
        pmid = next((str(c).strip() for c in (entry.get("accession_number"), entry.get("id"))
                     if c and re.fullmatch(PMID_PATTERN, str(c).strip())), "")
        authors = [short_name(a.replace(",", " ")) for a in (entry.get("authors") or entry.get("first_authors") or [])]
        rows.append(row(
            kind=KINDS.get(entry.get("type_of_reference", ""), Reference.Kind.OTHER),
            title=entry.get("title") or entry.get("primary_title") or "", authors=authors,
            container=entry.get("journal_name") or entry.get("secondary_title") or "",
            year=year_of(entry.get("year"), entry.get("publication_year"), entry.get("date")),
            doi=entry.get("doi") or "", pmid=pmid, url=(entry.get("urls") or [""])[0],
            volume=entry.get("volume") or "", issue=entry.get("number") or "", pages=_pages(entry),
            edition=entry.get("edition") or "", publisher=entry.get("publisher") or "",
            place=entry.get("place_published") or ""))
    return rows
