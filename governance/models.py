"""Governance data: review and editorial policies, the append-only hash-chained audit log, the
changes feed."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from knox.models import AuthToken

from articles.images import validate_web_image
from articles.models import RiskTier, Topic, api_json
from reviewers.models import ReviewAssignment, Specialty


class ReviewPolicy(models.Model):
    """Who must review, how many, and how often: the definition of a review, per topic and risk
    tier. A policy with no topic applies to every topic without its own."""

    topic = models.ForeignKey(Topic, null=True, blank=True, on_delete=models.CASCADE, related_name="policies")
    risk_tier = models.CharField(max_length=12, choices=RiskTier.choices, default=RiskTier.STANDARD)
    approvals_required = models.PositiveSmallIntegerField(
        default=2, help_text="Signed approvals needed. AI-assisted or AI-generated drafts need one more."
    )
    required_specialties = models.ManyToManyField(Specialty, blank=True, related_name="+")
    review_interval_days = models.PositiveIntegerField(default=365)
    assignment_due_days = models.PositiveIntegerField(default=14, help_text="Default time a reviewer has.")
    remind_before_days = models.PositiveIntegerField(default=7)
    overdue_repeat_days = models.PositiveIntegerField(default=3)
    escalate_after_days = models.PositiveIntegerField(default=7)
    unpublish_grace_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Unpublish this many days after review falls due; empty: never."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "review policies"
        ordering = ["topic__slug", "risk_tier"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "risk_tier"], name="one_policy_per_topic_and_tier"),
            models.UniqueConstraint(
                fields=["risk_tier"], condition=Q(topic__isnull=True), name="one_default_policy_per_tier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.topic or 'All topics'} / {self.get_risk_tier_display()}"

    def clean(self) -> None:
        if self.approvals_required < 1:
            raise ValidationError({"approvals_required": "At least one approval is required."})


class EditorialPolicy(models.Model):
    """The published editorial policy, versioned: a new version is a new row.

    Besides its text, a version sets the thresholds the managing editor's reports measure against
    (the board's weekly review capacity, how far a review may be brought forward to spread the
    load, the age after which evidence counts as old). The current version's values apply;
    with no version published yet, the field defaults do."""

    version = models.CharField(max_length=20, unique=True)
    effective_at = models.DateTimeField()
    body_markdown = models.TextField()
    body_html = models.TextField(editable=False)
    weekly_review_capacity = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1, "The board reviews at least one article a week.")],
        help_text="Reviews the board can take on per week (the review-date load report's capacity line).")
    review_spread_window_days = models.PositiveIntegerField(
        default=28, validators=[MinValueValidator(7, "At least 7 days: reviews are brought forward by whole weeks.")],
        help_text="How many days earlier than due a review may be brought forward to spread the load.")
    evidence_max_age_years = models.PositiveIntegerField(
        default=10, validators=[MinValueValidator(1, "At least one year.")],
        help_text="An article whose newest dated reference is older than this is listed in the evidence report.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_at"]
        verbose_name_plural = "editorial policies"
        get_latest_by = "effective_at"
        constraints = [
            models.CheckConstraint(condition=Q(weekly_review_capacity__gte=1), name="editorial_policy_capacity_positive"),
            models.CheckConstraint(condition=Q(review_spread_window_days__gte=7),
                                   name="editorial_policy_spread_window_a_week"),
            models.CheckConstraint(condition=Q(evidence_max_age_years__gte=1),
                                   name="editorial_policy_evidence_age_positive"),
        ]

    def __str__(self) -> str:
        return f"Editorial policy v{self.version}"


def default_disclaimer() -> str:
    return settings.IMPRIMATUR_DISCLAIMER


class SiteSettings(models.Model):
    """What the public site says about itself: its name, tagline, logo and the disclaimer under
    every article. One row (pk 1), kept by the managing editor in the admin and changed only
    through `governance.workflow.site.site_settings_update` (audited with the old and new values). Until
    it is first saved, the field defaults apply (the disclaimer from IMPRIMATUR_DISCLAIMER)."""

    SINGLETON_PK = 1

    site_name = models.CharField(max_length=120, default="Imprimatur health library",
                                 help_text="Shown in every page's header and title, the feeds and Open Graph tags.")
    tagline = models.CharField(max_length=300, blank=True,
                               default="Health information approved, word for word, by named clinicians.",
                               help_text="One line under the name on the home page.")
    logo = models.ImageField(upload_to="site/", blank=True, validators=[validate_web_image],
                             help_text="Optional: JPEG, PNG or WebP, at most 2 MB; shown beside the name.")
    disclaimer = models.TextField(default=default_disclaimer,
                                  help_text="Under every article and in the footer; newly published articles carry "
                                            "it in the public API too.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "site settings"
        verbose_name_plural = "site settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="site_settings_single_row")]

    def __str__(self) -> str:
        return "Site settings"


class AuditChainHead(models.Model):
    """One row: the last sequence number and hash of the audit chain. Appends lock it, so the
    chain never forks however many web processes and workers write at once."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit chain head: seq {self.last_seq}"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ValidationError("Audit events are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ValidationError("Audit events are append-only.")


class AuditEvent(models.Model):
    """An append-only, hash-chained record of one change. No foreign-key constraint ties it to
    the article or the actor: deleting either never deletes (or rewrites) the history."""

    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
        db_constraint=False, db_index=False, related_name="+",
    )
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=60)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=300, blank=True)
    article_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    article_slug = models.CharField(max_length=200, blank=True)
    from_state = models.CharField(max_length=20, blank=True)
    to_state = models.CharField(max_length=20, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        # Only the indexes a query uses: `seq` (the chain's order, unique), `article_id` (an
        # article's history, the dossier) and `action` (the admin's filter, the retraction
        # timeline). None on `hash`: no query looks an event up by it, and its uniqueness follows
        # from `seq`'s (each hash covers its event's seq) unless SHA-256 collides; `verify_audit`
        # recomputes every link. An index on random 64-character keys was the costliest to keep
        # when the background jobs append events by the hundred thousand. None on `article_slug`
        # or `actor` either (the admin's search is icontains, which no b-tree serves), and a plain
        # Index, not db_index=True, which on PostgreSQL adds a varchar_pattern_ops twin.
        indexes = [models.Index(fields=["action"], name="auditevent_action")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise ValidationError("Audit events are append-only.")


class ChangeEvent(models.Model):
    """One entry of the public changes feed. `seq` order is commit order: rows are written while
    the audit chain is locked (see governance.workflow.audit)."""

    class Type(models.TextChoices):
        PUBLISHED = "published", "Published"
        UPDATED = "updated", "Updated"
        REVIEW_DUE = "review_due", "Review due"
        WITHDRAWN = "withdrawn", "Withdrawn"

    seq = models.BigAutoField(primary_key=True)
    type = models.CharField(max_length=12, choices=Type.choices)
    article_id = models.BigIntegerField(db_index=True)
    slug = models.CharField(max_length=200)
    revision = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField()
    entry_json = models.TextField(
        blank=True, default="",
        help_text="The feed entry as the public API serves it, without `seq` (which the database assigns): "
        "written with the event (see `public_entry`), so that a page of the feed is read, not rendered.")

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.type} {self.slug}"

    @staticmethod
    def public_entry(*, type: str, slug: str, at: Any, revision: str) -> str:
        """The text of `entry_json`: `{"type":…,"slug":…,"at":…,"revision":…}` as the API renders it
        (`at` in ISO 8601); the API splices `"seq":N,` in after the opening brace."""
        return api_json({"type": str(type), "slug": slug, "at": at.isoformat(), "revision": revision})


WEBHOOK_SECRET_PREFIX = "whsec_"
WEBHOOK_SECRET_BYTES = (24, 64)  # the Standard Webhooks specification's bounds for a signing key


def validate_webhook_secret(value: str) -> None:
    """A Standard Webhooks signing secret: `whsec_` and the base64 of a 24- to 64-byte key (the
    `standardwebhooks` library signs with the decoded bytes; it would take any text that decodes
    to one byte)."""
    if not value.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValidationError("A signing secret starts with whsec_ (Standard Webhooks).", code="secret_prefix")
    encoded = value[len(WEBHOOK_SECRET_PREFIX):]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("After whsec_, a signing secret is base64 (A-Z, a-z, 0-9, + and /, = padding).",
                              code="secret_base64") from None
    low, high = WEBHOOK_SECRET_BYTES
    if not low <= len(key) <= high:
        raise ValidationError(f"A signing secret's key is between {low} and {high} bytes; this one is {len(key)}.",
                              code="secret_length")


class WebhookEndpoint(models.Model):
    """A downstream site's receiver. Deliveries are signed with `secret` (Standard Webhooks),
    which is shown once when set (created or rotated) and never displayed again."""

    class EventType(models.TextChoices):
        PUBLISHED = "article.published", "article.published"
        UPDATED = "article.updated", "article.updated"
        REVIEW_DUE = "article.review_due", "article.review_due"
        WITHDRAWN = "article.withdrawn", "article.withdrawn"

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=1000)
    secret = models.CharField(max_length=200, validators=[validate_webhook_secret],
                              help_text="whsec_… (Standard Webhooks secret).")
    event_types = models.JSONField(default=list, blank=True, help_text="Empty: every event type.")
    is_active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url})"

    def wants(self, event_type: str) -> bool:
        return not self.event_types or event_type in self.event_types


