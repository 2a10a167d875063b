"""CSL-JSON (Zotero's and Mendeley's "CSL JSON" export; also what `articles.exporters` writes).
The format is plain JSON, read with the json module; citeproc-py reads the same items to format."""

from __future__ import annotations

import json
from typing import Any

from articles.models import Reference

from .rows import ImportRefused, row, year_of

EMPTY = "The CSL-JSON file holds no references (it should be a list of items, each with a type and a title)."
KINDS = {"article-journal": Reference.Kind.RESEARCH, "article": Reference.Kind.RESEARCH,
         "book": Reference.Kind.TEXTBOOK, "chapter": Reference.Kind.TEXTBOOK, "report": Reference.Kind.GUIDELINE,
         "legislation": Reference.Kind.REGULATORY, "regulation": Reference.Kind.REGULATORY,
         "webpage": Reference.Kind.WEBSITE, "post-weblog": Reference.Kind.WEBSITE}


def _name(name: Any) -> str:
    if not isinstance(name, dict):
        return str(name or "").strip()
    if name.get("literal"):
        return str(name["literal"]).strip()
    initials = "".join(p[0] for p in str(name.get("given") or "").replace(".", " ").replace("-", " ").split())
    return f"{str(name.get('family') or '').strip()} {initials}".strip()


def _date(item: dict[str, Any], name: str) -> str:
    parts = ((item.get(name) or {}).get("date-parts") or [[]])[0]
    if len(parts) == 3:
        return f"{int(parts[0]):04d}-{int(parts[1]):02d}-{int(parts[2]):02d}"
    return ""


def _item(number: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not item.get("title"):
        raise ImportRefused(f"Item {number} of the CSL-JSON file has no title (each item needs a type and a title).")
    kind = KINDS.get(str(item.get("type") or ""), Reference.Kind.OTHER)
    issued = ((item.get("issued") or {}).get("date-parts") or [[None]])[0]
    authority = str(item.get("authority") or "")
    number = str(item.get("number") or "")  # a journal article's article number, a report's number
    authors = [_name(a) for a in item.get("author") or []]
    return row(
        kind=kind, title=str(item["title"]), authors=authors or ([authority] if authority else []),
        container=str(item.get("container-title-short") or item.get("journalAbbreviation")
                      or item.get("container-title") or "") if kind != Reference.Kind.TEXTBOOK else "",
        year=year_of(issued[0] if issued else None, (item.get("issued") or {}).get("raw")),
        doi=str(item.get("DOI") or ""), pmid=str(item.get("PMID") or ""), pmcid=str(item.get("PMCID") or ""),
        url=str(item.get("URL") or ""), volume=str(item.get("volume") or ""), issue=str(item.get("issue") or ""),
        pages=str(item.get("page") or (number if kind == Reference.Kind.RESEARCH else "")),
        edition=str(item.get("edition") or ""),
        publisher=str(item.get("publisher") or ""), place=str(item.get("publisher-place") or ""),
        issuing_body=authority, version=str(item.get("version") or (number if kind != Reference.Kind.RESEARCH else "")),
        accessed=_date(item, "accessed"))


def parse(text: str) -> list[dict[str, Any]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(f"This file is not CSL-JSON we can read: line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}.") from exc
    if isinstance(items, dict):
        items = items.get("items", [items])
    if not isinstance(items, list):
        raise ImportRefused("A CSL-JSON file is a list of items.")
    return [_item(number, item) for number, item in enumerate(items, start=1)]
