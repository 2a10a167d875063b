"""`GET /api/v1/editorial/articles/{slug}/dossier/?format=json|pdf`: the audit dossier of one article.

The serializers below describe the dossier built by `governance.reports.dossier.build` field by field, so
the OpenAPI schema documents exactly what is served; the view passes the built dict through them,
which keeps the field names stable (a field added to the dossier but not here is not served).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from articles.api.editorial_auth import EDITORIAL_AUTHENTICATION
from articles.api.reference_fields import ReferenceDetailsOutput
from articles.api.serializers import AuditEventSerializer
from governance.reports import dossier
from governance.workflow import policies


class PDFUnavailableError(APIException):
    status_code = 503
    default_code = "pdf_unavailable"
    default_detail = dossier.PANGO_MISSING


class PDFRenderer(BaseRenderer):
    """Lets DRF's content negotiation accept `?format=pdf` / `Accept: application/pdf`; the view
    returns the PDF bytes itself."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()


class TopicRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class DossierArticleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    title = serializers.CharField()
    topic = TopicRefSerializer()
    risk_tier = serializers.CharField()
    origin = serializers.CharField()
    state = serializers.CharField()
    created_by = PersonSerializer()
    created_at = serializers.DateTimeField()
    current_revision_number = serializers.IntegerField(allow_null=True)
    current_revision_hash = serializers.CharField(allow_null=True)
    live_etag = serializers.CharField(allow_null=True, help_text="ETag of the snapshot served now; null when not live.")
    first_published_at = serializers.DateTimeField(allow_null=True)
    last_reviewed_at = serializers.DateTimeField(allow_null=True)
    next_review_due = serializers.DateField(allow_null=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)
    withdrawn_reason = serializers.CharField(allow_blank=True)


class CitedReferenceSerializer(ReferenceDetailsOutput):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    title = serializers.CharField()
    authors = serializers.ListField(child=serializers.CharField())
    container = serializers.CharField(allow_blank=True)
    year = serializers.IntegerField(allow_null=True)
    doi = serializers.CharField(allow_null=True)
    pmid = serializers.CharField(allow_null=True)
    pmcid = serializers.CharField(allow_null=True)
    url = serializers.CharField(allow_null=True)


class StatusAtApprovalSerializer(serializers.Serializer):
    review_cycle_id = serializers.IntegerField()
    approved_at = serializers.DateTimeField()
    status = serializers.CharField(help_text="Retraction status at that approval, or `unknown`.")
    derived_from = serializers.ChoiceField(
        choices=["audit", "current", "unknown"],
        help_text="audit: a recorded status change; current: no change recorded since; unknown: cannot tell.")


class CitationSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    key = serializers.CharField()
    reference = CitedReferenceSerializer()
    retraction_status = serializers.CharField(help_text="Current status: none, corrected, expression_of_concern, retracted.")
    retraction_notice = serializers.CharField(allow_blank=True)
    retraction_updated_at = serializers.DateTimeField(allow_null=True)
    status_changed_since_last_approval = serializers.BooleanField()
    status_at_approvals = StatusAtApprovalSerializer(many=True)


class RevisionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    content_hash = serializers.CharField()
    content_hash_check = serializers.ChoiceField(
        choices=["verified", "mismatch"],
        help_text="The revision's stored text, audience versions and citations (as it cited them) re-hashed and "
                  "compared with `content_hash`, which signatures bind to: `verified`, or `mismatch`.")
    title = serializers.CharField()
    origin = serializers.CharField()
    change_note = serializers.CharField(allow_blank=True)
    is_major_change = serializers.BooleanField()
    created_by = PersonSerializer()
    created_at = serializers.DateTimeField()
    is_current = serializers.BooleanField()
    approved_at = serializers.ListField(child=serializers.DateTimeField())
    citations = CitationSerializer(many=True)


class ReviewCycleSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    revision_number = serializers.IntegerField(allow_null=True)
    opened_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    approvals_required = serializers.IntegerField()


class ReviewerRefSerializer(serializers.Serializer):
    member_id = serializers.IntegerField()
    printed_name = serializers.CharField()
    credentials = serializers.CharField()
    username = serializers.CharField()


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reviewer = ReviewerRefSerializer()
    assigned_by = PersonSerializer()
    assigned_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()
    status = serializers.CharField()
    completed_at = serializers.DateTimeField(allow_null=True)


class SignatureSerializer(serializers.Serializer):
    """Every component of an electronic signature as recorded at signing (21 CFR 11.50)."""

    id = serializers.IntegerField()
    assignment_id = serializers.IntegerField()
    review_cycle_id = serializers.IntegerField()
    revision_number = serializers.IntegerField(allow_null=True)
    decision = serializers.CharField()
    comments = serializers.CharField(allow_blank=True)
    signed_name = serializers.CharField(help_text="Printed name of the signer.")
    signed_credentials = serializers.CharField()
    signed_specialties = serializers.ListField(child=serializers.CharField())
    signed_username = serializers.CharField()
    signed_at = serializers.DateTimeField()
    meaning = serializers.CharField(help_text='Meaning of the signature, e.g. "approved as medically accurate".')
    revision_hash = serializers.CharField(help_text="SHA-256 of the revision signed.")
    revision_hash_matches = serializers.BooleanField(help_text="The stored revision still has this hash.")
    credentials_verified_at = serializers.DateTimeField(
        allow_null=True, help_text="When the signer's credentials (licence, post-nominals, specialties) had last been "
                                   "verified, by someone other than them, before signing; null if never.")
    credentials_verified_by = serializers.CharField(allow_null=True, help_text="Username of who verified them.")
    voided_at = serializers.DateTimeField(allow_null=True)
    void_reason = serializers.CharField(allow_blank=True)


class ConflictSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    member = ReviewerRefSerializer()
    topic = serializers.CharField()
    nature = serializers.CharField()
    nature_label = serializers.CharField()
    blocks_assignment = serializers.BooleanField()
    counterparty = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField(allow_null=True)
    declared_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text="When the declaration was ended (never "
                                                                    "back-dated: `ends_on` is that day or later).")
    ended_by = serializers.CharField(allow_null=True, help_text="Username of who ended it.")
    end_reason = serializers.CharField(allow_blank=True)
    overlapping_assignment_ids = serializers.ListField(child=serializers.IntegerField())


class TransitionSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    actor = serializers.CharField()
    action = serializers.CharField()
    from_state = serializers.CharField(allow_blank=True)
    to_state = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)


class SnapshotSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    revision_number = serializers.IntegerField(allow_null=True)
    revision_hash = serializers.CharField(allow_null=True)
    etag = serializers.CharField()
    published_at = serializers.DateTimeField()
    published_by = PersonSerializer(allow_null=True)
    last_reviewed_at = serializers.DateTimeField(allow_null=True)
    next_review_due = serializers.DateField(allow_null=True)
    is_live = serializers.BooleanField()


class ChainCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    events_checked = serializers.IntegerField()
    broken_seq = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


class DossierSerializer(serializers.Serializer):
    """The audit dossier of one article."""

    schema = serializers.CharField(help_text="imprimatur.dossier/1")
    exported_at = serializers.DateTimeField()
    exported_by = PersonSerializer(allow_null=True)
    article = DossierArticleSerializer()
    revisions = RevisionSerializer(many=True)
    review_cycles = ReviewCycleSerializer(many=True)
    assignments = AssignmentSerializer(many=True)
    signatures = SignatureSerializer(many=True)
    conflicts_of_interest_scope = serializers.ChoiceField(
        choices=["all", "own", "none"],
        help_text="Whose declarations this reader sees: all (the managing editor), own (a reviewer: theirs only), "
                  "none (anyone else, e.g. the author).")
    conflicts_of_interest = ConflictSerializer(many=True)
    transitions = TransitionSerializer(many=True)
    snapshots = SnapshotSerializer(many=True)
    audit_events = AuditEventSerializer(many=True)
    audit_chain = ChainCheckSerializer()


def _as_is(serializer: serializers.Serializer, data):
    """Serialize the already JSON-ready dossier, keeping exactly the documented fields."""
    if isinstance(serializer, serializers.ListSerializer):
        return [_as_is(serializer.child, item) for item in data]
    if isinstance(serializer, serializers.Serializer):
        if data is None:
            return None
        return {name: _as_is(field, data.get(name)) for name, field in serializer.fields.items() if name in data}
    return data


class DossierView(APIView):
    # As the rest of the editorial API: token first, so an anonymous caller is told to authenticate (401).
    authentication_classes = EDITORIAL_AUTHENTICATION
    permission_classes = [permissions.IsAuthenticated]
    renderer_classes = [JSONRenderer, PDFRenderer]

    def handle_exception(self, exc):
        # Errors are explained in JSON even when a PDF was asked for.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response

    @extend_schema(
        operation_id="editorial_article_dossier",
        summary="Audit dossier of an article (JSON or PDF)",
        description=(
            "Every revision with its change note and author, every citation with its reference and its retraction "
            "status (now and at each approval), every assignment and signed decision with the full signature "
            "components (and when the signer's credentials had been verified), the reviewers' conflict-of-interest "
            "declarations active during review (as the reader may see them: the managing editor all, a reviewer "
            "their own, the author none), every transition, "
            "the published snapshots with their ETags, and the result of verifying the audit chain for the "
            "article's events. `?format=pdf` returns the same content as a paginated PDF. Readable by whoever may "
            "read the article's audit trail (governance.workflow.policies.may_read_audit)."
        ),
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$"),
                    OpenApiParameter("format", str, enum=["json", "pdf"], default="json",
                                     description="json (default) or pdf")],
        responses={
            (200, "application/json"): DossierSerializer,
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The dossier as a PDF."),
            401: OpenApiResponse(description="Not signed in (send `Authorization: Token <token>`)."),
            403: OpenApiResponse(description="Not allowed to read this article's audit trail."),
            404: OpenApiResponse(description="No such article visible to you."),
            503: OpenApiResponse(description="PDF asked for, but the server lacks the Pango library WeasyPrint needs."),
        },
        tags=["editorial"],
    )
    def get(self, request, slug: str):
        # Articles the caller may not see answer 404, as everywhere in the editorial API; one they may see
        # but whose audit they may not read is a 403.
        article = get_object_or_404(policies.visible_articles(request.user), slug=slug)
        if not policies.may_read_audit(request.user, article):
            raise PermissionDenied("You may not read the audit trail of this article.")
        built = dossier.build(article, exported_by=request.user)
        if request.accepted_renderer.format == "pdf":
            try:
                pdf = dossier.render_pdf(built)
            except dossier.PDFUnavailable as exc:
                raise PDFUnavailableError(str(exc)) from exc
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'attachment; filename="{dossier.filename(built, "pdf")}"'
            return response
        return Response(_as_is(DossierSerializer(), built))
