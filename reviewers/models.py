"""The advisory board: members and their credentials, conflict-of-interest declarations, review
cycles, assignments and signed review decisions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.text import slugify

from articles.images import validate_web_image
from articles.models import Article, Revision, Topic


class Specialty(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class BoardMember(models.Model):
    """A credentialed member of the medical advisory board."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="board_member")
    printed_name = models.CharField(max_length=200, help_text="Name as it appears on signatures, e.g. Dr Ada Okafor.")
    credentials = models.CharField(max_length=120, help_text="Post-nominals, e.g. MD, FRCP.")
    specialties = models.ManyToManyField(Specialty, related_name="members", blank=True)
    affiliation = models.CharField(max_length=300, blank=True)
    bio = models.TextField(blank=True)
    licence_number = models.CharField(max_length=64)
    licence_jurisdiction = models.CharField(max_length=120, help_text="Issuing body or country, e.g. GMC (UK).")
    licence_expires_on = models.DateField()
    is_active = models.BooleanField(default=True)
    joined_on = models.DateField(default=dt.date.today)
    # Who last verified the eligibility facts above (signature name, post-nominals, licence,
    # specialties) and when: they change only through a verification by someone else
    # (governance.workflow.services.credentials), so a member never verified is eligible for nothing.
    credentials_verified_at = models.DateTimeField(null=True, blank=True)
    credentials_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                                on_delete=models.PROTECT, related_name="+")
    slug = models.SlugField(
        max_length=200, unique=True, blank=True,
        help_text="The address of the public profile, /board/<slug>/. Leave empty to derive it from the printed name; "
                  "keep it once published, links point at it.")
    photo = models.ImageField(
        upload_to="board/", blank=True, validators=[validate_web_image],
        help_text="Optional portrait for the public profile: JPEG, PNG or WebP, at most 2 MB. Set by the managing "
                  "editor.")

    class Meta:
        ordering = ["printed_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(credentials_verified_at__isnull=True, credentials_verified_by__isnull=True)
                | Q(credentials_verified_at__isnull=False, credentials_verified_by__isnull=False),
                name="credentials_verified_by_someone_at_a_time"),
        ]

    def __str__(self) -> str:
        return f"{self.printed_name}, {self.credentials}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The profile's address is derived once from the name (every way of adding a member gets
        # one); it is not business logic, and it never changes by itself afterwards.
        if not self.slug:
            self.slug = unique_member_slug(self.printed_name, exclude=self.pk)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "slug"}
        super().save(*args, **kwargs)

    def licence_valid(self, on: dt.date | None = None) -> bool:
        return self.licence_expires_on >= (on or timezone.localdate())

    @property
    def credentials_verified(self) -> bool:
        return self.credentials_verified_at is not None


