"""Reference files users export from their reference managers and PubMed, read into the rows of
the editor's reference form: RIS (rispy), BibTeX (bibtexparser), CSL-JSON (Zotero, Mendeley; the
json module: the format is plain JSON) and PubMed's MEDLINE/.nbib (our own reader: see medline).

A file is read whole or not at all: the first record that cannot be read refuses the file with a
message naming its line or record (`ImportRefused`), so nothing is half-imported unseen."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from . import bibtex, csljson, medline, ris
from .rows import ImportRefused

__all__ = ["FORMATS", "ImportRefused", "parse_references"]

FORMATS = {"ris": ris, "bibtex": bibtex, "csljson": csljson, "medline": medline}
BY_EXTENSION = {".ris": "ris", ".bib": "bibtex", ".bibtex": "bibtex", ".json": "csljson", ".nbib": "medline",
                ".medline": "medline"}


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def detect(name: str, text: str) -> str:
    """The format by the file's extension, else by how its text starts."""
    for extension, fmt in BY_EXTENSION.items():
        if name.lower().endswith(extension):
            return fmt
    start = text.lstrip()[:200]
    if start.startswith(("[", "{")):
        return "csljson"
    if start.startswith("@"):
        return "bibtex"
    if start.startswith("PMID-"):
        return "medline"
    return "ris"


def parse_references(upload: Any) -> list[dict[str, Any]]:
    """The references of an uploaded file, as initial data for reference forms. Raises
    ValidationError with a message naming the line or record it could not read."""
    text = _decode(upload.read())
    fmt = detect(getattr(upload, "name", "") or "", text)
    try:
        rows = FORMATS[fmt].parse(text)
    except ImportRefused as exc:
        raise ValidationError(str(exc)) from exc
    if not rows:
        raise ValidationError(FORMATS[fmt].EMPTY)
    return rows
