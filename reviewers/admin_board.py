"""The admin of the board's records: board profiles, credential change proposals and their
verification, conflict-of-interest declarations.

A member keeps their affiliation and bio; their eligibility facts (signature name, post-nominals,
licence, specialties) are read-only to them: they *propose* a change, which the managing editor or
a credentials verifier — never the member — verifies or rejects. A declaration of interest is
declared, then only ended (from today, with a reason). Every question of who may do what goes to
`governance.workflow.policies`, every change to `governance.workflow.services.credentials` /
`governance.workflow.services.conflicts`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Count, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from governance.admin import PolicyAdmin
from governance.workflow import policies
from governance.workflow.exceptions import GovernanceError
from governance.workflow.services import conflicts, credentials

from .forms import (
    BoardMemberForm,
    ConflictDeclarationForm,
    ConflictEndForm,
    CredentialDecisionForm,
    CredentialProposalForm,
)
from .models import BoardMember, ConflictOfInterest, CredentialChange

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


# --- conflicts of interest ----------------------------------------------------------------------


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


# --- board profiles -----------------------------------------------------------------------------


class LicenceFilter(admin.SimpleListFilter):
    title = "licence"
    parameter_name = "licence"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("expired", "Expired"), ("expiring", "Expires within 90 days"), ("valid", "Valid"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        today = timezone.localdate()
        if self.value() == "expired":
            return queryset.filter(licence_expires_on__lt=today)
        if self.value() == "expiring":
            return queryset.filter(licence_expires_on__gte=today,
                                   licence_expires_on__lte=today + timezone.timedelta(days=90))
        if self.value() == "valid":
            return queryset.filter(licence_expires_on__gte=today)
        return queryset


class VerificationFilter(admin.SimpleListFilter):
    title = "credentials"
    parameter_name = "credentials"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("pending", "A change awaits verification"), ("unverified", "Never verified"),
                ("verified", "Verified"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        if self.value() == "pending":
            return queryset.filter(credential_changes__status=CredentialChange.Status.PENDING).distinct()
        if self.value() == "unverified":
            return queryset.filter(credentials_verified_at__isnull=True)
        if self.value() == "verified":
            return queryset.filter(credentials_verified_at__isnull=False)
        return queryset


CREDENTIAL_DISPLAY = ("credentials_verified_at", "credentials_verified_by", "credential_history")


@admin.register(BoardMember)
class BoardMemberAdmin(ServiceErrorsAsMessages, PolicyAdmin):
    form = BoardMemberForm
    list_display = ("printed_name", "credentials", "specialty_names", "affiliation", "licence_jurisdiction",
                    "licence_expires_on", "licence_ok", "credentials_verified_at", "pending_changes", "is_active")
    list_filter = (VerificationFilter, LicenceFilter, "is_active", "specialties")
    search_fields = ("printed_name", "user__username", "licence_number", "affiliation", "credentials")
    filter_horizontal = ("specialties",)
    actions = ["verify_recorded"]
    empty_state = "No board member yet. Add a staff user, then their board profile here."

    def get_queryset(self, request: HttpRequest) -> QuerySet[BoardMember]:
        pending = Count("credential_changes", filter=Q(credential_changes__status=CredentialChange.Status.PENDING))
        return (policies.visible_board_members(request.user).select_related("user", "credentials_verified_by")
                .prefetch_related("specialties").annotate(pending_count=pending))

    def _may_record_credentials(self, request: HttpRequest, obj: BoardMember | None) -> bool:
        """The managing editor edits eligibility facts directly (their verification), never their own."""
        if not policies.may_administer(request.user):
            return False
        if obj is None:
            return True
        return policies.may_verify_credentials(request.user, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        recording = self._may_record_credentials(request, obj)
        facts = ["printed_name", "credentials", "specialties" if recording else "specialty_names", "licence_number",
                 "licence_jurisdiction", "licence_expires_on"]
        if recording:
            facts.append("verification_note")
        if obj is not None:
            facts += ["propose", *CREDENTIAL_DISPLAY]
        return (
            (None, {"fields": ("user", "affiliation", "bio")}),
            ("Credentials (verified by someone other than the member)", {"fields": facts}),
            ("Board", {"fields": ("is_active", "joined_on")}),
            ("Public profile", {"fields": credentials.SITE_FIELDS,
                                "description": "The profile readers see at /board/<slug>/ while the member is active."}),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        readonly = ["propose", "specialty_names", *CREDENTIAL_DISPLAY]
        if obj is not None:
            readonly.append("user")
        if not self._may_record_credentials(request, obj):
            readonly += list(credentials.VALUE_FIELDS)
        if not policies.may_administer(request.user):
            readonly += ["is_active", "joined_on", *credentials.SITE_FIELDS]
        elif obj is not None and not policies.may_verify_credentials(request.user, obj):
            readonly.append("is_active")  # reactivating yourself would make you eligible
        return readonly

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"acting_user": request.user})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return (policies.may_administer(request.user) or policies.is_credentials_verifier(request.user)
                    or policies.board_member(request.user) is not None)
        return policies.visible_board_members(request.user).filter(pk=obj.pk).exists()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return policies.may_administer(request.user) or policies.board_member(request.user) is not None
        return policies.may_edit_board_member(request.user, obj)

    def save_model(self, request: HttpRequest, obj: BoardMember, form: Any, change: bool) -> None:
        """Through the services: a new profile (`board_member.create`, and its verification by the
        managing editor); the managing editor's edit of an eligibility fact as their verification
        (`credentials.verify`); the rest as `board_member.update`, with old and new values."""
        data = form.cleaned_data
        note = data.get("verification_note") or ""
        if not change:
            credentials.board_member_create(actor=request.user, member=obj, specialties=list(data.get("specialties", [])),
                                            note=note)
            return
        if not policies.may_edit_board_member(request.user, obj):
            raise PermissionDenied
        stored = BoardMember.objects.get(pk=obj.pk)  # the form already changed `obj`
        facts = {name: data[name] for name in form.changed_data if name in credentials.VALUE_FIELDS}
        specialties = list(data["specialties"]) if "specialties" in form.changed_data else None
        if facts or specialties is not None:
            credentials.credentials_record(actor=request.user, member=stored, note=note, changes=facts,
                                           specialties=specialties)
        profile = {name: data[name] for name in form.changed_data
                   if name in (*credentials.PROFILE_FIELDS, *credentials.BOARD_FIELDS, *credentials.SITE_FIELDS)}
        if profile:
            credentials.board_member_update(actor=request.user, member=stored, changes=profile)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:  # the specialties were set by the service (audited); nothing else is m2m
            self.save_formset(request, form, formset, change=change)

    @admin.display(description="specialties")
    def specialty_names(self, obj: BoardMember) -> str:
        return ", ".join(s.name for s in obj.specialties.all()) or "—"

    @admin.display(boolean=True, description="licence valid")
    def licence_ok(self, obj: BoardMember) -> bool:
        return obj.licence_valid()

    @admin.display(description="pending changes", ordering="pending_count")
    def pending_changes(self, obj: BoardMember) -> int:
        return getattr(obj, "pending_count", 0)

    @admin.display(description="propose a change")
    def propose(self, obj: BoardMember) -> str:
        url = reverse("admin:reviewers_credentialchange_add") + f"?member={obj.pk}"
        return format_html('<a class="button" href="{}">Propose a credential change</a> '
                           "<span class=\"help\">It counts once someone other than the member verifies it.</span>",
                           url)

    @admin.display(description="proposals and verifications")
    def credential_history(self, obj: BoardMember) -> str:
        changes = list(obj.credential_changes.select_related("proposed_by", "decided_by")
                       .prefetch_related("specialties_added", "specialties_removed")
                       .annotate(pending_first=_pending_first()).order_by("pending_first", "-proposed_at", "-pk"))
        if not changes:
            return "None yet."
        rows = format_html_join("", "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", (
            (reverse("admin:reviewers_credentialchange_change", args=[c.pk]), c.get_status_display(),
             c.summary() or "credentials as recorded", f"{c.proposed_by} · {timezone.localtime(c.proposed_at):%d %b %Y}",
             f"{c.decided_by} · {timezone.localtime(c.decided_at):%d %b %Y}" if c.decided_at else "—",
             c.decision_note or c.note)
            for c in changes))
        return format_html("<table><thead><tr><th>status</th><th>change</th><th>proposed</th><th>decided</th>"
                           "<th>note</th></tr></thead><tbody>{}</tbody></table>", rows)

    @admin.action(description="Verify the recorded credentials of the selected members (asks for a note)")
    def verify_recorded(self, request: HttpRequest, queryset: QuerySet[BoardMember]) -> HttpResponse | None:
        members = [m for m in queryset if policies.may_verify_credentials(request.user, m)]
        if not members:
            self.message_user(request, "You may verify none of these: nobody verifies their own credentials.",
                              level=messages.ERROR)
            return None
        note, page = ask_reason(
            self, request, members, action="verify_recorded", field="verification_note", title="Verify recorded credentials",
            explanation="You confirm that you checked each member's licence, post-nominals and specialties as "
                        "recorded below; the verification is kept with your name and note.",
            label="How you verified them", submit="Verify")
        if page is not None:
            return page
        for member in members:
            credentials.credentials_record(actor=request.user, member=member, note=note)
        self.message_user(request, f"{len(members)} member(s) verified.", level=messages.SUCCESS)
        return None


def _pending_first() -> Case:
    return Case(When(status=CredentialChange.Status.PENDING, then=Value(0)), default=Value(1),
                output_field=IntegerField())


# --- credential changes -------------------------------------------------------------------------

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
                .annotate(pending_first=_pending_first()))

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