class CredentialChange(models.Model):
    """A change of a member's eligibility facts, proposed with a note and verified or rejected by
    someone else (never the member: governance.workflow.rules.no_self_verification). A value left empty is
    not proposed. Verification applies the values to the member in the same transaction and keeps,
    in `applied`, each changed field's old and new value; a decided proposal is history and never
    changes again. A verification with nothing to change confirms the recorded values as they stand
    (the first verification of a member, and the managing editor's direct edits, are rows too)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending verification"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    member = models.ForeignKey(BoardMember, on_delete=models.PROTECT, related_name="credential_changes")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    note = models.TextField("proposer's note",
                            help_text="What changed and where it can be checked (the register, a certificate...).")
    printed_name = models.CharField(max_length=200, blank=True, help_text="New name on signatures, if it changes.")
    credentials = models.CharField(max_length=120, blank=True, help_text="New post-nominals, if they change.")
    licence_number = models.CharField(max_length=64, blank=True)
    licence_jurisdiction = models.CharField(max_length=120, blank=True)
    licence_expires_on = models.DateField(null=True, blank=True, help_text="New licence expiry date, if it changes.")
    specialties_added = models.ManyToManyField(Specialty, blank=True, related_name="+")
    specialties_removed = models.ManyToManyField(Specialty, blank=True, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField("verifier's note", blank=True)
    applied = models.JSONField("values applied ([old, new] per field)", default=dict, blank=True)

    VALUE_FIELDS = ("printed_name", "credentials", "licence_number", "licence_jurisdiction", "licence_expires_on")

    class Meta:
        ordering = ["-proposed_at", "-pk"]
        verbose_name = "credential change"
        permissions = [("verify_credentials", "Can verify board members' credentials")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True, decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False, decided_by__isnull=False)),
                name="credential_change_decided_by_someone_at_a_time"),
        ]
        indexes = [models.Index(fields=["member", "status"], name="credential_change_member")]

    def __str__(self) -> str:
        return f"{self.member.printed_name}: {self.summary() or 'credentials as recorded'} ({self.get_status_display()})"

    def proposed_values(self) -> dict[str, Any]:
        """The scalar values this proposal sets (the fields left empty are not proposed)."""
        return {name: getattr(self, name) for name in self.VALUE_FIELDS if getattr(self, name) not in ("", None)}

    def summary(self) -> str:
        parts = [f"{name.replace('_', ' ')} → {value}" for name, value in self.proposed_values().items()]
        if self.pk:
            parts += [f"+ {s.name}" for s in self.specialties_added.all()]
            parts += [f"- {s.name}" for s in self.specialties_removed.all()]
        return "; ".join(parts)


def unique_member_slug(name: str, *, exclude: int | None = None) -> str:
    """A slug from `name` (e.g. "dr-ada-okafor") that no other board member has."""
    base = slugify(name)[:190] or "member"
    taken = set(BoardMember.objects.exclude(pk=exclude).filter(slug__startswith=base).values_list("slug", flat=True))
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


class ConflictOfInterest(models.Model):
    """A declaration by a board member about one topic, in the ICMJE disclosure categories.

    `nature = none` is an explicit declaration that there is nothing to declare; it is not the
    same as never having declared, and it blocks nothing.
    """

    class Nature(models.TextChoices):
        NONE = "none", "None: nothing to declare"
        GRANTS = "grants", "Grants or contracts"
        ROYALTIES = "royalties", "Royalties or licences"
        CONSULTING = "consulting", "Consulting fees"
        HONORARIA = "honoraria", "Payment or honoraria for lectures, presentations or education"
        EXPERT_TESTIMONY = "expert_testimony", "Payment for expert testimony"
        TRAVEL = "travel", "Support for attending meetings and/or travel"
        PATENTS = "patents", "Patents planned, issued or pending"
        ADVISORY_BOARD = "advisory_board", "Participation on a data safety monitoring or advisory board"
        LEADERSHIP = "leadership", "Leadership or fiduciary role"
        STOCK = "stock", "Stock or stock options"
        MATERIALS = "materials", "Receipt of equipment, materials, drugs or other services"
        OTHER_FINANCIAL = "other_financial", "Other financial interest"
        NON_FINANCIAL = "non_financial", "Non-financial interest (personal, professional, intellectual)"

    member = models.ForeignKey(BoardMember, on_delete=models.CASCADE, related_name="conflicts")
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="conflicts")
    nature = models.CharField(max_length=24, choices=Nature.choices)
    counterparty = models.CharField(max_length=300, blank=True, help_text="Company or organisation concerned.")
    description = models.TextField(blank=True)
    starts_on = models.DateField(default=dt.date.today)
    ends_on = models.DateField(null=True, blank=True, help_text="Leave empty while the interest continues.")
    declared_at = models.DateTimeField(auto_now_add=True)
    # A declaration is not edited once made: it is ended (from today on, never back-dated) with a
    # reason, by whom and when (governance.workflow.services.conflicts.conflict_end); to correct one, end it and
    # declare again, so the record stays what it was during each review.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    end_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = "conflict-of-interest declaration"

    def __str__(self) -> str:
        return f"{self.member.printed_name}: {self.get_nature_display()} ({self.topic})"

    def clean(self) -> None:
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": "The end date cannot be before the start date."})
        if self.nature != self.Nature.NONE and not (self.counterparty or self.description):
            raise ValidationError({"counterparty": "Name the organisation or describe the interest."})

    @property
    def blocks(self) -> bool:
        return self.nature != self.Nature.NONE

    def is_active(self, on: dt.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.blocks and self.starts_on <= on and (self.ends_on is None or self.ends_on >= on)

    @staticmethod
    def active_q(on: dt.date) -> Q:
        return ~Q(nature="none") & Q(starts_on__lte=on) & (Q(ends_on__isnull=True) | Q(ends_on__gte=on))


class ReviewCycle(models.Model):
    """The runtime of one review: a revision under review, from submission to its outcome.

    A conditional unique constraint keeps one open cycle per article.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        VOIDED = "voided", "Voided"
        WITHDRAWN = "withdrawn", "Withdrawn"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="review_cycles")
    revision = models.ForeignKey(Revision, on_delete=models.RESTRICT, related_name="review_cycles")
    approvals_required = models.PositiveSmallIntegerField()
    required_specialties = models.ManyToManyField(Specialty, blank=True, related_name="+")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["article"], condition=Q(closed_at__isnull=True), name="one_open_review_cycle_per_article"
            )
        ]

    def __str__(self) -> str:
        return f"review of {self.revision} ({self.outcome or 'open'})"


