"""An article's references as the working revision cites them, exported for reference managers:
RIS (written by rispy) and CSL-JSON (the items citeproc-py formats the AMA list from)."""

from __future__ import annotations

import json
from typing import Any

import rispy
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from articles import bibliography
from articles.citations import csl_item
from articles.models import Article, Citation
from governance.workflow import policies

RIS_TYPES = {"guideline": "RPRT", "systematic_review": "JOUR", "research": "JOUR", "review": "JOUR",
             "case_report": "CASE", "textbook": "BOOK", "regulatory": "GOVDOC", "website": "ELEC", "other": "GEN"}


def _cited(article: Article) -> list[tuple[Citation, dict[str, Any]]]:
    revision = article.current_revision
    if revision is None:
        return []
    return [(c, c.as_cited.fields()) for c in revision.citations.select_related("reference").order_by("number")]


def ris_entry(key: str, ref: dict[str, Any]) -> dict[str, Any]:
    pages = str(ref.get("pages") or "")
    start, _, end = pages.partition("-")
    entry = {"type_of_reference": RIS_TYPES.get(ref.get("kind") or "other", "GEN"), "id": key,
             "title": ref.get("title") or "", "authors": list(ref.get("authors") or [])}
    optional = {"journal_name": ref.get("container"), "year": ref.get("year"), "doi": ref.get("doi"),
                "accession_number": ref.get("pmid"), "urls": [ref["url"]] if ref.get("url") else None,
                "volume": ref.get("volume"), "number": ref.get("issue"), "start_page": start, "end_page": end,
                "edition": ref.get("edition"), "publisher": ref.get("publisher") or ref.get("issuing_body"),
                "place_published": ref.get("place"), "access_date": bibliography.detail_text(ref.get("accessed"))}
    entry.update({name: value for name, value in optional.items() if value not in (None, "", [])})
    return entry


def csl_json_item(key: str, ref: dict[str, Any]) -> dict[str, Any]:
    item = csl_item(key, ref)
    if ref.get("pmcid"):
        item["PMCID"] = ref["pmcid"]
    if ref.get("url"):
        item["URL"] = ref["url"]
    if ref.get("issuing_body"):
        item["authority"] = ref["issuing_body"]
    return item


def _article(request: HttpRequest, slug: str) -> Article:
    return get_object_or_404(policies.visible_articles(request.user).select_related("current_revision"), slug=slug)


@require_GET
def references_ris(request: HttpRequest, slug: str) -> HttpResponse:
    article = _article(request, slug)
    text = rispy.dumps([ris_entry(c.key, ref) for c, ref in _cited(article)])
    response = HttpResponse(text, content_type="application/x-research-info-systems; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{article.slug}-references.ris"'
    return response


@require_GET
def references_csl_json(request: HttpRequest, slug: str) -> HttpResponse:
    article = _article(request, slug)
    items = [csl_json_item(c.key, ref) for c, ref in _cited(article)]
    response = HttpResponse(json.dumps(items, ensure_ascii=False, indent=2),
                            content_type="application/vnd.citationstyles.csl+json")
    response["Content-Disposition"] = f'attachment; filename="{article.slug}-references.json"'
    return response