class WebhookDelivery(models.Model):
    """The transactional outbox: one row per (event, endpoint), written in the same transaction
    as the change that caused it, delivered at least once after commit."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"
        DISABLED = "disabled", "Endpoint disabled"

    message_id = models.CharField(max_length=64, help_text="webhook-id: the same on every retry.")
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=40)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)  # indexed in Meta
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(db_index=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [models.UniqueConstraint(fields=["message_id", "endpoint"], name="one_delivery_per_endpoint")]
        indexes = [models.Index(fields=["status"], name="webhookdelivery_status")]  # plain: see AuditEvent

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint.name} ({self.status})"


class WebhookAttempt(models.Model):
    """Every delivery attempt, successful or not."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(null=True, blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error}"


class Notification(models.Model):
    """An in-app notification for one person (a reviewer asked to re-review, reminded, or told a
    cited reference was retracted; the managing editor told of an overdue review). The email copy
    is sent after commit and retried until it goes (`emailed_at`)."""

    class Kind(models.TextChoices):
        REVIEW_REQUESTED = "review_requested", "Re-review requested"
        REMINDER = "reminder", "Review reminder"
        ESCALATION = "escalation", "Overdue review escalated"
        REFERENCE_RETRACTED = "reference_retracted", "Cited reference retracted"
        CREDENTIALS_PROPOSED = "credentials_proposed", "Credential change to verify"
        CREDENTIALS_DECIDED = "credentials_decided", "Credential change verified or rejected"
        CONFLICT_ENDED = "conflict_ended", "Conflict of interest ended"

    # No index of its own: notification_inbox (Meta) leads with it.
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications",
                                  db_index=False)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    subject = models.CharField(max_length=300)
    body = models.TextField()
    url = models.URLField(max_length=1000, blank=True,
                          help_text="The exact item the notification is about, for its recipient (absolute).")
    article = models.ForeignKey("articles.Article", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    assignment = models.ForeignKey(
        "reviewers.ReviewAssignment", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(db_index=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_claimed_until = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveIntegerField(default=0)
    email_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "dismissed_at"], name="notification_inbox")]

    def __str__(self) -> str:
        return f"{self.recipient} · {self.subject}"


