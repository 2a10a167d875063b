"""The admin of credential change proposals: the managing editor or a credentials verifier — never
the member — verifies or rejects them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from governance.admin import PolicyAdmin
from governance.workflow import credentials, policies
from reviewers.admin_board.common import ServiceErrorsAsMessages, pending_first
from reviewers.forms import (
    CredentialDecisionForm,
    CredentialProposalForm,
)
from reviewers.models import CredentialChange

PROPOSAL_FIELDS = (*CredentialChange.VALUE_FIELDS, "specialties_added", "specialties_removed", "note")
RECORD_FIELDS = ("member", "status", "change_summary", "note", "proposed_by", "proposed_at", "decided_by",
                 "decided_at", "decision_note", "applied")


@admin.register(CredentialChange)
class CredentialChangeAdmin(ServiceErrorsAsMessages, PolicyAdmin):
    """Proposals of new credentials: a member's own; every member's for the managing editor and
    the credentials verifiers, pending first, who verify or reject each with a note."""

    list_display = ("member", "change_summary", "status", "proposed_by", "proposed_at", "decided_by", "decided_at")
    list_filter = ("status", ("member", admin.RelatedOnlyFieldListFilter))
    search_fields = ("member__printed_name", "member__user__username", "note", "decision_note")
    empty_state = ("No credential change yet. A member proposes one from their board profile (a renewed licence, "
                   "a new specialty); it counts once someone other than them verifies it.")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CredentialChange]:
        return (policies.visible_credential_changes(request.user)
                .select_related("member__user", "proposed_by", "decided_by")
                .prefetch_related("specialties_added", "specialties_removed")
                .annotate(pending_first=pending_first()))

    def get_ordering(self, request: HttpRequest):
        return ("pending_first", "-proposed_at", "-pk")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.is_credentials_verifier(request.user) or policies.board_member(request.user) is not None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return policies.may_propose_credentials(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # "change" is deciding it: a pending proposal, by a verifier who is not its member
        if obj is None:
            return policies.is_credentials_verifier(request.user)
        return obj.status == CredentialChange.Status.PENDING and policies.may_verify_credentials(request.user,
                                                                                                 obj.member)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # history

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is not None:
            kwargs["form"] = CredentialDecisionForm
            return super().get_form(request, obj, change, **kwargs)
        kwargs["form"] = CredentialProposalForm
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"acting_member": policies.board_member(request.user)})

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ["member", *PROPOSAL_FIELDS] if policies.is_managing_editor(request.user) else list(PROPOSAL_FIELDS)
        if self.has_change_permission(request, obj):
            return [*(f for f in RECORD_FIELDS if f != "decision_note"), "decision", "decision_note"]
        return list(RECORD_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ()
        if self.has_change_permission(request, obj):
            return [f for f in RECORD_FIELDS if f != "decision_note"]
        return list(RECORD_FIELDS)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any):
        if db_field.name == "member":
            kwargs["queryset"] = policies.visible_board_members(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: CredentialChange, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            member = data.get("member") or policies.board_member(request.user)
            if member is None:
                raise PermissionDenied
            proposal = credentials.credential_change_propose(
                actor=request.user, member=member, note=data.get("note", ""),
                changes={n: data.get(n) for n in CredentialChange.VALUE_FIELDS},
                specialties_added=data.get("specialties_added") or [],
                specialties_removed=data.get("specialties_removed") or [])
            obj.pk, obj.member = proposal.pk, proposal.member  # what the admin's redirect and log name
            self.message_user(request, "Proposed. Nothing changes until someone other than the member verifies it.",
                              level=messages.SUCCESS)
            return
        stored = CredentialChange.objects.select_related("member").get(pk=obj.pk)
        decide = (credentials.credential_change_verify if data["decision"] == "verify"
                  else credentials.credential_change_reject)
        decided = decide(actor=request.user, change=stored, note=data["decision_note"])
        self.message_user(request, f"{decided.get_status_display()}: {decided.summary() or 'credentials as recorded'}.",
                          level=messages.SUCCESS)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """The service set the specialties proposed; nothing else is related."""

    @admin.display(description="change")
    def change_summary(self, obj: CredentialChange) -> str:
        return obj.summary() or "credentials as recorded"
