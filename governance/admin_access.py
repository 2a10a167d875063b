"""The admin of who may get in: staff users' editorial-API tokens (revoked with an action),
downstream sites' API keys (created, the key shown once, and revoked), and signers whose
e-signature is locked after wrong passwords (unlocked with an action). Every change goes through
a service that audits it (governance.api_access, governance.signatures); who may act is
`governance.policies`.

Imported from GovernanceConfig.ready(), after the admin's autodiscovery: it replaces the admins
django-rest-knox and djangorestframework-api-key register, which create, change and delete
credentials without an audit event."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from knox.models import AuthToken

from . import api_access, policies, rules, signatures
from .admin import ReadOnlyAdmin
from .exceptions import GovernanceError
from .models import EditorialToken, SigningFailure, SigningGuard

admin.site.unregister(AuthToken)


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%d %b %Y %H:%M %Z") if moment else "—"


# --- editorial tokens ---------------------------------------------------------------------------


class TokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("valid", "Valid"), ("expired", "Expired"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        now = timezone.now()
        if self.value() == "valid":
            return queryset.filter(Q(expiry__isnull=True) | Q(expiry__gte=now))
        if self.value() == "expired":
            return queryset.filter(expiry__lt=now)
        return queryset


@admin.register(EditorialToken)
class EditorialTokenAdmin(ReadOnlyAdmin):
    """Staff users' editorial-API tokens: whose, the first characters (the lookup key; the
    token itself is never stored), created, expiry. Made with `manage.py drf_create_token`;
    revoked here with the action (audited `editorial_token.revoke`)."""

    list_display = ("user", "starts_with", "created", "expiry", "expired")
    list_filter = (TokenStatusFilter, ("user", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__username", "token_key")
    list_select_related = ("user",)
    fields = ("user", "starts_with", "created", "expiry")
    readonly_fields = fields
    actions = ["revoke_tokens"]
    empty_state = ("No editorial token yet. `manage.py drf_create_token USERNAME` prints one for a staff user "
                   "(only its digest is stored); revoke tokens here.")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_manage_api_access(request.user)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="token starts with", ordering="token_key")
    def starts_with(self, obj: EditorialToken) -> str:
        return f"{obj.token_key}…"

    @admin.display(boolean=True, description="expired")
    def expired(self, obj: EditorialToken) -> bool:
        return obj.expiry is not None and obj.expiry < timezone.now()

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[EditorialToken]) -> None:
        revoked = 0
        for token in queryset.select_related("user"):
            try:
                api_access.editorial_token_revoke(actor=request.user, token=token)
            except GovernanceError as exc:
                self.message_user(request, f"{token}: {exc}", level=messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked: they answer 401 from now on.", level=messages.SUCCESS)


# --- signing lockouts ---------------------------------------------------------------------------


class SigningStatusFilter(admin.SimpleListFilter):
    title = "signing"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any):
        return (("locked", "Locked now"), ("failing", "Failures within the window"))

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        if self.value() == "locked":
            return queryset.filter(failures_counted__gte=rules.signing_failure_limit())
        if self.value() == "failing":
            return queryset.filter(failures_counted__gt=0)
        return queryset


@admin.register(SigningGuard)
class SigningLockoutAdmin(ReadOnlyAdmin):
    """Signers who have failed the password re-check: how many failures count now, until when
    their signing is locked, and the "Unlock signing" action (governance.signatures.signing_unlock)."""

    list_display = ("signer", "failures_now", "locked_until", "last_failure_at", "unlocked_by", "counted_from")
    list_filter = (SigningStatusFilter,)
    search_fields = ("user__username", "user__first_name", "user__last_name")
    actions = ["unlock_signing"]
    empty_state = ("No signer has entered a wrong password when signing. After "
                   "IMPRIMATUR_SIGNATURE_FAILURE_LIMIT wrong passwords within the window, a signer is listed here "
                   "as locked until you unlock them.")

    def get_queryset(self, request: HttpRequest) -> QuerySet[SigningGuard]:
        now = timezone.now()
        window_start = now - rules.signing_window()
        counted = Q(failures__at__gt=window_start) & (Q(counted_from__isnull=True) | Q(failures__at__gt=F("counted_from")))
        recent = SigningFailure.objects.filter(at__gt=window_start).order_by("-at")
        return (super().get_queryset(request).select_related("user", "unlocked_by")
                .annotate(failures_counted=Count("failures", filter=counted), last_failure=Max("failures__at"))
                .filter(last_failure__isnull=False)
                .prefetch_related(Prefetch("failures", queryset=recent, to_attr="recent_failures")))

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="signer", ordering="user__username")
    def signer(self, obj: SigningGuard) -> str:
        name = obj.user.get_full_name()
        return f"{obj.user.get_username()} ({name})" if name else obj.user.get_username()

    @admin.display(description="failures counted now", ordering="failures_counted")
    def failures_now(self, obj: SigningGuard) -> int:
        return obj.failures_counted

    @admin.display(description="locked until")
    def locked_until(self, obj: SigningGuard) -> str:
        since = rules.signing_counted_since(timezone.now(), obj.counted_from)
        return _when(rules.signing_locked_until([f.at for f in obj.recent_failures if f.at > since]))

    @admin.display(description="last failure", ordering="last_failure")
    def last_failure_at(self, obj: SigningGuard) -> str:
        return _when(obj.last_failure)

    @admin.action(description="Unlock signing for the selected signers")
    def unlock_signing(self, request: HttpRequest, queryset: QuerySet[SigningGuard]) -> None:
        for guard in queryset.select_related("user"):
            try:
                signatures.signing_unlock(actor=request.user, user=guard.user, reason="unlocked in the admin")
            except GovernanceError as exc:
                self.message_user(request, f"{guard.user.get_username()}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"Signing unlocked for {guard.user.get_username()}.",
                                  level=messages.SUCCESS)
