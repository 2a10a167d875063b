"""The admin of governance records: review and editorial policies, the audit trail (read-only
for everyone), the changes feed and the webhook outbox.

Roles are groups without Django model permissions, so every admin here asks
`governance.workflow.policies` who may see and change what (`PolicyAdmin`), never `user.has_perm`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles import content
from governance.models import (
    AuditEvent,
    ChangeEvent,
    EditorialPolicy,
    ReviewPolicy,
    SiteSettings,
    WebhookAttempt,
    WebhookDelivery,
)
from governance.workflow import configuration, policies
from governance.workflow.exceptions import GovernanceError
from governance.workflow.selectors import current_editorial_policy
from governance.workflow.site import site_settings, site_settings_update


class PolicyAdmin(admin.ModelAdmin):
    """Permissions from `governance.workflow.policies` (by default: the managing editor keeps the record).

    `empty_state` is shown instead of an empty table, saying what would appear here and how.
    `deletable` lets the managing editor delete records that are settings, never history.
    """

    # A URL typed without a scheme is https (Django 6.0's default; 5.2 warns until told).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    empty_state = ""
    deletable = False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_administer(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return policies.may_administer(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_administer(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.deletable and policies.may_administer(request.user)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {"empty_state": self.empty_state, **(extra_context or {})}
        return super().changelist_view(request, extra_context)


class ConfigurationAdmin(PolicyAdmin):
    """A governance configuration record, kept through `governance.workflow.configuration`: the admin's
    form validates; the service saves (many-to-many fields with the rest, so one audit event
    carries the whole change) and deletes — from the delete page and the bulk action alike. A
    record the service keeps (a topic in use) is a message naming the rule, never a 500.

    Subclasses name their `setting` and call their services in `create`/`update`/`delete`."""

    setting: configuration.Setting
    deletable = True

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> Model:
        raise NotImplementedError

    def update(self, request: HttpRequest, obj: Any, fields: dict[str, Any]) -> Model:
        raise NotImplementedError

    def delete(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError

    def configuration_fields(self, form: Any) -> dict[str, Any]:
        """The form's cleaned values of the fields the service sets (read-only fields are not in the form)."""
        return {name: form.cleaned_data[name] for name in self.setting.fields if name in form.cleaned_data}

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = self.configuration_fields(form)
        if change:
            self.update(request, obj, fields)
            return
        saved = self.create(request, fields, form)
        obj.pk, obj._state.adding = saved.pk, False  # the admin logs and redirects with its own instance

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:  # the many-to-many fields were set by the service (audited)
            self.save_formset(request, form, formset, change=change)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            try:
                self.delete(request, obj)
            except GovernanceError as exc:
                self.message_user(request, f"{obj} was kept: {exc}", level=messages.ERROR)

    def _refusal(self, obj: Any) -> GovernanceError | None:
        return configuration.deletion_refusal(self.setting, obj)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            _, name, description = actions["delete_selected"]
            actions["delete_selected"] = (type(self)._delete_selected_unused, name, description)
        return actions

    @staticmethod
    def _delete_selected_unused(modeladmin: ConfigurationAdmin, request: HttpRequest, queryset: QuerySet):
        """Django's delete-selected (confirmation page included) over the selected records the
        rule lets go; each one kept is a message saying why."""
        kept = []
        for obj in queryset:
            refusal = modeladmin._refusal(obj)
            if refusal is not None:
                modeladmin.message_user(request, f"{obj} was kept: {refusal}", level=messages.ERROR)
                kept.append(obj.pk)
        unused = queryset.exclude(pk__in=kept)
        return delete_selected(modeladmin, request, unused) if unused.exists() else None

    def _change_url(self, obj: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[obj.pk])

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
                    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        refusal = self._refusal(obj) if obj is not None and self.has_delete_permission(request, obj) else None
        if refusal is not None:
            self.message_user(request, f"{obj} was kept: {refusal}", level=messages.ERROR)
            return HttpResponseRedirect(self._change_url(obj))
        try:
            return super().delete_view(request, object_id, extra_context)
        except GovernanceError as exc:  # refused inside the service (a use added meanwhile): rolled back
            self.message_user(request, f"{obj} was kept: {exc}", level=messages.ERROR)
            return HttpResponseRedirect(self._change_url(obj))

    def changeform_view(self, request: HttpRequest, object_id: str | None = None, form_url: str = "",
                        extra_context: dict[str, Any] | None = None) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except GovernanceError as exc:  # the form validated, the service refused (a change meanwhile)
            self.message_user(request, f"Not saved: {exc}", level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdmin(PolicyAdmin):
    """History: nobody adds, changes or deletes it here (superusers included)."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(ConfigurationAdmin):
    list_display = ("__str__", "topic", "risk_tier", "approvals_required", "specialties", "review_interval_days",
                    "assignment_due_days", "unpublish_grace_days", "updated_at")
    list_filter = ("risk_tier", "topic")
    search_fields = ("topic__name", "topic__slug")
    filter_horizontal = ("required_specialties",)
    deletable = True
    empty_state = ("No review policy yet: every article needs 2 approvals and is re-reviewed after 365 days "
                   "(180 for high risk). Add a policy to change that for a topic and risk tier.")
    fieldsets = (
        (None, {"fields": ("topic", "risk_tier")}),
        ("Who must approve", {"fields": ("approvals_required", "required_specialties")}),
        ("When", {"fields": ("review_interval_days", "assignment_due_days", "remind_before_days",
                             "overdue_repeat_days", "escalate_after_days", "unpublish_grace_days")}),
    )

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).select_related("topic").prefetch_related("required_specialties")

    @admin.display(description="required specialties")
    def specialties(self, obj: ReviewPolicy) -> str:
        return ", ".join(s.name for s in obj.required_specialties.all()) or "—"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_edit_review_policy(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return policies.may_edit_review_policy(request.user)

    setting = configuration.REVIEW_POLICY

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> ReviewPolicy:
        return configuration.review_policy_create(actor=request.user, fields=fields)

    def update(self, request: HttpRequest, obj: ReviewPolicy, fields: dict[str, Any]) -> ReviewPolicy:
        return configuration.review_policy_update(actor=request.user, policy=obj, fields=fields)

    def delete(self, request: HttpRequest, obj: ReviewPolicy) -> None:
        configuration.review_policy_delete(actor=request.user, policy=obj)


REPORT_FIELDS = configuration.EDITORIAL_REPORT_FIELDS


class EditorialPolicyForm(forms.ModelForm):
    """A report threshold left empty keeps the current version's value (else the default)."""

    class Meta:
        model = EditorialPolicy
        fields = ("version", "effective_at", "body_markdown", *REPORT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in REPORT_FIELDS:
            if name in self.fields:
                self.fields[name].required = False

    def _clean_threshold(self, name: str) -> int:
        value = self.cleaned_data.get(name)
        return configuration.editorial_threshold(name) if value is None else value

    def clean_weekly_review_capacity(self) -> int:
        return self._clean_threshold("weekly_review_capacity")

    def clean_review_spread_window_days(self) -> int:
        return self._clean_threshold("review_spread_window_days")

    def clean_evidence_max_age_years(self) -> int:
        return self._clean_threshold("evidence_max_age_years")


@admin.register(EditorialPolicy)
class EditorialPolicyAdmin(ConfigurationAdmin):
    """Versions are rows: publish a new version rather than rewrite an old one."""

    form = EditorialPolicyForm
    setting = configuration.EDITORIAL_POLICY
    deletable = False

    list_display = ("version", "effective_at", "weekly_review_capacity", "review_spread_window_days",
                    "evidence_max_age_years", "created_by", "created_at")
    search_fields = ("version", "body_markdown")
    date_hierarchy = "effective_at"
    empty_state = "No editorial policy has been published yet. Add version 1."
    # The thresholds of the managing editor's reports (governance.reports.limits.report_limits).
    report_fields = REPORT_FIELDS

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ("version", "effective_at", "body_markdown", *self.report_fields)
        return ("version", "effective_at", "created_by", "created_at", "rendered", "body_markdown", *self.report_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ()
        return ("version", "effective_at", "created_by", "created_at", "rendered", "body_markdown", *self.report_fields)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        """A new version starts as a copy of the current one (text and report thresholds), so
        changing the board's capacity is: add, change the number, give it a version, save."""
        initial = super().get_changeform_initial_data(request)
        current = current_editorial_policy()
        if current is not None:
            initial.setdefault("body_markdown", current.body_markdown)
            for name in self.report_fields:
                initial.setdefault(name, getattr(current, name))
        return initial

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # published versions are kept as they were; add a new version instead

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_administer(request.user)

    @admin.display(description="as published")
    def rendered(self, obj: EditorialPolicy) -> str:
        return sanitized_html(obj.body_html, document=True)

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> EditorialPolicy:
        return configuration.editorial_policy_publish(actor=request.user, fields=fields)


def sanitized_html(html: str, *, document: bool = False) -> str:
    """HTML rendered by articles.content is sanitized by nh3 there; sanitize again (cheap) before
    marking it safe, so a row written any other way cannot inject markup into the admin."""
    return format_html('<div class="imprimatur-document">{}</div>',
                       mark_safe(content.sanitize(html, document=document)))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The append-only trail: read-only for everyone, superusers included."""

    list_display = ("seq", "at", "actor_username", "action", "object_repr", "article_slug", "transition",
                    "reason_short")
    list_filter = ("action", "object_type")
    search_fields = ("article_slug", "actor_username", "object_repr", "action", "reason", "hash")
    ordering = ("seq",)
    date_hierarchy = "at"
    actions = None
    show_full_result_count = False
    empty_state = "No audit events yet: every transition, assignment, review and publication will appear here."
    fields = ("seq", "at", "actor_username", "action", "object_type", "object_id", "object_repr", "article_id",
              "article_slug", "from_state", "to_state", "reason", "data", "prev_hash", "hash")
    readonly_fields = fields

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_administer(request.user)

    def get_queryset(self, request: HttpRequest):
        qs = super().get_queryset(request)
        article_id = request.GET.get("article_id")
        return qs.filter(article_id=article_id) if article_id and article_id.isdigit() else qs

    def lookup_allowed(self, lookup: str, value: str, request: Any = None) -> bool:
        return lookup == "article_id" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="state")
    def transition(self, obj: AuditEvent) -> str:
        return f"{obj.from_state} → {obj.to_state}" if obj.from_state or obj.to_state else ""

    @admin.display(description="reason")
    def reason_short(self, obj: AuditEvent) -> str:
        return obj.reason if len(obj.reason) <= 80 else obj.reason[:79] + "…"


@admin.register(ChangeEvent)
class ChangeEventAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "type", "slug", "revision")
    list_filter = ("type",)
    search_fields = ("slug", "revision")
    actions = None
    empty_state = "Nothing has been published, updated, flagged or withdrawn yet."


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "error", "duration_ms")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return policies.may_administer(request.user)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("message_id", "endpoint", "event_type", "status", "attempts", "next_attempt_at", "delivered_at",
                    "created_at")
    list_filter = ("status", "event_type", "endpoint")
    search_fields = ("message_id", "endpoint__name", "event_type")
    list_select_related = ("endpoint",)
    inlines = (WebhookAttemptInline,)
    actions = None
    empty_state = "No webhook has been queued yet: deliveries appear when an article is published or changes."
    fields = ("message_id", "endpoint", "event_type", "status", "attempts", "next_attempt_at", "claimed_until",
              "delivered_at", "created_at", "payload")
    readonly_fields = fields


@admin.register(WebhookAttempt)
class WebhookAttemptAdmin(ReadOnlyAdmin):
    list_display = ("at", "delivery", "status_code", "error", "duration_ms")
    list_filter = ("status_code",)
    search_fields = ("delivery__message_id", "error")
    list_select_related = ("delivery__endpoint",)
    actions = None
    empty_state = "No delivery has been attempted yet."


@admin.register(SiteSettings)
class SiteSettingsAdmin(PolicyAdmin):
    """One row: the list opens it; saving goes through `governance.workflow.site.site_settings_update`
    (audited with the old and new values)."""

    fields = ("site_name", "tagline", "logo", "disclaimer", "updated_at")
    readonly_fields = ("updated_at",)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return policies.may_administer(request.user) and not SiteSettings.objects.exists()

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        current = site_settings()
        if current._state.adding:
            return HttpResponseRedirect(reverse("admin:governance_sitesettings_add"))
        return HttpResponseRedirect(reverse("admin:governance_sitesettings_change", args=[current.pk]))

    def save_model(self, request: HttpRequest, obj: SiteSettings, form: Any, change: bool) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if not change:  # the first save stores every field shown, defaults included
            changes = {name: form.cleaned_data[name] for name in ("site_name", "tagline", "logo", "disclaimer")}
        saved = site_settings_update(actor=request.user, changes=changes)
        obj.pk, obj._state.adding = saved.pk, False
