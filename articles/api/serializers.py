"""Serializers of the API: the shapes of its documents (which also document them in OpenAPI) and
the validation of what clients send. Field names are the contract of /work/shared/API.md."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from articles.api.reference_fields import ReferenceDetailsInput, ReferenceDetailsOutput
from articles.models import Article, Audience, Origin, Reference, ReviewReason, ReviewStatus, RiskTier
from reviewers.models import ReviewAssignment

AUDIENCE_CHOICES = Audience.values
REVIEW_STATUS_CHOICES = ReviewStatus.values
TRANSITIONS = ["submit", "start_review", "request_changes", "publish", "schedule", "withdraw", "archive", "revise",
               "request_re_review"]
REVIEW_STATUS_HELP = ("`approved`: within its review interval; `review_overdue`: past `next_review_due`, still "
                      "served; `under_review`: a re-review is open for another reason than the date, named in "
                      "`review_reason`, still served.")


# --- shared error shapes ------------------------------------------------------------------------

class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class RuleErrorSerializer(ErrorSerializer):
    rule = serializers.CharField(required=False, help_text="The named rule that refused the request.")


class FieldErrorSerializer(ErrorSerializer):
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text='Field errors, e.g. {"references[0].doi": ["Enter a DOI…"]}.')


class ThrottledSerializer(ErrorSerializer):
    retry_after = serializers.IntegerField(required=False)


class ReauthenticationErrorSerializer(RuleErrorSerializer):
    attempts_left = serializers.IntegerField(required=False, help_text="Wrong passwords left before signing locks.")
    locked_until = serializers.DateTimeField(required=False, help_text="Set when this failure locked signing.")


class SigningLockedSerializer(RuleErrorSerializer):
    locked_until = serializers.DateTimeField(help_text="When signing unlocks (unless the managing editor unlocks "
                                                       "it sooner).")
    retry_after = serializers.IntegerField(help_text="Seconds until then; also in the `Retry-After` header.")


class GoneSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    slug = serializers.CharField()
    withdrawn_at = serializers.DateTimeField()
    reason = serializers.CharField(allow_blank=True)


# --- public documents ---------------------------------------------------------------------------

class ArticleListItemSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    topic = serializers.CharField(help_text="The topic's slug.")
    audiences = serializers.ListField(child=serializers.ChoiceField(AUDIENCE_CHOICES),
                                      help_text="Reviewed variants besides the default text.")
    review_status = serializers.ChoiceField(REVIEW_STATUS_CHOICES, help_text=REVIEW_STATUS_HELP)
    review_reason = serializers.ChoiceField(
        ReviewReason.values, allow_null=True,
        help_text="Why the re-review is open (with `under_review`; null otherwise): `reference_retracted` (a "
                  "source the text cites was retracted), `editor_request` (the managing editor asked for it).")
    last_reviewed_at = serializers.DateTimeField(allow_null=True)
    next_review_due = serializers.DateField(allow_null=True)
    published_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    url = serializers.URLField()


class ArticlePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ArticleListItemSerializer(many=True)


class PublicReferenceSerializer(ReferenceDetailsOutput):
    number = serializers.IntegerField(help_text="The number used in the body, in order of first citation.")
    kind = serializers.ChoiceField(Reference.Kind.values)
    title = serializers.CharField()
    authors = serializers.ListField(child=serializers.CharField())
    container = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True)
    pmid = serializers.CharField(allow_null=True)
    pmcid = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)
    formatted = serializers.CharField(help_text="AMA style.")
    retracted = serializers.BooleanField()


class PublicReviewerSerializer(serializers.Serializer):
    name = serializers.CharField()
    credentials = serializers.CharField(allow_blank=True)
    specialties = serializers.ListField(child=serializers.CharField())
    decision = serializers.ChoiceField(["approved"])
    signed_at = serializers.DateTimeField()


class ChangeNoteSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    note = serializers.CharField()


class RelatedArticleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    url = serializers.URLField()


class FigureInputSerializer(serializers.Serializer):
    """One figure of the revision (PATCH `figures[]`: the whole list, as `references[]`)."""

    slug = serializers.CharField(max_length=80, help_text="As the body shows it: `![](figure:<slug>)`, alone in its "
                                 "paragraph. Lower-case letters, digits and hyphens.")
    image = serializers.CharField(max_length=64, help_text="The `image` (SHA-256) an upload into this article returned.")
    alt = serializers.CharField(max_length=500, help_text="Alt text: what the image shows. Required.")
    caption = serializers.CharField(max_length=1000)
    credit = serializers.CharField(max_length=500, help_text="Credit and licence line, e.g. `Jane Doe, CC BY 4.0`.")


class RenditionSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    url = serializers.URLField()


class FigureSerializer(serializers.Serializer):
    """A figure as a revision shows it (the public API's `figures[]` and the editorial view's)."""

    slug = serializers.CharField()
    alt = serializers.CharField()
    caption = serializers.CharField()
    credit = serializers.CharField()
    image = serializers.CharField(help_text="SHA-256 of the file: part of the revision's content hash.")
    content_type = serializers.ChoiceField(["image/jpeg", "image/png", "image/webp"])
    width = serializers.IntegerField(help_text="The widest stored copy's size in pixels.")
    height = serializers.IntegerField()
    src = serializers.URLField(help_text="A default copy (960 pixels wide or the widest below).")
    srcset = serializers.CharField(help_text="Every stored copy, for `<img srcset>`.")
    sizes = serializers.CharField(help_text="The `sizes` the built-in page uses.")
    renditions = RenditionSerializer(many=True)


class ArticleDetailSerializer(ArticleListItemSerializer):
    body_html = serializers.CharField()
    audience = serializers.ChoiceField(["general", *AUDIENCE_CHOICES], help_text="The text served.")
    references = PublicReferenceSerializer(many=True)
    reviewed_by = PublicReviewerSerializer(many=True)
    disclaimer = serializers.CharField()
    editorial_policy_url = serializers.URLField()
    related = RelatedArticleSerializer(many=True)
    revision = serializers.CharField(help_text="The content hash of the published revision.")
    origin = serializers.ChoiceField(Origin.values)
    change_history = ChangeNoteSerializer(many=True, help_text="Major changes and the first publication, newest first.")
    figures = FigureSerializer(many=True, help_text="The approved figures `body_html` shows (as `<figure>` with "
                               "`srcset`); their addresses answer only while this text is live. Absent from texts "
                               "published before figures existed.")


class JsonLdSerializer(serializers.Serializer):
    """schema.org MedicalWebPage (the document is JSON-LD; only its main keys are listed)."""

    context = serializers.CharField()
    type = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    lastReviewed = serializers.DateField(allow_null=True)
    reviewedBy = serializers.ListField(child=serializers.DictField())
    datePublished = serializers.DateTimeField()
    dateModified = serializers.DateTimeField()
    audience = serializers.DictField()
    citation = serializers.ListField(child=serializers.DictField())
    about = serializers.DictField()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["@context"] = fields.pop("context")
        fields["@type"] = fields.pop("type")
        return fields


class ChangeEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    type = serializers.ChoiceField(["published", "updated", "review_due", "withdrawn"])
    slug = serializers.CharField()
    at = serializers.DateTimeField()
    revision = serializers.CharField(allow_blank=True, help_text="Content hash of the revision concerned.")


class ChangesPageSerializer(serializers.Serializer):
    results = ChangeEventSerializer(many=True)
    next_cursor = serializers.CharField(help_text="Pass as `since` to continue; always present.")


class BoardMemberSerializer(serializers.Serializer):
    name = serializers.CharField()
    credentials = serializers.CharField()
    specialties = serializers.ListField(child=serializers.CharField())
    affiliation = serializers.CharField(allow_blank=True)
    bio = serializers.CharField(allow_blank=True)
    verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When someone other than the member last verified their credentials; null if never.")


class TopicSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    review_interval_days = serializers.IntegerField()


class EditorialPolicySerializer(serializers.Serializer):
    version = serializers.CharField()
    effective_at = serializers.DateTimeField()
    body_html = serializers.CharField()


# --- public query parameters --------------------------------------------------------------------

class DetailQuerySerializer(serializers.Serializer):
    audience = serializers.ChoiceField(AUDIENCE_CHOICES, required=False)


class ArticleListQuerySerializer(serializers.Serializer):
    topic = serializers.SlugField(required=False, max_length=50)
    audience = serializers.ChoiceField(AUDIENCE_CHOICES, required=False)
    updated_since = serializers.DateTimeField(required=False)
    q = serializers.CharField(required=False, max_length=200)
    review_status = serializers.ChoiceField(REVIEW_STATUS_CHOICES, required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
    cursor = serializers.CharField(required=False, max_length=500)


class ChangesQuerySerializer(serializers.Serializer):
    since = serializers.CharField(required=False, max_length=200)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=1000)


# --- editorial input ----------------------------------------------------------------------------

class PassageSerializer(serializers.Serializer):
    locator = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                    help_text="Where in the source: p. 12, table 2, section 4.1.")
    quote = serializers.CharField(max_length=2000, help_text="The source's words that support the claim.")


class ReferenceInputSerializer(ReferenceDetailsInput):
    key = serializers.CharField(required=False, allow_blank=True, max_length=255)
    kind = serializers.ChoiceField(Reference.Kind.values, required=False)
    title = serializers.CharField(max_length=1000)
    authors = serializers.ListField(child=serializers.CharField(max_length=200), required=False, max_length=200)
    container = serializers.CharField(required=False, allow_blank=True, max_length=500)
    year = serializers.IntegerField(required=False, allow_null=True, min_value=1600, max_value=2100)
    doi = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=255)
    pmid = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=12)
    pmcid = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=16)
    url = serializers.URLField(required=False, allow_blank=True, allow_null=True, max_length=1000)
    passages = PassageSerializer(many=True, required=False, max_length=20,
                                 help_text="Supporting passages of this source (part of the revision).")


class VariantInputSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(AUDIENCE_CHOICES)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    body_markdown = serializers.CharField()


class ArticleCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    topic = serializers.SlugField(help_text="The topic's slug.")
    risk_tier = serializers.ChoiceField(RiskTier.values, required=False,
                                        help_text="Picks the review policy (quorum, interval); default `standard`.")
    body_markdown = serializers.CharField()
    origin = serializers.ChoiceField(Origin.values, required=False)
    change_note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    is_major_change = serializers.BooleanField(required=False)
    references = ReferenceInputSerializer(many=True, required=False)
    slug = serializers.SlugField(required=False, max_length=180)
    variants = VariantInputSerializer(many=True, required=False)


class ArticleEditSerializer(serializers.Serializer):
    """PATCH: every field optional; unsent fields keep their current value (references too)."""

    title = serializers.CharField(required=False, max_length=300)
    summary = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    body_markdown = serializers.CharField(required=False)
    origin = serializers.ChoiceField(Origin.values, required=False)
    change_note = serializers.CharField(required=False, allow_blank=True, max_length=500)
    is_major_change = serializers.BooleanField(required=False)
    references = ReferenceInputSerializer(many=True, required=False)
    variants = VariantInputSerializer(many=True, required=False)
    figures = FigureInputSerializer(
        many=True, required=False, help_text="The revision's figures, the whole list (unsent: kept). Upload each image "
        "first (POST …/images/); a new `image` for a slug replaces the figure, and voids approvals as a text edit does.")
    base_revision = serializers.CharField(
        required=False, max_length=64,
        help_text="The `revision` you started from: if a newer one was saved meanwhile, 409 `stale_revision`.")


class TransitionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    publish_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="For `schedule`: when to publish.")


class RelatedInputSerializer(serializers.Serializer):
    related = serializers.ListField(
        child=serializers.SlugField(max_length=180), max_length=100, allow_empty=True,
        help_text="Slugs of every article to list as related (the whole list: one left out is unlinked).")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Kept in the audit trail.")


class AssignmentInputSerializer(serializers.Serializer):
    reviewer = serializers.CharField(max_length=150, help_text="The board member's username.")
    due_at = serializers.DateTimeField(required=False, allow_null=True,
                                       help_text="Not in the past; default: the policy's assignment delay.")


class ReviewInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(["approve", "request_changes"])
    comments = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    password = serializers.CharField(max_length=256, trim_whitespace=False,
                                     help_text="The reviewer's password, re-entered: the signature.")


# --- editorial output ---------------------------------------------------------------------------

class EditorialReferenceSerializer(ReferenceDetailsOutput):
    key = serializers.CharField()
    number = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    authors = serializers.ListField(child=serializers.CharField())
    container = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True)
    pmid = serializers.CharField(allow_null=True)
    pmcid = serializers.CharField(allow_blank=True)
    url = serializers.CharField(allow_blank=True)
    retracted = serializers.BooleanField()
    passages = PassageSerializer(many=True)


class EditorialVariantSerializer(serializers.Serializer):
    audience = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    body_markdown = serializers.CharField()


class EditorialArticleSerializer(serializers.Serializer):
    slug = serializers.CharField()
    state = serializers.ChoiceField([choice for choice, _ in Article._meta.get_field("state").choices])
    revision = serializers.CharField(allow_null=True, help_text="Content hash of the working revision.")
    revision_number = serializers.IntegerField(allow_null=True)
    title = serializers.CharField()
    summary = serializers.CharField(allow_blank=True)
    topic = serializers.CharField()
    risk_tier = serializers.ChoiceField(RiskTier.values)
    origin = serializers.CharField()
    body_markdown = serializers.CharField(allow_blank=True)
    body_html = serializers.CharField(allow_blank=True)
    change_note = serializers.CharField(allow_blank=True)
    is_major_change = serializers.BooleanField()
    references = EditorialReferenceSerializer(many=True)
    variants = EditorialVariantSerializer(many=True)
    figures = FigureSerializer(many=True, help_text="The working revision's figures (addresses for editors until published).")
    live_revision = serializers.CharField(allow_null=True, help_text="Content hash of the text the public API serves.")
    related = serializers.ListField(child=serializers.CharField(),
                                    help_text="Slugs of the related articles (any state; the public API lists the live ones).")
    last_reviewed_at = serializers.DateTimeField(allow_null=True)
    next_review_due = serializers.DateField(allow_null=True)
    publish_at = serializers.DateTimeField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EditorialArticleListItemSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    topic = serializers.CharField()
    revision = serializers.CharField(allow_null=True)
    live = serializers.BooleanField()
    updated_at = serializers.DateTimeField()


class EditorialArticlePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = EditorialArticleListItemSerializer(many=True)


class TransitionResultSerializer(serializers.Serializer):
    slug = serializers.CharField()
    state = serializers.CharField()
    revision = serializers.CharField(allow_null=True)
    live_revision = serializers.CharField(allow_null=True)
    publish_at = serializers.DateTimeField(allow_null=True)


class EditorialAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = serializers.CharField(help_text="The board member's username.")
    due_at = serializers.DateTimeField()
    status = serializers.ChoiceField(ReviewAssignment.Status.values)


class AssignmentListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The id to sign with (`/editorial/assignments/{id}/review/`).")
    article = serializers.CharField(help_text="The article's slug.")
    reviewer = serializers.CharField(help_text="The board member's username.")
    status = serializers.ChoiceField(ReviewAssignment.Status.values)
    respond_by = serializers.DateTimeField(allow_null=True, help_text="When the invitation must be answered; "
                                           "null while assignments are not invitations.")
    due_at = serializers.DateTimeField()


class AssignmentPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AssignmentListItemSerializer(many=True)


class AssignmentListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(ReviewAssignment.Status.values, required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
    cursor = serializers.CharField(required=False, max_length=500)


class ReviewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    assignment = serializers.IntegerField()
    article = serializers.CharField(help_text="The article's slug.")
    article_state = serializers.CharField(help_text="The article's state after the decision.")
    decision = serializers.CharField()
    comments = serializers.CharField(allow_blank=True)
    signed_name = serializers.CharField()
    signed_credentials = serializers.CharField(allow_blank=True)
    signed_at = serializers.DateTimeField()
    meaning = serializers.CharField()
    revision_hash = serializers.CharField()


# An audit event as the API shows it: whole in the dossier (governance.api.dossier), its summary
# in the editorial API's audit list.
class AuditEventSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_blank=True, help_text="Username; empty for the system.")
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    object_repr = serializers.CharField(allow_blank=True)
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)
    data = serializers.JSONField()
    hash = serializers.CharField()
    prev_hash = serializers.CharField()


class EditorialAuditEventSerializer(AuditEventSerializer):
    object_type = object_id = object_repr = data = prev_hash = None
