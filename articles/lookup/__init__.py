"""Fill a reference from its identifier: a DOI through Crossref, a PMID through NCBI's
E-utilities, each answer cross-linked with the other service where it can be (a DOI's PMID and
PMCID, a PMID's retraction or correction notices on Crossref) and kept in Django's cache.

Nothing here saves anything: the editor (form or API) gets the fields to review and save."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError

from articles.models import PMID_PATTERN, normalize_doi, validate_doi

from . import crossref, pubmed
from .errors import LookupFailed, LookupUnavailable, ReferenceNotFound

__all__ = ["LookupFailed", "LookupUnavailable", "ReferenceNotFound", "lookup_reference"]

EMPTY = {"kind": "research", "title": "", "authors": [], "container": "", "year": None, "doi": None, "pmid": None,
         "pmcid": "", "url": "", "volume": "", "issue": "", "pages": "", "edition": "", "publisher": "", "place": "",
         "issuing_body": "", "version": "", "accessed": None}


def _cache_key(kind: str, value: str) -> str:
    return "imprimatur:lookup:" + hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _cached(kind: str, value: str, fetch: Any) -> dict[str, Any]:
    """An answer (a not-found too) from the cache, else fetched and kept; unavailability is not kept."""
    key = _cache_key(kind, value)
    kept = cache.get(key)
    if kept is None:
        try:
            kept = {"reference": fetch(value)}
        except ReferenceNotFound as exc:
            kept = {"not_found": exc.message}
        cache.set(key, kept, settings.IMPRIMATUR_LOOKUP_CACHE_SECONDS)
    if "not_found" in kept:
        raise ReferenceNotFound(kept["not_found"])
    return kept["reference"]


def _by_doi(doi: str) -> dict[str, Any]:
    work = crossref.fetch_work(doi)
    fields = {**EMPTY, **crossref.reference_fields(work), "source": "crossref"}
    try:  # the PubMed side is a bonus: the answer stands without it
        pmid = pubmed.pmid_of_doi(doi)
        if pmid:
            record = pubmed.reference_fields(pubmed.fetch_summary(pmid))
            fields.update(pmid=record["pmid"], pmcid=record["pmcid"])
    except (LookupUnavailable, ReferenceNotFound):
        pass
    return fields


def _by_pmid(pmid: str) -> dict[str, Any]:
    record = pubmed.reference_fields(pubmed.fetch_summary(pmid))
    fields = {**EMPTY, **record, "source": "pubmed", "notices": [], "updates": []}
    if record["doi"]:
        try:  # Crossref records the retractions and corrections; PubMed only flags a retraction
            work = crossref.fetch_work(record["doi"])
            fields.update(notices=crossref.notices(work), url=str(work.get("URL") or ""))
        except (LookupUnavailable, ReferenceNotFound):
            pass
    return fields


def lookup_reference(*, doi: str = "", pmid: str = "") -> dict[str, Any]:
    """The reference `doi` (or else `pmid`) names, as our fields, plus `source`, `notices` (the
    retraction, correction or newer-version notices Crossref records against it) and
    `retraction_status` (the strongest of them, else PubMed's retraction flag, else "none").
    Raises ValueError for a malformed identifier, ReferenceNotFound or LookupUnavailable."""
    doi = normalize_doi(doi)
    pmid = (pmid or "").strip()
    if doi:
        try:
            validate_doi(doi)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from exc
        fields = _cached("doi", doi, _by_doi)
    elif pmid:
        if not re.fullmatch(PMID_PATTERN, pmid):
            raise ValueError("Enter a PubMed ID: digits only, e.g. 33301246.")
        fields = _cached("pmid", pmid, _by_pmid)
    else:
        raise ValueError("Give a DOI or a PMID to look up.")
    status = crossref.strongest_status(fields.get("notices") or [])
    if status == "none" and fields.pop("retracted_in_pubmed", False):
        status = "retracted"
    fields.pop("retracted_in_pubmed", None)
    fields["retraction_status"] = status
    return fields
