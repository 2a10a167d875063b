"""The admin of board profiles: a member keeps their affiliation and bio; their eligibility facts
are read-only to them (they propose a change, see `credential_changes`)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from governance.admin import PolicyAdmin
from governance.workflow import credentials, policies
from reviewers.admin_board.common import ServiceErrorsAsMessages, ask_reason, pending_first
from reviewers.forms import (
    BoardMemberForm,
)
from reviewers.models import BoardMember, CredentialChange


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
                       .annotate(pending_first=pending_first()).order_by("pending_first", "-proposed_at", "-pk"))
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
