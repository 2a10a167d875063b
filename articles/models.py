"""Articles and their content: Topic, Reference, Article, Revision, AudienceVariant, Citation and
PublishedSnapshot.

This module imports no other app of ours (a checked contract: `lint-imports`). Workflow rules
and permissions live in `governance.workflow`; the FSM transitions below ask them through
`workflow_gate`, which governance's AppConfig.ready installs, so the model keeps its state
machine while the rules stay in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django_fsm import ConcurrentTransitionMixin, FSMField, transition


class Topic(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name


DOI_PATTERN = r"^10\.\d{4,9}/\S+$"
PMID_PATTERN = r"^[1-9]\d{0,8}$"
PMCID_PATTERN = r"^PMC\d{1,9}$"

validate_doi = RegexValidator(DOI_PATTERN, "Enter a DOI of the form 10.NNNN/suffix (e.g. 10.1056/NEJMoa2034577).")
validate_pmid = RegexValidator(PMID_PATTERN, "Enter a PubMed ID: digits only, e.g. 33301246.")
validate_pmcid = RegexValidator(PMCID_PATTERN, "Enter a PubMed Central ID: PMC followed by digits, e.g. PMC7745181.")


def normalize_doi(value: str) -> str:
    """DOIs are case-insensitive; store them lower-case without a resolver prefix."""
    value = (value or "").strip()
    value = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", value, flags=re.IGNORECASE)
    return value.lower()


class Reference(models.Model):
    class Kind(models.TextChoices):
        GUIDELINE = "guideline", "Guideline"
        SYSTEMATIC_REVIEW = "systematic_review", "Systematic review"
        RESEARCH = "research", "Research"
        REVIEW = "review", "Review"
        CASE_REPORT = "case_report", "Case report"
        TEXTBOOK = "textbook", "Textbook"
        REGULATORY = "regulatory", "Regulatory"
        WEBSITE = "website", "Website"
        OTHER = "other", "Other"

    class RetractionStatus(models.TextChoices):
        NONE = "none", "None known"
        CORRECTED = "corrected", "Corrected"
        EXPRESSION_OF_CONCERN = "expression_of_concern", "Expression of concern"
        RETRACTED = "retracted", "Retracted"

    kind = models.CharField(max_length=24, choices=Kind.choices, default=Kind.RESEARCH)
    title = models.CharField(max_length=1000)
    authors = models.JSONField(default=list, blank=True, help_text='Names as cited, e.g. ["Najjar R"].')
    container = models.CharField("journal or publisher", max_length=500, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    doi = models.CharField("DOI", max_length=255, null=True, blank=True, unique=True, validators=[validate_doi])
    pmid = models.CharField("PMID", max_length=12, null=True, blank=True, unique=True, validators=[validate_pmid])
    pmcid = models.CharField("PMCID", max_length=16, blank=True, validators=[validate_pmcid])
    url = models.URLField(max_length=1000, blank=True)
    # The details the AMA style needs beyond the core (see DETAIL_FIELDS): a journal article's
    # volume, issue and pages (or article number), a book's edition, publisher and place, a
    # guideline's issuing body, a web page's version and the date it was read.
    volume = models.CharField(max_length=40, blank=True)
    issue = models.CharField(max_length=40, blank=True)
    pages = models.CharField("pages or article number", max_length=60, blank=True,
                             help_text="1100-1110, or an article number such as e2034577.")
    edition = models.CharField(max_length=40, blank=True, help_text="As AMA writes it: 2nd, 3rd, rev.")
    publisher = models.CharField(max_length=500, blank=True)
    place = models.CharField("place of publication", max_length=200, blank=True)
    issuing_body = models.CharField("issuing body", max_length=500, blank=True,
                                    help_text="The organisation that issued a guideline or report.")
    version = models.CharField(max_length=60, blank=True, help_text="A guideline's or web page's version or update.")
    accessed = models.DateField("accessed on", null=True, blank=True, help_text="When a web page was read.")
    retraction_status = models.CharField(
        max_length=24, choices=RetractionStatus.choices, default=RetractionStatus.NONE, db_index=True
    )
    retraction_notice = models.CharField(max_length=500, blank=True)
    retraction_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        constraints = [
            # DOIs are case-insensitive: 10.1056/NEJMoa1 and 10.1056/nejmoa1 are one reference.
            models.UniqueConstraint(Lower("doi"), name="reference_doi_unique_ignoring_case"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year})" if self.year else self.title

    @property
    def retracted(self) -> bool:
        return self.retraction_status == self.RetractionStatus.RETRACTED

    def reviewed_citations(self) -> models.QuerySet[Citation]:
        """Citations of this reference by revisions handed over for review: submitted (the working
        revision of an article past draft), reviewed (a review cycle or a signature) or published.
        Their reviewers read these bibliographic details, so they no longer change in place."""
        handed_over = Article.objects.filter(current_revision=models.OuterRef("revision")).exclude(
            state__in=[ArticleState.DRAFT])
        return Citation.objects.filter(reference=self).filter(
            Q(revision__review_cycles__isnull=False) | Q(revision__reviews__isnull=False)
            | Q(revision__snapshots__isnull=False) | Q(models.Exists(handed_over))).distinct()

    def clean(self) -> None:
        if self.doi:
            self.doi = normalize_doi(self.doi)
        if self.pmcid:
            self.pmcid = self.pmcid.strip().upper()
        self.doi = self.doi or None
        self.pmid = (self.pmid or "").strip() or None
        if self.year and not 1600 <= self.year <= 2100:
            raise ValidationError({"year": "Enter a plausible publication year."})


class ArticleState(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "Under review"
    APPROVED = "approved", "Approved"
    SCHEDULED = "scheduled", "Scheduled"
    PUBLISHED = "published", "Published"
    REVIEW_DUE = "review_due", "Review due"
    WITHDRAWN = "withdrawn", "Withdrawn"
    ARCHIVED = "archived", "Archived"


class Origin(models.TextChoices):
    HUMAN = "human", "Written by a person"
    AI_ASSISTED = "ai_assisted", "AI-assisted"
    AI_GENERATED = "ai_generated", "AI-generated"


class RiskTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    HIGH = "high", "High"


class Audience(models.TextChoices):
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"
    CLINICIAN = "clinician", "Clinician"


class WorkflowGate:
    """Who answers the FSM's conditions and permissions: `allowed(article, transition)` (the
    rules) and `may(user, transition, article)` (the policy), installed by governance's
    AppConfig.ready. Asked before that, it raises instead of guessing."""

    allowed: Callable[[Article, str], bool] | None = None
    may: Callable[[Any, str, Article], bool] | None = None

    def install(self, *, allowed: Callable[[Article, str], bool], may: Callable[[Any, str, Article], bool]) -> None:
        self.allowed, self.may = allowed, may

    def _installed(self) -> WorkflowGate:
        if self.allowed is None or self.may is None:
            raise ImproperlyConfigured("No workflow rules installed: add governance to INSTALLED_APPS.")
        return self


workflow_gate = WorkflowGate()


def _rules_met(transition_name: str):
    """An FSM condition that asks governance's rules (through `workflow_gate`)."""

    def condition(article: Article) -> bool:
        return workflow_gate._installed().allowed(article, transition_name)

    condition.__name__ = f"rules_of_{transition_name}"
    return condition


