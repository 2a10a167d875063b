"""Template helpers of the editor UI and the public page."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from governance.workflow import policies

register = template.Library()

_JSON_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


@register.simple_tag
def jsonld(document: dict[str, Any] | None) -> SafeString:
    """A schema.org JSON-LD block. It is data, not script, so the CSP (no inline script) allows it;
    <, > and & are escaped so the JSON cannot close the element."""
    if not document:
        return mark_safe("")
    payload = json.dumps(document, ensure_ascii=False, sort_keys=True).translate(_JSON_ESCAPES)
    return format_html('<script type="application/ld+json">{}</script>', mark_safe(payload))


@register.filter
def state_badge(state: str, label: str = "") -> SafeString:
    return format_html('<span class="badge state-{}">{}</span>', state, label or state.replace("_", " ").capitalize())


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def is_managing_editor(user: Any) -> bool:
    """For menus: the one place that decides it is governance.workflow.policies."""
    return policies.is_managing_editor(user)
