"""The managing editor's reports (/editor/reports/) and the audit dossier downloads of the editor UI.

Views stay thin: numbers come from the report modules beside this one (currency, board_activity, evidence,
conflicts_register, review_dates), the dossier from `governance.reports.dossier`,
the one write (spreading review dates) from `governance.workflow.services_reports`; permission questions
go to `governance.workflow.policies`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import select_template
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from articles.models import RiskTier
from governance.reports import dossier, exports
from governance.reports.board_activity import board_activity, board_tables
from governance.reports.charts import column_chart
from governance.reports.conflicts_register import coi_register, coi_tables
from governance.reports.currency import BUCKETS, content_currency, currency_articles, currency_tables
from governance.reports.evidence import evidence as evidence_report
from governance.reports.evidence import evidence_tables
from governance.reports.review_dates import load_tables, plan_tables, review_load, spread_plan
from governance.workflow import policies
from governance.workflow.exceptions import GovernanceError
from governance.workflow.services_reports import review_dates_spread

EDITOR_BASE_CANDIDATES = ["articles/editor/base_editor.html"]
LIST_LIMIT = 1000


def _base_template() -> str:
    """Extend the editor UI's layout when it exists, else our own self-contained one."""
    return select_template([*EDITOR_BASE_CANDIDATES, "governance/reports/layout.html"]).template.name


def managing_editor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not policies.is_managing_editor(request.user):
            raise PermissionDenied("Reports are for the managing editor.")
        return view(request, *args, **kwargs)

    return wrapped


def _page(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    return render(request, template, {"base_template": _base_template(), "generated_at": timezone.now(), "nav": "reports",
                                            **context})


def _export(request: HttpRequest, tables: list[exports.Table], name: str) -> HttpResponse | None:
    kind = request.GET.get("export")
    stamp = timezone.localdate().isoformat()
    if kind == "csv":
        return exports.csv_response(tables, filename=f"{name}-{stamp}", table=request.GET.get("table"))
    if kind == "xlsx":
        return exports.xlsx_response(tables, filename=f"{name}-{stamp}")
    return None


@managing_editor_required
def index(request: HttpRequest) -> HttpResponse:
    return _page(request, "governance/reports/index.html", {})


@managing_editor_required
def currency(request: HttpRequest) -> HttpResponse:
    report = content_currency()
    bucket = request.GET.get("bucket", "")
    topic, tier = request.GET.get("topic", ""), request.GET.get("tier", "")
    articles = None
    if bucket:
        if bucket not in {"within", *BUCKETS}:
            return HttpResponse(f"Unknown bucket '{bucket}'; use one of: within, {', '.join(BUCKETS)}.",
                                status=400, content_type="text/plain")
        if tier and tier not in RiskTier.values:
            return HttpResponse(f"Unknown risk tier '{tier}'.", status=400, content_type="text/plain")
        # On the page the first LIST_LIMIT; an export carries them all.
        limit = None if request.GET.get("export") else LIST_LIMIT
        articles = currency_articles(bucket=bucket, topic=topic, tier=tier, limit=limit)
    exported = _export(request, currency_tables(report, articles), "content-currency")
    if exported:
        return exported
    bucket_label = BUCKETS.get(bucket, "Within interval" if bucket == "within" else "")
    return _page(request, "governance/reports/currency.html", {
        "report": report, "articles": articles, "bucket": bucket, "bucket_label": bucket_label, "topic": topic,
        "tier": tier, "tiers": dict(RiskTier.choices), "truncated": articles is not None and len(articles) == LIST_LIMIT,
        "list_limit": LIST_LIMIT})


def _report_page(compute: Callable[[], dict[str, Any]], tables: Callable[[dict[str, Any]], list[exports.Table]],
                 export_name: str, template: str) -> Callable[..., HttpResponse]:
    """A report's page: computed once, exported (`?export=csv|xlsx`) or rendered."""

    @managing_editor_required
    def view(request: HttpRequest) -> HttpResponse:
        report = compute()
        return _export(request, tables(report), export_name) or _page(request, template, {"report": report})

    return view


board = _report_page(board_activity, board_tables, "board-activity", "governance/reports/board.html")
evidence = _report_page(evidence_report, evidence_tables, "evidence", "governance/reports/evidence.html")
coi = _report_page(coi_register, coi_tables, "coi-register", "governance/reports/coi.html")
load = _report_page(review_load, load_tables, "review-load", "governance/reports/load.html")


@managing_editor_required
@require_http_methods(["GET", "POST"])
def spread(request: HttpRequest) -> HttpResponse:
    """GET: the proposal (nothing changes). POST with the previewed digest: apply it."""
    if request.method == "POST":
        try:
            plan = review_dates_spread(actor=request.user, digest=request.POST.get("digest", ""))
        except GovernanceError as exc:
            detail = exc.message
            fields = getattr(exc, "errors", None) or getattr(exc, "field_errors", None)
            if isinstance(fields, dict):
                detail = " ".join(str(m) for msgs in fields.values() for m in msgs) or detail
            messages.error(request, detail)
            return redirect("reports:spread")
        messages.success(request, f"{len(plan.moves)} review date(s) brought forward; each change is in the audit trail.")
        return redirect("reports:load")
    plan = spread_plan()
    exported = _export(request, plan_tables(plan), "review-load-spread")
    if exported:
        return exported
    weeks = [{"week": w, "before": plan.before[w], "after": plan.after.get(w, 0)} for w in plan.before]
    chart = column_chart([w.strftime("%d %b") for w in plan.after], list(plan.after.values()),
                         limit=plan.capacity) if plan.moves else None
    return _page(request, "governance/reports/spread.html", {"plan": plan, "weeks": weeks, "chart": chart})


# --- the audit dossier (editor UI) --------------------------------------------------------------

def _dossier_for(request: HttpRequest, slug: str) -> dict[str, Any]:
    # An article the user may not see answers 404 like a missing one (a 403 would say it exists).
    article = get_object_or_404(policies.visible_articles(request.user).select_related("topic"), slug=slug)
    if not policies.may_read_audit(request.user, article):
        raise PermissionDenied("You may not read the audit trail of this article.")
    return dossier.build(article, exported_by=request.user)


@login_required
def dossier_json(request: HttpRequest, slug: str) -> HttpResponse:
    built = _dossier_for(request, slug)
    response = HttpResponse(json.dumps(built, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="{dossier.filename(built, "json")}"'
    return response


@login_required
def dossier_pdf(request: HttpRequest, slug: str) -> HttpResponse:
    built = _dossier_for(request, slug)
    try:
        pdf = dossier.render_pdf(built)
    except dossier.PDFUnavailable as exc:  # no Pango on this server: say so, not a 500
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{dossier.filename(built, "pdf")}"'
    return response