def _may(action: str):
    """An FSM permission that asks governance's policy, the one place that says who may do what."""

    def permission(article: Article, user: Any) -> bool:
        return workflow_gate._installed().may(user, action, article)

    permission.__name__ = f"may_{action}"
    return permission


S = ArticleState
LIVE_CAPABLE = [S.DRAFT, S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED, S.REVIEW_DUE]
# Slugs the editor's own URLs take (/editor/articles/new/): no article may have one.
RESERVED_SLUGS = frozenset({"new"})


class Article(ConcurrentTransitionMixin, models.Model):
    """A medical article. `state` is the workflow state of its working revision; the article is
    public while it has a live snapshot (`live_snapshot`), whatever that state is.

    Transition methods only set fields; services in `governance.workflow.services` run them inside a
    transaction with the audit and the notifications (check → change → save → audit → notify).
    """

    slug = models.SlugField(max_length=200, unique=True)
    title = models.CharField(max_length=300)
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="articles")
    risk_tier = models.CharField(max_length=12, choices=RiskTier.choices, default=RiskTier.STANDARD)
    origin = models.CharField(max_length=16, choices=Origin.choices, default=Origin.HUMAN)
    state = FSMField(default=ArticleState.DRAFT, choices=ArticleState.choices, protected=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # RESTRICT, not PROTECT: a revision in use cannot be deleted on its own, but deleting the
    # article (which cascades to its revisions) stays possible; its audit events are kept.
    current_revision = models.ForeignKey(
        "Revision", null=True, blank=True, on_delete=models.RESTRICT, related_name="+"
    )
    live_snapshot = models.ForeignKey(
        "PublishedSnapshot", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True)
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    next_review_due = models.DateField(null=True, blank=True, db_index=True)
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Scheduled publication time.")
    first_published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]
        permissions = [("manage_workflow", "Can run every workflow transition (managing editor)")]
        # A plain index (db_index=True would add a second, varchar_pattern_ops one on PostgreSQL
        # for LIKE 'x%', which nothing runs, and every change of state writes both).
        indexes = [models.Index(fields=["state"], name="article_state")]

    def __str__(self) -> str:
        return self.title

    # --- transitions: each sets fields only; rules and permissions are governance's ---------

    @transition(field=state, source=S.DRAFT, target=S.SUBMITTED,
                conditions=[_rules_met("submit")], permission=_may("submit"),
                custom={"label": "Submit for review"})
    def submit(self) -> None:
        """The author hands the working revision to the managing editor for review."""

    @transition(field=state, source=[S.SUBMITTED, S.REVIEW_DUE], target=S.IN_REVIEW,
                conditions=[_rules_met("start_review")], permission=_may("start_review"),
                custom={"label": "Start review"})
    def start_review(self) -> None:
        """Open review by the assigned board members (needs assignments that can reach quorum)."""

    @transition(field=state, source=[S.SUBMITTED, S.IN_REVIEW], target=S.DRAFT,
                conditions=[_rules_met("request_changes")], permission=_may("request_changes"),
                custom={"label": "Request changes"})
    def request_changes(self) -> None:
        """Send the working revision back to its author."""

    @transition(field=state, source=S.IN_REVIEW, target=S.APPROVED,
                conditions=[_rules_met("approve")], permission=_may("approve"),
                custom={"label": "Approve", "admin": False})
    def approve(self) -> None:
        """Reached only by the signed decision that completes the quorum (never called directly)."""

    @transition(field=state, source=[S.APPROVED, S.SCHEDULED], target=S.PUBLISHED,
                conditions=[_rules_met("publish")], permission=_may("publish"),
                custom={"label": "Publish now"})
    def publish(self) -> None:
        """Freeze the approved revision into a PublishedSnapshot and serve it."""
        self.publish_at = None

    @transition(field=state, source=S.APPROVED, target=S.SCHEDULED,
                conditions=[_rules_met("schedule")], permission=_may("schedule"),
                custom={"label": "Schedule publication"})
    def schedule(self, publish_at: Any = None) -> None:
        """Publish the approved revision automatically at `publish_at`."""
        self.publish_at = publish_at

    @transition(field=state, source=[S.PUBLISHED], target=S.REVIEW_DUE,
                conditions=[_rules_met("flag_review_due")], permission=_may("flag_review_due"),
                custom={"label": "Flag for re-review", "admin": False})
    def flag_review_due(self) -> None:
        """The review interval elapsed or a cited reference was retracted: re-review needed."""

    @transition(field=state, source=[S.PUBLISHED], target=S.REVIEW_DUE,
                conditions=[_rules_met("request_re_review")], permission=_may("request_re_review"),
                custom={"label": "Request re-review"})
    def request_re_review(self) -> None:
        """The managing editor asks the board to check the live text again before its date (new
        guidance, a reader's report); it stays served, publicly `under_review`."""

    @transition(field=state, source=LIVE_CAPABLE, target=S.WITHDRAWN,
                conditions=[_rules_met("withdraw")], permission=_may("withdraw"),
                custom={"label": "Withdraw"})
    def withdraw(self, reason: str = "") -> None:
        """Take the live text down (a tombstone in the API); a reason is required."""
        self.withdrawn_reason = reason

    @transition(field=state, source=[S.SUBMITTED, S.IN_REVIEW, S.APPROVED, S.SCHEDULED, S.PUBLISHED,
                                     S.REVIEW_DUE, S.WITHDRAWN], target=S.DRAFT,
                conditions=[_rules_met("revise")], permission=_may("revise"),
                custom={"label": "Revise (back to draft)"})
    def revise(self) -> None:
        """Start a new working revision; approvals of an unpublished revision are voided."""
        self.publish_at = None

    # "+": from any state but archived itself; archiving is final and happens once.
    @transition(field=state, source="+", target=S.ARCHIVED,
                conditions=[_rules_met("archive")], permission=_may("archive"),
                custom={"label": "Archive"})
    def archive(self) -> None:
        """Retire the article for good; its live text, if any, is withdrawn."""