class ReviewReminder(models.Model):
    """Proof that one reminder was sent: one row per (assignment, kind, repetition), claimed
    before sending and marked sent after, so two workers never send the same reminder twice and
    a failed send is retried (the row stays unsent)."""

    class Kind(models.TextChoices):
        BEFORE_DUE = "before_due", "Before the due date"
        DUE = "due", "On the due date"
        OVERDUE = "overdue", "Overdue"
        ESCALATION = "escalation", "Escalated to the managing editor"

    assignment = models.ForeignKey("reviewers.ReviewAssignment", on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    repetition = models.PositiveSmallIntegerField(default=0, help_text="1, 2, 3… for repeated overdue reminders.")
    created_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "kind", "repetition"], name="one_reminder_per_kind_and_repetition")
        ]

    def __str__(self) -> str:
        suffix = f" #{self.repetition}" if self.repetition else ""
        return f"{self.get_kind_display()}{suffix} · {self.assignment_id} ({'sent' if self.sent_at else 'pending'})"


class RetractionImport(models.Model):
    """One run of the Retraction Watch import: where from, how many rows, what it changed."""

    source = models.CharField(max_length=1000)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0, help_text="Our references found in the file.")
    changed = models.PositiveIntegerField(default=0, help_text="References whose status changed.")
    articles_flagged = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.source} @ {self.started_at:%Y-%m-%d %H:%M} ({self.changed} changed)"


class OverdueReview(ReviewAssignment):
    """Open review assignments past their due date: the managing editor's list in the admin."""

    class Meta:
        proxy = True
        verbose_name = "overdue review"
        ordering = ["due_at"]


class SigningGuard(models.Model):
    """The e-signature guard of one user (governance.workflow.signatures): every signing attempt locks
    this row (SELECT … FOR UPDATE), so one user's attempts are checked against the failure limit
    one at a time in every process; `counted_from` is where the managing editor's last unlock
    restarted the count (earlier failures stay on record but no longer count)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE,
                                related_name="signing_guard")
    counted_from = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        verbose_name = "signing lockout"
        verbose_name_plural = "signing lockouts"
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"signing of {self.user}"


class SigningFailure(models.Model):
    """One failed password re-check at signing: when, on which assignment, by which path and
    from which address (never the password). Kept: a later signature or unlock erases none."""

    class Path(models.TextChoices):
        ADMIN = "admin", "admin review page"
        API = "api", "editorial API"
        OTHER = "other", "other (a command or a script)"

    guard = models.ForeignKey(SigningGuard, on_delete=models.CASCADE, related_name="failures")
    at = models.DateTimeField()
    assignment = models.ForeignKey(ReviewAssignment, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    path = models.CharField(max_length=8, choices=Path.choices)
    client_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["guard", "at"], name="signing_failure_guard_at")]

    def __str__(self) -> str:
        return f"signing failure of user {self.guard_id} at {self.at:%Y-%m-%d %H:%M:%S}"


class EditorialToken(AuthToken):
    """A user's editorial-API token (django-rest-knox's row: a SHA-512 digest of the token, its
    first 15 characters as the lookup key, an expiry). Created and revoked only through
    governance.workflow.api_access, which audits both; never shown again after creation."""

    class Meta:
        proxy = True
        verbose_name = "editorial token"
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"editorial token {self.token_key}… of {self.user}"
