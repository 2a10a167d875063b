"""What a reader is served: the PublishedSnapshot frozen at publication, the review status the
public API and page derive from it, and the JSON helpers its stored response texts are written with.
Models of the articles app (re-exported by `articles.models`)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from articles.models import Article, Revision


def iso(value: dt.date | dt.datetime | None) -> str | None:
    """A date or a moment as the API writes it (ISO 8601); None stays null."""
    return value.isoformat() if value is not None else None


def api_json(data: Any) -> str:
    """`data` as the API writes it: exactly the text DRF's JSONRenderer renders with the project's
    settings (compact, UTF-8 unescaped, no NaN, U+2028/U+2029 escaped for JavaScript)."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


SNAPSHOT_LIST_FIELDS = ("title", "summary", "topic", "audiences", "last_reviewed_at", "next_review_due",
                        "published_at", "updated_at", "url")


def rendered_snapshot(document: dict[str, Any], variant_documents: dict[str, Any], jsonld: dict[str, Any],
                      ) -> dict[str, Any]:
    """The `rendered_*` columns of a snapshot, from its documents: the response texts the public
    API serves as they are. `review_status` is the one key computed when serving (it depends on
    the day): it is left out of the stored JSON documents and the list item, and the API splices
    it in before their closing brace. The JSON-LD carries no review status: stored whole."""
    list_item = {"slug": document.get("slug", ""), **{name: document.get(name) for name in SNAPSHOT_LIST_FIELDS}}
    return {
        "rendered_document": api_json(document),
        "rendered_variants": {audience: api_json(doc) for audience, doc in variant_documents.items()},
        "rendered_jsonld": {audience: api_json(doc) for audience, doc in jsonld.items()},
        "rendered_list_item": api_json(list_item),
    }


class ReviewReason(models.TextChoices):
    """Why a re-review of the live text is open, other than its review date (public: the API's
    `review_reason`)."""

    REFERENCE_RETRACTED = "reference_retracted", "A source it cites was retracted"
    EDITOR_REQUEST = "editor_request", "The editors asked the board to check it again"


class ReviewStatus(models.TextChoices):
    """The public review status of a live text (the API's `review_status`)."""

    APPROVED = "approved", "Approved"
    REVIEW_OVERDUE = "review_overdue", "Review overdue"
    UNDER_REVIEW = "under_review", "Being re-reviewed"


def review_status(next_review_due: dt.date | str | None, review_reason: str | None, today: dt.date | str) -> str:
    """The public review status of a live snapshot, from its stored columns: `under_review` while a
    re-review is open for a reason other than the date (`review_reason`), else `review_overdue`
    once `next_review_due` has passed, else `approved`. Dates as `date`s or ISO texts (which
    compare as text), both of the same kind."""
    if review_reason:
        return ReviewStatus.UNDER_REVIEW.value
    if next_review_due is not None and next_review_due < today:
        return ReviewStatus.REVIEW_OVERDUE.value
    return ReviewStatus.APPROVED.value


class PublishedSnapshot(models.Model):
    """What was approved and published, frozen: the rendered document served by the public API
    (`document`, plus one per audience variant), with its ETag. The approved text is never edited
    after creation; the facts about other things it shows (related links, a reference's
    retraction status, the review date the managing editor moved) are rewritten in place by
    `governance.workflow.snapshots`, and `review_reason` says why a re-review of it is open.

    The `rendered_*` columns hold the very response texts (see `rendered_snapshot`), written with
    the snapshot, so that serving it is a lookup of one text column: no JSON decoded or encoded
    per request. Empty on a snapshot written without them (the API then renders the documents)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="snapshots")
    revision = models.ForeignKey(Revision, on_delete=models.PROTECT, related_name="snapshots")
    document = models.JSONField(help_text="The detail document for the default (general) audience.")
    variant_documents = models.JSONField(default=dict, blank=True)
    jsonld = models.JSONField(default=dict, blank=True)
    etag = models.CharField(max_length=80)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_reviewed_at = models.DateTimeField(null=True, blank=True)
    next_review_due = models.DateField(null=True, blank=True)
    review_reason = models.CharField(
        max_length=24, blank=True, default="", choices=ReviewReason.choices,
        help_text="Why a re-review of this text is open, other than its date (empty: none). Read with the "
                  "text when serving, so the public status costs no query; a new publication starts empty.")
    rendered_document = models.TextField(
        blank=True, default="", help_text="`document` as served as JSON, without `review_status` (spliced in).")
    rendered_variants = models.JSONField(
        default=dict, blank=True, help_text="Per audience: the variant document as served, without `review_status`.")
    rendered_jsonld = models.JSONField(
        default=dict, blank=True, help_text="Per audience (and `general`): the JSON-LD text as served.")
    rendered_list_item = models.TextField(
        blank=True, default="", help_text="The article's item in the public list, without `review_status`.")
    newest_reference_year = models.PositiveSmallIntegerField(
        null=True, blank=True, db_index=True,
        help_text="The year of the newest dated reference the published revision cites (none dated: empty). "
                  "Written with the snapshot; the evidence report's 'old evidence' list reads it.")
    search_text = models.TextField(
        blank=True, default="",
        help_text="The approved body as plain text (the main text and every audience version), written with the "
                  "snapshot: what the public site's search and the API's `q` read (articles.search).")
    # PostgreSQL: title (A), summary (B) and search_text (C) as an English tsvector, built in the
    # transaction that writes the snapshot (articles.search.index_snapshots) and GIN-indexed by
    # migration 0010 (on PostgreSQL only: SQLite has no GIN, and searches the text instead).
    search_vector = SearchVectorField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-published_at"]
        get_latest_by = "published_at"

    def __str__(self) -> str:
        return f"{self.article.slug} @ {self.published_at:%Y-%m-%d %H:%M} ({self.etag})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.rendered_document and self.document:
            for name, value in rendered_snapshot(self.document, self.variant_documents or {},
                                                 self.jsonld or {}).items():
                setattr(self, name, value)
        super().save(*args, **kwargs)