class RevisionQuerySet(models.QuerySet):
    """Revisions are never updated nor deleted on their own, in bulk either (PostgreSQL refuses it
    too: articles migration 0005). Deleting an unsigned article still cascades to its revisions
    (the deletion collector does not go through this queryset)."""

    def update(self, **kwargs: Any) -> int:
        raise ValidationError("Revisions are immutable; save the article to make a new revision.")

    def delete(self) -> Any:
        raise ValidationError("Revisions are immutable and are never deleted on their own.")


class Revision(models.Model):
    """An immutable version of an article's content. Every content save makes a new one."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=300)
    summary = models.TextField(blank=True)
    body_markdown = models.TextField()
    body_html = models.TextField()
    origin = models.CharField(max_length=16, choices=Origin.choices)
    change_note = models.CharField(max_length=500, blank=True)
    is_major_change = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["article", "number"]
        constraints = [models.UniqueConstraint(fields=["article", "number"], name="revision_number_unique")]

    def __str__(self) -> str:
        return f"{self.article.slug} r{self.number} ({self.content_hash[:10]})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A signature is worth nothing if the signed text can change underneath it.
        if self.pk is not None and not self._state.adding:
            raise ValidationError("Revisions are immutable; save the article to make a new revision.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise ValidationError("Revisions are immutable and are never deleted on their own.")


class RevisionPartQuerySet(models.QuerySet):
    """A revision's audience versions and citations are part of its signed, hashed content: never
    updated nor deleted on their own, in bulk either (PostgreSQL refuses it too: articles
    migration 0009). Deleting an unsigned article still cascades to them."""

    def update(self, **kwargs: Any) -> int:
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are part of an immutable revision; "
                              "save the article to make a new revision.")

    def delete(self) -> Any:
        raise ValidationError(f"{self.model._meta.verbose_name_plural.capitalize()} are part of an immutable revision "
                              "and are never deleted on their own.")


class RevisionPart(models.Model):
    """Saved once, with its revision; see RevisionPartQuerySet."""

    objects = RevisionPartQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValidationError(f"A {self._meta.verbose_name} is part of an immutable revision; "
                                  "save the article to make a new revision.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any):
        raise ValidationError(f"A {self._meta.verbose_name} is part of an immutable revision and is never deleted "
                              "on its own.")


class AudienceVariant(RevisionPart):
    """The same article written for one audience; part of the revision it belongs to."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="variants")
    audience = models.CharField(max_length=12, choices=Audience.choices)
    summary = models.TextField(blank=True)
    body_markdown = models.TextField()
    body_html = models.TextField()

    class Meta:
        ordering = ["audience"]
        constraints = [models.UniqueConstraint(fields=["revision", "audience"], name="variant_audience_unique")]

    def __str__(self) -> str:
        return f"{self.revision} [{self.audience}]"


