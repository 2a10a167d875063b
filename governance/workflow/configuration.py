"""The governance configuration, changed only here: review policies, editorial policy versions,
topics, specialties, references kept in the admin, and webhook endpoints.

Every change is one service, in one transaction: who may (`policies.may_configure`), what is
valid (the model's own validation, as field errors), what may go (a named rule of
`governance.workflow.rules`: a topic or specialty in use is kept), the change, and its audit event with
the old and new values. The admin, `manage.py add_webhook`/`rotate_webhook_secret` and
`seed_demo` call these; nothing else writes these tables.

Audit data: `<kind>.create` {"new": {field: value}}, `<kind>.update` {"changed": {field: [old,
new]}} (no event when nothing changed), `<kind>.delete` {"old": {field: value}}. A foreign key is
the related row's slug, a many-to-many field the sorted list of slugs, so one event carries a
policy's required specialties with the rest of its change. A webhook secret is never in the data.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, ProtectedError, RestrictedError

from articles import content
from articles.models import BIBLIOGRAPHIC_FIELDS, Reference, Topic
from governance.models import WEBHOOK_SECRET_PREFIX, EditorialPolicy, ReviewPolicy, WebhookEndpoint
from governance.workflow import audit, policies, rules, webhook_targets
from governance.workflow.exceptions import ConfigurationRefused, ContentInvalid, NotPermitted
from reviewers.models import Specialty

Fields = Mapping[str, Any]


@dataclass(frozen=True)
class Setting:
    """One kind of configuration record: its model, the audit action prefix, the fields a change
    may set (all recorded in the audit data) and the rule that must hold to delete one."""

    model: type[Model]
    kind: str
    fields: tuple[str, ...]
    deletable_when: Callable[[Any], rules.RuleResult] | None = None


REVIEW_POLICY = Setting(ReviewPolicy, "review_policy", (
    "topic", "risk_tier", "approvals_required", "required_specialties", "review_interval_days",
    "assignment_due_days", "remind_before_days", "overdue_repeat_days", "escalate_after_days",
    "unpublish_grace_days"))
EDITORIAL_REPORT_FIELDS = ("weekly_review_capacity", "review_spread_window_days", "evidence_max_age_years")
EDITORIAL_POLICY = Setting(EditorialPolicy, "editorial_policy",
                           ("version", "effective_at", "body_markdown", *EDITORIAL_REPORT_FIELDS))
TOPIC = Setting(Topic, "topic", ("slug", "name", "description"), rules.topic_unused)
SPECIALTY = Setting(Specialty, "specialty", ("slug", "name"), rules.specialty_unused)
REFERENCE = Setting(Reference, "reference", BIBLIOGRAPHIC_FIELDS, rules.reference_uncited)
WEBHOOK_ENDPOINT = Setting(WebhookEndpoint, "webhook_endpoint",
                           ("name", "url", "event_types", "is_active", "disabled_reason"))


# --- the one path of every change -------------------------------------------------------------

def _authorize(actor: Any) -> None:
    if not policies.may_configure(actor):
        raise NotPermitted("Only the managing editor changes the governance configuration.", rule="may_administer")


def _known(setting: Setting, fields: Fields, *, also: Iterable[str] = ()) -> None:
    unknown = set(fields) - set(setting.fields) - set(also)
    if unknown:
        raise ContentInvalid({name: [f"A {setting.model._meta.verbose_name} has no field '{name}' to set here."]
                              for name in sorted(unknown)})


def _label(obj: Model | None) -> Any:
    if obj is None:
        return None
    return getattr(obj, "slug", None) or obj.pk


def _is_m2m(setting: Setting, name: str) -> bool:
    return setting.model._meta.get_field(name).many_to_many


def _values(setting: Setting, obj: Model, pending: Fields | None = None) -> dict[str, Any]:
    """The recorded fields of `obj`; many-to-many values from `pending` when given there (they
    are set after the row is saved)."""
    values: dict[str, Any] = {}
    for name in setting.fields:
        field = obj._meta.get_field(name)
        if field.many_to_many:
            related = pending[name] if pending and name in pending else getattr(obj, name).all()
            values[name] = sorted(_label(r) for r in related)
        elif field.is_relation:
            values[name] = _label(getattr(obj, name))
        else:
            values[name] = getattr(obj, name)
    return values


def _validate(obj: Model) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ContentInvalid(exc.message_dict) from exc


def _set_fields(setting: Setting, obj: Model, fields: Fields) -> None:
    for name, value in fields.items():
        if not _is_m2m(setting, name):
            setattr(obj, name, value)


def _set_m2m(setting: Setting, obj: Model, fields: Fields) -> None:
    for name, value in fields.items():
        if _is_m2m(setting, name):
            getattr(obj, name).set(list(value))


def _create(setting: Setting, *, actor: Any, fields: Fields,
            prepare: Callable[[Model], None] | None = None, verb: str = "create") -> Any:
    _authorize(actor)
    _known(setting, fields)
    obj = setting.model()
    _set_fields(setting, obj, fields)
    if prepare is not None:
        prepare(obj)
    _validate(obj)
    with transaction.atomic():
        obj.save()
        _set_m2m(setting, obj, fields)
        audit.record(action=f"{setting.kind}.{verb}", obj=obj, actor=actor, data={"new": _values(setting, obj)})
    return obj


def _update(setting: Setting, *, actor: Any, obj: Model, fields: Fields,
            check: Callable[[Model, dict[str, list[Any]]], None] | None = None) -> Any:
    _authorize(actor)
    _known(setting, fields)
    with transaction.atomic():
        locked = setting.model._default_manager.select_for_update().get(pk=obj.pk)
        old = _values(setting, locked)
        _set_fields(setting, locked, fields)
        _validate(locked)
        new = _values(setting, locked, pending=fields)
        changed = {name: [old[name], new[name]] for name in setting.fields if old[name] != new[name]}
        if not changed:
            return locked
        if check is not None:
            check(locked, changed)
        locked.save()
        _set_m2m(setting, locked, {name: value for name, value in fields.items() if name in changed})
        audit.record(action=f"{setting.kind}.update", obj=locked, actor=actor, data={"changed": changed})
    return locked


def _delete(setting: Setting, *, actor: Any, obj: Model, reason: str = "") -> None:
    _authorize(actor)
    with transaction.atomic():
        # ordered by pk: a default ordering across a nullable join (a policy's topic) cannot be locked
        locked = setting.model._default_manager.select_for_update().filter(pk=obj.pk).order_by("pk").first()
        if locked is None:
            return  # deleted meanwhile: nothing left to do, nothing to record twice
        refusal = deletion_refusal(setting, locked)
        if refusal is not None:
            raise refusal
        audit.record(action=f"{setting.kind}.delete", obj=locked, actor=actor, reason=reason,
                     data={"old": _values(setting, locked)})
        try:
            with transaction.atomic():
                locked.delete()
        except (ProtectedError, RestrictedError) as exc:  # a row that refers to it was added since the rule looked
            rule = setting.deletable_when.__name__ if setting.deletable_when else "unused"
            raise ConfigurationRefused(f"{locked} is in use: {exc.args[0]}", rule=rule) from exc


def deletion_refusal(setting: Setting, obj: Model) -> ConfigurationRefused | None:
    """Why `obj` may not be deleted (its setting's rule, unmet), or None."""
    if setting.deletable_when is None:
        return None
    result = setting.deletable_when(obj)
    return None if result.ok else ConfigurationRefused(f"{result.message} {result.hint}".strip(), rule=result.rule)


# --- review policies ----------------------------------------------------------------------------

def review_policy_create(*, actor: Any, fields: Fields) -> ReviewPolicy:
    """A review policy for a topic (or every topic) and risk tier, with its required
    specialties; audited `review_policy.create`."""
    return _create(REVIEW_POLICY, actor=actor, fields=fields)


def review_policy_update(*, actor: Any, policy: ReviewPolicy, fields: Fields) -> ReviewPolicy:
    """Change a review policy; its required specialties are set in the same transaction and
    their old and new slugs are in the one `review_policy.update` event."""
    return _update(REVIEW_POLICY, actor=actor, obj=policy, fields=fields)


def review_policy_delete(*, actor: Any, policy: ReviewPolicy, reason: str = "") -> None:
    """Delete a review policy (its articles fall back to the default policy); audited with what it said."""
    _delete(REVIEW_POLICY, actor=actor, obj=policy, reason=reason)


# --- the editorial policy -----------------------------------------------------------------------

def editorial_threshold(name: str) -> int:
    """A report threshold a new version leaves empty: the current version's, else the default."""
    from governance.workflow.selectors import current_editorial_policy

    current = current_editorial_policy()
    return getattr(current, name) if current else EditorialPolicy._meta.get_field(name).default


def editorial_policy_publish(*, actor: Any, fields: Fields) -> EditorialPolicy:
    """Publish a new version of the editorial policy (versions are never rewritten): its text
    rendered and sanitized, report thresholds left empty kept from the current version; audited
    `editorial_policy.publish` with the version's text and thresholds."""
    fields = {**fields, **{name: editorial_threshold(name) for name in EDITORIAL_REPORT_FIELDS
                           if fields.get(name) is None}}

    def prepare(policy: EditorialPolicy) -> None:
        policy.body_html = content.render_document(policy.body_markdown)  # its `#` title kept
        policy.created_by = actor if getattr(actor, "is_authenticated", False) else None

    return _create(EDITORIAL_POLICY, actor=actor, fields=fields, prepare=prepare, verb="publish")


# --- topics and specialties ---------------------------------------------------------------------

def topic_create(*, actor: Any, fields: Fields) -> Topic:
    """Add a topic; audited `topic.create`."""
    return _create(TOPIC, actor=actor, fields=fields)


def topic_update(*, actor: Any, topic: Topic, fields: Fields) -> Topic:
    """Rename or describe a topic; audited `topic.update`."""
    return _update(TOPIC, actor=actor, obj=topic, fields=fields)


def topic_delete(*, actor: Any, topic: Topic, reason: str = "") -> None:
    """Delete a topic nothing uses (`topic_unused`: no article, review policy or declaration)."""
    _delete(TOPIC, actor=actor, obj=topic, reason=reason)


def specialty_create(*, actor: Any, fields: Fields) -> Specialty:
    """Add a specialty; audited `specialty.create`."""
    return _create(SPECIALTY, actor=actor, fields=fields)


def specialty_update(*, actor: Any, specialty: Specialty, fields: Fields) -> Specialty:
    """Rename a specialty; audited `specialty.update`."""
    return _update(SPECIALTY, actor=actor, obj=specialty, fields=fields)


def specialty_delete(*, actor: Any, specialty: Specialty, reason: str = "") -> None:
    """Delete a specialty nothing uses (`specialty_unused`: no member, policy or review cycle)."""
    _delete(SPECIALTY, actor=actor, obj=specialty, reason=reason)


# --- references kept in the admin ---------------------------------------------------------------

def reference_create(*, actor: Any, fields: Fields) -> Reference:
    """Add a reference in the admin; audited `reference.create` with its details."""
    return _create(REFERENCE, actor=actor, fields=fields)


def _refuse_reviewed(reference: Reference, changed: dict[str, list[Any]]) -> None:
    result = rules.reference_not_reviewed(reference)
    if not result.ok:
        raise ConfigurationRefused(f"{result.message} {result.hint}".strip(), rule=result.rule)


def reference_update(*, actor: Any, reference: Reference, fields: Fields) -> Reference:
    """Correct a reference's bibliographic details in the admin; audited `reference.update` with
    each changed field's old and new value. Refused (`reference_not_reviewed`) once a revision
    handed over for review cites it. A draft's citation keeps the copy it was written with
    (`Citation.cited`, which its hash covers); its next save picks the correction up."""
    return _update(REFERENCE, actor=actor, obj=reference, fields=fields, check=_refuse_reviewed)


def reference_delete(*, actor: Any, reference: Reference, reason: str = "") -> None:
    """Delete a reference no revision cites (`reference_uncited`)."""
    _delete(REFERENCE, actor=actor, obj=reference, reason=reason)


# --- webhook endpoints --------------------------------------------------------------------------

def new_webhook_secret() -> str:
    """A fresh Standard Webhooks signing secret: `whsec_` and the base64 of 32 random bytes."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_url_errors(url: str) -> list[str]:
    """Why `url` may not be registered, in the words delivery would use (`check_target`)."""
    try:
        refusal = webhook_targets.target_refusal(url)
    except ConnectionError as exc:
        return [f"{exc}; give a host name that resolves."]
    return [refusal] if refusal else []


def _check_url(url: str) -> None:
    errors = webhook_url_errors(url)
    if errors:
        raise ContentInvalid({"url": errors})


def _check_event_types(event_types: Any) -> None:
    known = WebhookEndpoint.EventType.values
    if not isinstance(event_types, list) or any(t not in known for t in event_types):
        raise ContentInvalid({"event_types": [f"A list of event types, each one of {', '.join(known)} "
                                              "(empty: every event)."]})


def webhook_endpoint_create(*, actor: Any, fields: Fields, secret: str | None = None) -> tuple[WebhookEndpoint, str]:
    """Register a downstream site's endpoint. The URL gets the check every delivery makes; the
    signing secret is the one given (validated) or a new one. Returns the endpoint and its secret,
    for the caller to show once. Audited `webhook_endpoint.create`, without the secret."""
    fields = {"event_types": [], **fields}
    _check_url(str(fields.get("url", "")))
    _check_event_types(fields["event_types"])
    secret = secret or new_webhook_secret()

    def prepare(endpoint: WebhookEndpoint) -> None:
        endpoint.secret = secret

    return _create(WEBHOOK_ENDPOINT, actor=actor, fields=fields, prepare=prepare), secret


def _recheck(endpoint: WebhookEndpoint, changed: dict[str, list[Any]]) -> None:
    if "url" in changed:
        _check_url(endpoint.url)
    if "event_types" in changed:
        _check_event_types(endpoint.event_types)


def webhook_endpoint_update(*, actor: Any, endpoint: WebhookEndpoint, fields: Fields) -> WebhookEndpoint:
    """Change an endpoint (a new URL is checked as at registration); audited
    `webhook_endpoint.update`. The secret changes only by rotation."""
    return _update(WEBHOOK_ENDPOINT, actor=actor, obj=endpoint, fields=fields, check=_recheck)


def webhook_endpoint_rotate_secret(*, actor: Any, endpoint: WebhookEndpoint) -> str:
    """Give the endpoint a new signing secret, returned for the caller to show once; deliveries
    from now on are signed with it. Audited `webhook_endpoint.rotate_secret`, without either secret."""
    _authorize(actor)
    secret = new_webhook_secret()
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.secret = secret
        locked.save(update_fields=["secret"])
        audit.record(action="webhook_endpoint.rotate_secret", obj=locked, actor=actor,
                     data={"name": locked.name, "url": locked.url})
    return secret


def webhook_endpoint_delete(*, actor: Any, endpoint: WebhookEndpoint, reason: str = "") -> None:
    """Delete an endpoint with its outbox rows and attempts; audited `webhook_endpoint.delete`."""
    _delete(WEBHOOK_ENDPOINT, actor=actor, obj=endpoint, reason=reason)