class ReviewAssignment(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="assignments")
    # No index of its own: assignment_board_activity (below) leads with it.
    reviewer = models.ForeignKey(BoardMember, on_delete=models.PROTECT, related_name="assignments", db_index=False)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)  # indexed in Meta
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "reviewer"], condition=Q(status="open"), name="one_open_assignment_per_reviewer"
            )
        ]
        indexes = [
            # The board-activity report reads every assignment, member by member: on PostgreSQL
            # this index covers it (index-only scan, already in reviewer order). SQLite ignores
            # `include` and gets a plain reviewer index.
            models.Index(fields=["reviewer"], include=["status", "due_at", "assigned_at", "completed_at"],
                         name="assignment_board_activity"),
            # Plain (not db_index=True: no varchar_pattern_ops twin for LIKE, which nothing runs).
            models.Index(fields=["status"], name="assignment_status"),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer.printed_name} → {self.article.slug} (due {self.due_at:%Y-%m-%d})"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


VOID_FIELDS = frozenset({"voided_at", "void_reason"})


class ReviewQuerySet(models.QuerySet):
    """Signed reviews change only to be voided, and are never deleted, in bulk either
    (PostgreSQL refuses it too: reviewers migration 0004)."""

    def update(self, **kwargs: Any) -> int:
        if not kwargs or set(kwargs) - VOID_FIELDS:
            raise ValidationError("A signed review cannot be changed; it can only be voided.")
        return super().update(**kwargs)

    def delete(self) -> Any:
        raise ValidationError("A signed review is never deleted; void it instead.")


class Review(models.Model):
    """A signed review decision: an electronic signature over one revision.

    The record keeps every component of the signature as it was at signing (printed name,
    credentials, time, meaning, hash of the revision signed), so later profile edits change
    nothing here. Rows are never updated except to void them.
    """

    class Decision(models.TextChoices):
        APPROVED = "approved", "Approved"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    MEANINGS = {
        Decision.APPROVED: "approved as medically accurate",
        Decision.CHANGES_REQUESTED: "changes requested",
    }

    cycle = models.ForeignKey(ReviewCycle, on_delete=models.PROTECT, related_name="reviews")
    assignment = models.ForeignKey(ReviewAssignment, on_delete=models.PROTECT, related_name="reviews")
    article = models.ForeignKey(Article, on_delete=models.PROTECT, related_name="reviews")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(BoardMember, on_delete=models.PROTECT, related_name="reviews")
    decision = models.CharField(max_length=20, choices=Decision.choices)
    comments = models.TextField(blank=True)
    signed_name = models.CharField(max_length=200)
    signed_credentials = models.CharField(max_length=120)
    signed_specialties = models.JSONField(default=list)
    signed_username = models.CharField(max_length=150)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=120)
    revision_hash = models.CharField(max_length=64)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=500, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            # Two clicks, two workers, two tabs: one reviewer counts once per review cycle.
            models.UniqueConstraint(fields=["cycle", "reviewer"], name="one_decision_per_reviewer_per_cycle")
        ]

    def __str__(self) -> str:
        return f"{self.signed_name}: {self.meaning} ({self.revision_hash[:10]})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if not update_fields or set(update_fields) - VOID_FIELDS:
                raise ValidationError("A signed review cannot be changed; it can only be voided.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise ValidationError("A signed review is never deleted; void it instead.")
