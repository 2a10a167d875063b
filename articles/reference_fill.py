"""The editor's "Fill from DOI/PMID": one reference row of the article form completed from
Crossref or PubMed (`articles.lookup`). Two ways in, one outcome, nothing saved: without
JavaScript the whole form is posted and comes back with the row filled; with htmx only the row is
posted and swapped. Either way the editor reads the filled fields before saving the article."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from articles import lookup
from articles.forms import ReferenceForm
from articles.models import BIBLIOGRAPHIC_FIELDS

ROW_FIELDS = ("key", *BIBLIOGRAPHIC_FIELDS)
STATUS_NOTES = {
    "retracted": "Crossref records a retraction of this work",
    "expression_of_concern": "Crossref records an expression of concern about this work",
    "corrected": "Crossref records a correction of this work",
    "superseded": "Crossref records a newer version of this work",
}


@dataclass
class Filled:
    row: dict[str, Any]
    note: str
    level: str  # "ok", "info" or "error", as the reference check's notes


def _form_value(name: str, value: Any) -> Any:
    if name == "authors":
        return "\n".join(value or [])
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else value


def fill_row(row: dict[str, Any]) -> Filled:
    """`row` (a reference form's values) completed from its DOI, else its PMID: every field the
    service answers replaces what was typed; the key stays the editor's."""
    try:
        found = lookup.lookup_reference(doi=str(row.get("doi") or ""), pmid=str(row.get("pmid") or ""))
    except ValueError as exc:
        return Filled(row, str(exc), "error")
    except lookup.LookupFailed as exc:
        return Filled(row, exc.message, "error" if isinstance(exc, lookup.ReferenceNotFound) else "info")
    filled = dict(row)
    for name in BIBLIOGRAPHIC_FIELDS:
        value = found.get(name)
        if value not in (None, "", []):
            filled[name] = _form_value(name, value)
    source = "Crossref" if found["source"] == "crossref" else "PubMed"
    note = gettext("Filled from %(source)s: check the fields, then save the article.") % {"source": source}
    status = found.get("retraction_status", "none")
    if status in STATUS_NOTES:
        notices = ", ".join(n["doi"] for n in found.get("notices") or [] if n.get("doi"))
        note += " " + gettext(STATUS_NOTES[status]) + (f" ({notices})." if notices else ".")
        return Filled(filled, note, "error" if status == "retracted" else "info")
    return Filled(filled, note, "ok")


def posted_row(data: Any, prefix: str) -> dict[str, Any]:
    return {name: data.get(f"{prefix}-{name}", "") for name in ROW_FIELDS}


@require_POST
def reference_fill(request: HttpRequest, index: int) -> HttpResponse:
    """htmx: the reference row `index`, filled from its DOI or PMID (the editor_required wrapper
    is applied in views, where the editor's guard lives)."""
    prefix = f"refs-{index}"
    filled = fill_row(posted_row(request.POST, prefix))
    form = ReferenceForm(prefix=prefix, initial=filled.row)
    return render(request, "articles/editor/_reference_row.html", {
        "rf": form, "number": index + 1, "index": index, "fill_note": filled.note, "fill_level": filled.level})