# The one list of a reference's bibliographic fields: what the editor form, the editorial API,
# the admin, the importers and exporters carry, what a citation freezes and the revision hash
# covers. DETAIL_FIELDS came later (2027-01): a revision or citation written before them has none,
# and they enter the hash only when filled, so earlier revisions keep their signed hashes.
CORE_FIELDS = ("kind", "title", "authors", "container", "year", "doi", "pmid", "pmcid", "url")
DETAIL_FIELDS = ("volume", "issue", "pages", "edition", "publisher", "place", "issuing_body", "version", "accessed")
BIBLIOGRAPHIC_FIELDS = CORE_FIELDS + DETAIL_FIELDS


class CitedReference:
    """A reference as one revision cited it: the bibliographic fields from the citation's frozen
    copy (`Citation.cited`), everything else (its id, retraction status and notice) from the shared
    Reference row, which is where a retraction found later is recorded."""

    def __init__(self, reference: Reference, cited: dict[str, Any]) -> None:
        self._reference, self._cited = reference, cited

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in BIBLIOGRAPHIC_FIELDS and name in self._cited:
            return self._cited[name]
        if name in DETAIL_FIELDS and self._cited:
            # Frozen before the detail fields existed: the revision cited none of them (the shared
            # row may have been completed since, which this revision's reviewers never read).
            return None if name == "accessed" else ""
        return getattr(self._reference, name)

    def get_kind_display(self) -> str:
        return str(dict(Reference.Kind.choices).get(self.kind, self.kind))

    def fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in BIBLIOGRAPHIC_FIELDS}


