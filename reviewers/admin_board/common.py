"""What the board's admins share: service refusals shown as messages, the reason form of an
action, and the order that lists pending credential changes first."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse

from governance.workflow.exceptions import GovernanceError
from reviewers.models import CredentialChange

REASON_TEMPLATE = "admin/reviewers/reason_form.html"


class ServiceErrorsAsMessages:
    """A refusal the form could not foresee (a race: someone decided first) is shown as a
    message on the page it came from, never a server error; the admin's transaction rolls back."""

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)  # type: ignore[misc]
        except GovernanceError as exc:
            self.message_user(request, f"Nothing was saved: {exc}", level=messages.ERROR)  # type: ignore[attr-defined]
            return HttpResponseRedirect(request.get_full_path())


def ask_reason(model_admin: admin.ModelAdmin, request: HttpRequest, rows: list[Any], *, action: str, field: str,
               title: str, explanation: str, label: str, submit: str) -> tuple[str | None, HttpResponse | None]:
    """An admin action's intermediate page asking for a reason (POST `field`): (reason, None)
    once given, else (None, the page to show)."""
    applying = "apply" in request.POST
    reason = (request.POST.get(field) or "").strip() if applying else ""
    if reason:
        return reason, None
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, "title": title,
               "explanation": explanation, "label": label, "submit": submit, "action": action, "rows": rows,
               "field": field, "missing": applying, "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME}
    return None, TemplateResponse(request, REASON_TEMPLATE, context)


def pending_first() -> Case:
    return Case(When(status=CredentialChange.Status.PENDING, then=Value(0)), default=Value(1),
                output_field=IntegerField())
