"""The admin of who may get in: staff users' editorial-API tokens (revoked with an action),
downstream sites' API keys (created, the key shown once, and revoked), and signers whose
e-signature is locked after wrong passwords (unlocked with an action). Every change goes through
a service that audits it (governance.workflow.api_access, governance.workflow.signatures); who may act is
`governance.workflow.policies`.

Imported from GovernanceConfig.ready(), after the admin's autodiscovery: it replaces the admins
django-rest-knox and djangorestframework-api-key register, which create, change and delete
credentials without an audit event."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Max, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework_api_key.models import APIKey

from governance.admin import PolicyAdmin, ReadOnlyAdmin
from governance.models import EditorialToken, SigningFailure, SigningGuard
from governance.workflow import api_access, policies, rules, signatures
from governance.workflow.exceptions import ContentInvalid, GovernanceError

admin.site.unregister(AuthToken)
admin.site.unregister(APIKey)


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


# --- API keys of downstream sites ---------------------------------------------------------------


class ApiKeyCreateForm(forms.Form):
    name = forms.CharField(max_length=api_access.API_KEY_NAME_MAX,
                           help_text="The downstream site, e.g. heart-charity.example.")
    expiry_date = forms.SplitDateTimeField(required=False, widget=widgets.AdminSplitDateTime,
                                           help_text="Empty: the key never expires (revoke it here).")


@admin.register(APIKey)
class ApiKeyAdmin(PolicyAdmin):
    """Downstream sites' keys for the public API: created here (the key is shown once, on the page
    that follows; only a hash is stored) or with `manage.py create_api_key`, and revoked with the
    action, which keeps the row. Both through governance.workflow.api_access (audited). Nothing else about
    a key is edited or deleted here: its history stays."""

    list_display = ("name", "prefix", "created", "expiry_date", "expired", "revoked")
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix")
    fields = ("name", "prefix", "created", "expiry_date", "revoked")
    readonly_fields = fields
    actions = ["revoke_keys"]
    add_template = "admin/rest_framework_api_key/apikey/add.html"
    empty_state = "No downstream site has an API key yet. Add one: the key is shown once, then only its hash is kept."

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_manage_api_access(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return policies.may_manage_api_access(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(boolean=True, description="expired")
    def expired(self, obj: APIKey) -> bool:
        return obj.has_expired

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
                 ) -> HttpResponse:
        """A form of our own, not a model form: the service makes the key, and the page that
        answers the POST is the only one that ever shows it (the admin sends it with no-cache)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = ApiKeyCreateForm(request.POST if request.method == "POST" else None)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "title": "Add API key",
                   "subtitle": None, "form": form, "media": self.media + form.media,
                   "changelist_url": reverse("admin:rest_framework_api_key_apikey_changelist")}
        if request.method == "POST" and form.is_valid():
            try:
                api_key, key = api_access.api_key_create(actor=request.user, name=form.cleaned_data["name"],
                                                         expiry_date=form.cleaned_data["expiry_date"])
            except ContentInvalid as exc:
                for field, errors in exc.errors.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                context.update(title="API key created", api_key=api_key, key=key)
        return TemplateResponse(request, self.add_template, context)

    @admin.action(description="Revoke the selected keys")
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet[APIKey]) -> None:
        revoked = 0
        for api_key in queryset:
            try:
                api_access.api_key_revoke(actor=request.user, api_key=api_key, reason="revoked in the admin")
            except GovernanceError as exc:
                self.message_user(request, str(exc), level=messages.ERROR)
            else:
                revoked += 1
        self.message_user(request, f"{revoked} key(s) revoked: they answer 401 from now on.", level=messages.SUCCESS)


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
    their signing is locked, and the "Unlock signing" action (governance.workflow.signatures.signing_unlock)."""

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
