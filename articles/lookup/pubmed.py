"""NCBI's E-utilities (esummary, esearch), with plain `requests`: no kept Python client takes a
base URL (Biopython's Entrez hard-codes NCBI's address and brings all of Biopython)."""

from __future__ import annotations

import re
from typing import Any

import requests
from django.conf import settings

from articles.models import Reference

from .errors import LookupUnavailable, ReferenceNotFound, retry_after_seconds

PUBLICATION_KINDS = [  # the first of a record's publication types found here decides its kind
    ("Retraction of Publication", Reference.Kind.OTHER), ("Practice Guideline", Reference.Kind.GUIDELINE),
    ("Guideline", Reference.Kind.GUIDELINE), ("Systematic Review", Reference.Kind.SYSTEMATIC_REVIEW),
    ("Meta-Analysis", Reference.Kind.SYSTEMATIC_REVIEW), ("Review", Reference.Kind.REVIEW),
    ("Case Reports", Reference.Kind.CASE_REPORT),
]


def _get(tool: str, params: dict[str, str]) -> dict[str, Any]:
    query = {**params, "retmode": "json", "tool": "imprimatur", "email": settings.IMPRIMATUR_LOOKUP_CONTACT}
    if settings.IMPRIMATUR_NCBI_API_KEY:
        query["api_key"] = settings.IMPRIMATUR_NCBI_API_KEY  # 10 requests/s instead of 3
    headers = {"User-Agent": f"Imprimatur (reference look-up; mailto:{settings.IMPRIMATUR_LOOKUP_CONTACT})"}
    try:
        response = requests.get(f"{settings.IMPRIMATUR_PUBMED_URL}/{tool}.fcgi", params=query, headers=headers,
                                timeout=settings.IMPRIMATUR_LOOKUP_TIMEOUT)
    except requests.Timeout as exc:
        raise LookupUnavailable(f"PubMed did not answer within {settings.IMPRIMATUR_LOOKUP_TIMEOUT} s; try again "
                                "later, or type the reference by hand.") from exc
    except requests.RequestException as exc:
        raise LookupUnavailable("PubMed cannot be reached; try again later, or type the reference by hand.") from exc
    retry = retry_after_seconds(response.headers.get("Retry-After"))
    if response.status_code == 429:
        raise LookupUnavailable(f"PubMed is limiting our requests; try again in {retry} s, or type the reference "
                                "by hand.", retry_after=retry)
    if response.status_code != 200:
        raise LookupUnavailable(f"PubMed answered {response.status_code}; try again later, or type the reference "
                                "by hand.", retry_after=retry)
    try:
        return response.json()
    except ValueError as exc:
        raise LookupUnavailable("PubMed sent an unreadable answer; try again later, or type the reference by hand.") from exc


def fetch_summary(pmid: str) -> dict[str, Any]:
    """The esummary record of `pmid`; ReferenceNotFound or LookupUnavailable."""
    result = _get("esummary", {"db": "pubmed", "id": pmid}).get("result") or {}
    record = result.get(pmid)
    if not isinstance(record, dict) or record.get("error") or not record.get("title"):
        raise ReferenceNotFound(f"PubMed has no record of the PMID {pmid}.")
    return record


def pmid_of_doi(doi: str) -> str | None:
    """The PMID PubMed files `doi` under, if any."""
    ids = (_get("esearch", {"db": "pubmed", "term": f"{doi}[doi]"}).get("esearchresult") or {}).get("idlist") or []
    return str(ids[0]) if len(ids) == 1 else None


def _article_id(record: dict[str, Any], idtype: str) -> str:
    return next((str(a.get("value") or "") for a in record.get("articleids") or [] if a.get("idtype") == idtype), "")


def reference_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Our reference fields from an esummary record."""
    types = [str(t) for t in record.get("pubtype") or []]
    kind = next((k for name, k in PUBLICATION_KINDS if name in types), Reference.Kind.RESEARCH)
    year = re.search(r"(1[6-9]|20)\d\d", str(record.get("pubdate") or record.get("epubdate") or ""))
    pmcid = _article_id(record, "pmc") or _article_id(record, "pmcid")
    pmcid = re.search(r"PMC\d+", pmcid).group(0) if re.search(r"PMC\d+", pmcid) else ""
    return {
        "kind": kind,
        "title": str(record.get("title") or "").strip().rstrip("."),
        "authors": [str(a.get("name") or "").strip() for a in record.get("authors") or []
                    if a.get("authtype", "Author") == "Author" and a.get("name")],
        "container": str(record.get("source") or ""),
        "year": int(year.group(0)) if year else None,
        "doi": _article_id(record, "doi").lower() or None,
        "pmid": str(record.get("uid") or "") or None,
        "pmcid": pmcid,
        "volume": str(record.get("volume") or ""),
        "issue": str(record.get("issue") or ""),
        "pages": str(record.get("pages") or record.get("elocationid") or "").removeprefix("doi: "),
        "retracted_in_pubmed": "Retracted Publication" in types,
    }
