"""The public site's own settings (name, tagline, logo, disclaimer): read once per page, changed by
the managing editor through `site_settings_update`, audited with the old and new values."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from governance.models import SiteSettings
from governance.workflow import audit, policies
from governance.workflow.exceptions import ContentInvalid, NotPermitted

EDITABLE = ("site_name", "tagline", "logo", "disclaimer")


def site_settings() -> SiteSettings:
    """The stored settings, or (never saved yet) the defaults, unsaved: one query, no write."""
    return SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_PK).first() or SiteSettings(
        pk=SiteSettings.SINGLETON_PK)


def _shown(name: str, value: Any) -> Any:
    # A file is recorded by its stored name ("" when none).
    return (value.name or "") if name == "logo" else value


def site_settings_update(*, actor: Any, changes: dict[str, Any]) -> SiteSettings:
    """Change the site's name, tagline, logo or disclaimer (managing editor: `may_administer`).
    Refused fields and invalid values are a ContentInvalid naming the field; nothing changes
    then. Audited `site_settings.update` with each changed field's old and new value."""
    if not policies.may_administer(actor):
        raise NotPermitted("Only the managing editor changes the site's settings.", rule="may_administer")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ContentInvalid({name: ["This is not one of the site's settings."] for name in sorted(unknown)})
    with transaction.atomic():
        return _update(actor, changes)


def _update(actor: Any, changes: dict[str, Any]) -> SiteSettings:
    current = SiteSettings.objects.select_for_update().filter(pk=SiteSettings.SINGLETON_PK).first()
    created = current is None
    current = current or SiteSettings(pk=SiteSettings.SINGLETON_PK)
    before = {name: _shown(name, getattr(current, name)) for name in EDITABLE}
    for name, value in changes.items():
        setattr(current, name, "" if value is False else value)  # False: the admin's "clear" box
    try:
        current.full_clean()
    except ValidationError as exc:
        raise ContentInvalid(exc.message_dict) from exc
    current.save()  # a new logo is written to storage here
    after = {name: _shown(name, getattr(current, name)) for name in EDITABLE}
    changed = {name: [before[name], after[name]] for name in EDITABLE if before[name] != after[name]}
    if changed or created:
        audit.record(action="site_settings.update", obj=current, actor=actor, data={"changed": changed})
    return current
