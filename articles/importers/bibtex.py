"""BibTeX (Zotero, Mendeley, JabRef, Google Scholar) through bibtexparser 2."""

from __future__ import annotations

from typing import Any

import bibtexparser
from bibtexparser import middlewares

from articles.models import Reference

from .rows import ImportRefused, row, short_name, year_of

EMPTY = "The BibTeX file holds no references (each starts with @article{…}, @book{… or similar)."
KINDS = {"article": Reference.Kind.RESEARCH, "book": Reference.Kind.TEXTBOOK, "inbook": Reference.Kind.TEXTBOOK,
         "incollection": Reference.Kind.TEXTBOOK, "techreport": Reference.Kind.GUIDELINE,
         "manual": Reference.Kind.GUIDELINE, "online": Reference.Kind.WEBSITE, "misc": Reference.Kind.OTHER}


def parse(text: str) -> list[dict[str, Any]]:
    library = bibtexparser.parse_string(text, append_middleware=[
        middlewares.LatexDecodingMiddleware(), middlewares.SeparateCoAuthors()])
    if library.failed_blocks:
        block = library.failed_blocks[0]
        raise ImportRefused(f"Line {block.start_line + 1} of the BibTeX file cannot be read "
                            f"({type(block).__name__}: {block.raw.strip().splitlines()[0][:80]!r}).")
    rows = []
    for entry in library.entries:
        fields = {key.lower(): entry.fields_dict[key].value for key in entry.fields_dict}
        authors = fields.get("author") or []
        authors = authors if isinstance(authors, list) else [authors]
        kind = KINDS.get(entry.entry_type.lower(), Reference.Kind.OTHER)
        book = kind == Reference.Kind.TEXTBOOK
        rows.append(row(
            kind=kind, title=str(fields.get("title") or "").replace("{", "").replace("}", ""),
            authors=[short_name(str(a)) for a in authors] or ([str(fields["institution"])] if "institution" in fields else []),
            container=str(fields.get("journal") or fields.get("journaltitle") or ""),
            year=year_of(fields.get("year"), fields.get("date")), doi=str(fields.get("doi") or ""),
            pmid=str(fields.get("pmid") or ""), pmcid=str(fields.get("pmcid") or ""), url=str(fields.get("url") or ""),
            volume=str(fields.get("volume") or ""), issue=str(fields.get("number") or fields.get("issue") or ""),
            pages=str(fields.get("pages") or fields.get("eid") or ""),
            edition=str(fields.get("edition") or ""),
            publisher=str(fields.get("publisher") or "") if book else "",
            place=str(fields.get("address") or fields.get("location") or "") if book else "",
            issuing_body=str(fields.get("institution") or fields.get("organization") or ""),
            version=str(fields.get("version") or ""), accessed=str(fields.get("urldate") or "")[:10]))
    return rows