class Citation(RevisionPart):
    """A reference as cited by one revision: its local key, its number, and the bibliographic
    details as the revision cited them (`cited`). The shared Reference row may be corrected later by
    a new revision; this revision's text, its hash, the reviewers' signatures and the dossier keep
    the details they were written and approved with."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="citations")
    reference = models.ForeignKey(Reference, on_delete=models.PROTECT, related_name="citations")
    key = models.CharField(max_length=255)
    number = models.PositiveIntegerField()
    cited = models.JSONField(
        default=dict, blank=True,
        help_text="The reference's bibliographic fields (kind, title, authors, container, year, DOI, PMID, PMCID, "
                  "URL) as this revision cited them, frozen when the revision was written.")

    passages = models.JSONField(
        default=list, blank=True,
        help_text='The passages of the source that support the text\'s claims: [{"locator": "p. 12", "quote": "…"}]. '
                  "Part of the revision and its hash (when any).")

    class Meta:
        ordering = ["revision", "number"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "number"], name="citation_number_unique"),
            models.UniqueConstraint(fields=["revision", "key"], name="citation_key_unique"),
            models.UniqueConstraint(fields=["revision", "reference"], name="citation_reference_unique"),
        ]

    def __str__(self) -> str:
        return f"[{self.number}] {self.key}"

    @property
    def as_cited(self) -> CitedReference:
        return CitedReference(self.reference, self.cited or {})

    @staticmethod
    def details_of(reference: Reference) -> dict[str, Any]:
        """What `cited` holds for `reference` as it is now (JSON: authors a list)."""
        fields = {name: getattr(reference, name) for name in BIBLIOGRAPHIC_FIELDS}
        fields["authors"] = list(fields["authors"] or [])
        if fields["accessed"] is not None:
            fields["accessed"] = fields["accessed"].isoformat()
        return fields


LIVE = Q(live_snapshot__isnull=False)


# Figures and the published snapshot live in their own modules; imported here so that Django
# registers them and callers keep `articles.models.<name>`.
from articles.figures.models import Figure, FigureImage  # noqa: E402,F401
from articles.published import (  # noqa: E402,F401
    SNAPSHOT_LIST_FIELDS,
    PublishedSnapshot,
    ReviewReason,
    ReviewStatus,
    api_json,
    iso,
    rendered_snapshot,
    review_status,
)
