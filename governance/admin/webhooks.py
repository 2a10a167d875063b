"""The admin of webhook endpoints: registered through `governance.workflow.configuration` (the URL gets
the check every delivery makes), the signing secret shown once — after adding the endpoint or
rotating its secret — and never displayed again. Imported from GovernanceConfig.ready()."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from governance.admin import ConfigurationAdmin
from governance.models import WebhookEndpoint
from governance.workflow import configuration

SECRET_PAGE = "admin/governance/webhookendpoint/secret.html"


class WebhookEndpointForm(forms.ModelForm):
    """The URL is refused as delivery would refuse it; a secret given on adding is validated
    (empty: a new one is generated)."""

    url = forms.URLField(max_length=1000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=WebhookEndpoint.EventType.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type.")
    secret = forms.CharField(
        required=False, max_length=200, widget=forms.TextInput(attrs={"autocomplete": "off", "size": 60}),
        help_text="Leave empty to generate one (recommended). Else whsec_ and the base64 of a 24- to 64-byte key. "
                  "Shown once after saving; never displayed again.")

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "event_types", "secret", "is_active", "disabled_reason")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        errors = configuration.webhook_url_errors(url)
        if errors:
            raise forms.ValidationError(errors)
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ConfigurationAdmin):
    form = WebhookEndpointForm
    setting = configuration.WEBHOOK_ENDPOINT
    list_display = ("name", "url", "event_types", "is_active", "disabled_reason", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    actions = ("rotate_secret",)
    empty_state = "No downstream site receives webhooks yet. Add an endpoint with its URL."

    def get_fields(self, request: HttpRequest, obj: Any = None):
        if obj is None:
            return ("name", "url", "event_types", "secret", "is_active")
        return ("name", "url", "event_types", "is_active", "disabled_reason", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        return ("created_at",) if obj is not None else ()

    def create(self, request: HttpRequest, fields: dict[str, Any], form: Any) -> WebhookEndpoint:
        endpoint, secret = configuration.webhook_endpoint_create(actor=request.user, fields=fields,
                                                                 secret=form.cleaned_data.get("secret") or None)
        request._imprimatur_new_secret = (endpoint, secret)
        return endpoint

    def update(self, request: HttpRequest, obj: WebhookEndpoint, fields: dict[str, Any]) -> WebhookEndpoint:
        return configuration.webhook_endpoint_update(actor=request.user, endpoint=obj, fields=fields)

    def delete(self, request: HttpRequest, obj: WebhookEndpoint) -> None:
        configuration.webhook_endpoint_delete(actor=request.user, endpoint=obj)

    def secret_page(self, request: HttpRequest, secrets: list[tuple[WebhookEndpoint, str]]) -> HttpResponse:
        """The secrets, once: rendered in the response to the request that set them (never put in a
        message, which the cookie storage would keep in the browser), and not cached."""
        response = TemplateResponse(request, SECRET_PAGE, {
            **self.admin_site.each_context(request), "opts": self.opts, "secrets": secrets,
            "title": "Signing secret"})
        response["Cache-Control"] = "no-store"
        return response

    def response_add(self, request: HttpRequest, obj: WebhookEndpoint, post_url_continue: str | None = None
                     ) -> HttpResponse:
        created = getattr(request, "_imprimatur_new_secret", None)
        if created is None:
            return super().response_add(request, obj, post_url_continue)
        return self.secret_page(request, [created])

    @admin.action(description="Rotate the signing secret of the selected endpoints (shown once)",
                  permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> HttpResponse:
        rotated = [(endpoint, configuration.webhook_endpoint_rotate_secret(actor=request.user, endpoint=endpoint))
                   for endpoint in queryset.order_by("name", "pk")]
        return self.secret_page(request, rotated)
