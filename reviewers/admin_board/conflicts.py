"""The admin of conflict-of-interest declarations: declared, then only ended (from today, with a
reason)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from governance.admin import PolicyAdmin
from governance.workflow import conflicts, policies
from governance.workflow.exceptions import GovernanceError
from reviewers.admin_board.common import ServiceErrorsAsMessages, ask_reason
from reviewers.forms import (
    ConflictDeclarationForm,
    ConflictEndForm,
)
from reviewers.models import ConflictOfInterest


class DeclarationStatusFilter(admin.SimpleListFilter):
    title = "declaration"
    parameter_name = "declaration"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("active", "Active interest (blocks review)"), ("ended", "Ended"),
                ("none", "\"None: nothing to declare\""))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        today = timezone.localdate()
        if self.value() == "active":
            return queryset.filter(ConflictOfInterest.active_q(today))
        if self.value() == "ended":
            return queryset.filter(ends_on__lt=today)
        if self.value() == "none":
            return queryset.filter(nature=ConflictOfInterest.Nature.NONE)
        return queryset


DECLARATION_FIELDS = ("member", "topic", "nature", "counterparty", "description", "starts_on", "ends_on")


@admin.register(ConflictOfInterest)
class ConflictOfInterestAdmin(ServiceErrorsAsMessages, PolicyAdmin):
    """A member declares interests per topic. A declaration is then kept as declared: it can only
    be ended, from today on and with a reason (to correct one, end it and declare again)."""

    list_display = ("topic", "nature_label", "counterparty", "starts_on", "ends_on", "blocks_review", "declared_at",
                    "end_reason")
    list_filter = (DeclarationStatusFilter, "nature", "topic")
    search_fields = ("topic__name", "counterparty", "description", "member__printed_name")
    actions = ["end_today"]
    empty_state = ("No declaration yet. Declare each interest per topic, or declare \"None: nothing to declare\" "
                   "for a topic to say so explicitly.")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConflictOfInterest]:
        return policies.visible_conflicts(request.user).select_related("member", "topic", "ended_by")

    def get_list_display(self, request: HttpRequest):
        if policies.may_administer(request.user):
            return ("member", *self.list_display)
        return self.list_display

    @staticmethod
    def _may_end(conflict: ConflictOfInterest) -> bool:
        return conflict.ended_at is None and (conflict.ends_on is None or conflict.ends_on >= timezone.localdate())

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        kwargs["form"] = ConflictEndForm if obj is not None else ConflictDeclarationForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            fields = list(DECLARATION_FIELDS)
            if not policies.may_administer(request.user):
                fields.remove("member")  # a member declares for themselves
            return fields
        fields = [*DECLARATION_FIELDS, "declared_at"]
        if self._may_end(obj) and self.has_change_permission(request, obj):
            return [*fields, "end_on", "end_reason"]
        return [*fields, "ended_at", "ended_by", "end_reason"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ()
        readonly = [*DECLARATION_FIELDS, "declared_at", "ended_at", "ended_by"]
        if not (self._may_end(obj) and self.has_change_permission(request, obj)):
            readonly.append("end_reason")
        return readonly

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "member":
            kwargs["queryset"] = policies.visible_board_members(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return policies.may_declare_conflict(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_declare_conflict(request.user, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policies.may_declare_conflict(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "change" is only ending it: an ended declaration is read-only history
        if obj is not None and not self._may_end(obj):
            return False
        return policies.may_declare_conflict(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a declaration is history: end it instead

    def save_model(self, request: HttpRequest, obj: ConflictOfInterest, form: Any, change: bool) -> None:
        """Through the services: `conflict.declare`, or `conflict.end` when a reason is given."""
        if not change:
            if not obj.member_id:
                obj.member = policies.board_member(request.user)
            if not policies.may_declare_conflict(request.user, obj):
                raise PermissionDenied
            conflicts.conflict_declare(actor=request.user, conflict=obj)
            return
        reason = (form.cleaned_data.get("end_reason") or "").strip()
        if reason:
            stored = ConflictOfInterest.objects.get(pk=obj.pk)
            ended = conflicts.conflict_end(actor=request.user, conflict=stored, reason=reason,
                                           on=form.cleaned_data.get("end_on"))
            self.message_user(request, f"The declaration ends on {ended.ends_on:%d %b %Y}.", level=messages.SUCCESS)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing else to save: a declaration has no related rows."""

    @admin.display(description="nature", ordering="nature")
    def nature_label(self, obj: ConflictOfInterest) -> str:
        return obj.get_nature_display()

    @admin.display(boolean=True, description="blocks review today")
    def blocks_review(self, obj: ConflictOfInterest) -> bool:
        return obj.is_active()

    @admin.action(description="End the selected declarations today (asks for a reason)")
    def end_today(self, request: HttpRequest, queryset: QuerySet[ConflictOfInterest]) -> HttpResponse | None:
        endable = [c for c in queryset if self._may_end(c) and policies.may_declare_conflict(request.user, c)]
        reason, page = ask_reason(
            self, request, endable, action="end_today", field="end_reason", title="End declarations today",
            explanation="Each declaration below ends today and stays in the record as it was declared, with the "
                        "reason you give.", label="Reason for ending", submit="End them today")
        if page is not None:
            return page
        ended = 0
        for conflict in endable:
            try:
                conflicts.conflict_end(actor=request.user, conflict=conflict, reason=reason)
            except GovernanceError as exc:
                self.message_user(request, f"{conflict}: {exc}", level=messages.ERROR)
            else:
                ended += 1
        self.message_user(request, f"{ended} declaration(s) ended on {timezone.localdate():%d %b %Y}.",
                          level=messages.SUCCESS)
        return None
