"""PubMed's MEDLINE format (the .nbib "Send to: Citation manager" file), read by hand: the format
is a few lines of `TAG - value` with continuation lines indented six spaces, and the one parser on
PyPI (nbib) has had no release since 2021."""

from __future__ import annotations

import re
from typing import Any

from articles.models import Reference

from .rows import ImportRefused, row, year_of

EMPTY = "The MEDLINE file holds no references (each starts with a PMID- line)."
LINE = re.compile(r"^([A-Z][A-Z0-9]{0,3})\s*-\s?(.*)$")
KINDS = [("Practice Guideline", Reference.Kind.GUIDELINE), ("Guideline", Reference.Kind.GUIDELINE),
         ("Systematic Review", Reference.Kind.SYSTEMATIC_REVIEW), ("Meta-Analysis", Reference.Kind.SYSTEMATIC_REVIEW),
         ("Review", Reference.Kind.REVIEW), ("Case Reports", Reference.Kind.CASE_REPORT)]


def records(text: str) -> list[tuple[int, list[tuple[str, str]]]]:
    """Each record (blank-line separated) as its first line number and its (tag, value) pairs."""
    found: list[tuple[int, list[tuple[str, str]]]] = []
    current: list[tuple[str, str]] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            current = None
            continue
        if line.startswith("      ") and current:
            tag, value = current[-1]
            current[-1] = (tag, f"{value} {line.strip()}")
            continue
        match = LINE.match(line)
        if match is None:
            raise ImportRefused(f"Line {number} of the MEDLINE file is not a `TAG - value` line: {line[:80]!r}.")
        if current is None:
            current = []
            found.append((number, current))
        current.append((match.group(1), match.group(2).strip()))
    return found


def _record(line: int, tags: list[tuple[str, str]]) -> dict[str, Any]:
    values: dict[str, list[str]] = {}
    for tag, value in tags:
        values.setdefault(tag, []).append(value)
    first = {tag: items[0] for tag, items in values.items()}
    if "TI" not in first and "BTI" not in first:
        raise ImportRefused(f"The record at line {line} of the MEDLINE file has no title (TI).")
    ids = values.get("AID", []) + values.get("LID", [])
    doi = next((v.removesuffix(" [doi]") for v in ids if v.endswith("[doi]")), "")
    types = values.get("PT", [])
    return row(
        kind=next((k for name, k in KINDS if name in types), Reference.Kind.RESEARCH),
        title=(first.get("TI") or first.get("BTI") or "").rstrip("."),
        authors=values.get("AU", []) + values.get("CN", []),
        container=first.get("TA", first.get("JT", "")), year=year_of(first.get("DP"), first.get("DEP")),
        doi=doi, pmid=first.get("PMID", ""), pmcid=first.get("PMC", ""),
        volume=first.get("VI", ""), issue=first.get("IP", ""),
        pages=first.get("PG", "") or next((v.removesuffix(" [pii]") for v in values.get("LID", []) if "[pii]" in v), ""),
        edition=first.get("EN", ""), publisher=first.get("PB", ""), place=first.get("PL", "") if "PB" in first else "")


def parse(text: str) -> list[dict[str, Any]]:
    return [_record(line, tags) for line, tags in records(text)]
