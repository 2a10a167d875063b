"""`GET /api/v1/editorial/assignments/`: the review assignments the caller may see (a board
member's own, the managing editor's every one, `governance.workflow.policies.visible_assignments`), so
that a reviewer can find the ids they sign with. Newest first (most recently made: by id),
cursor-paginated like the article lists, filterable by `status`. A writer who sits on no board
has none: an empty list, not a 403 (the same question, "my assignments", has the answer "none")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from articles.models import iso
from governance.api import errors as api_errors
from governance.workflow import policies
from governance.workflow.exceptions import ContentInvalid

from . import serializers as s
from .editorial import ERRORS, INVALID, EditorialView
from .public import ArticlePagination


class AssignmentPagination(ArticlePagination):
    # The id is unique and never changes, and grows with each assignment made: newest first.
    ordering = "-id"


class AssignmentListView(EditorialView):
    @extend_schema(
        operation_id="editorial_assignments_list", tags=["editorial"], summary="Your review assignments",
        description="A board member's own assignments (the managing editor's: every one), newest first, "
        "cursor-paginated. `respond_by` is null until assignments are invitations. A writer who sits on no "
        "board gets an empty list. An unknown `status` is 400 naming it.",
        parameters=[OpenApiParameter("status", str, enum=s.AssignmentListQuerySerializer().fields["status"].choices),
                    OpenApiParameter("cursor", str, description="Opaque; from a `next`/`previous` URL."),
                    OpenApiParameter("page_size", int, description="1 to 100 (default 20).")],
        responses={200: s.AssignmentPageSerializer, **INVALID, **ERRORS},
    )
    def get(self, request: Any) -> Any:
        query = s.AssignmentListQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise ContentInvalid(api_errors.field_errors(query.errors))
        assignments = policies.visible_assignments(request.user).select_related("article", "reviewer__user")
        if "status" in query.validated_data:
            assignments = assignments.filter(status=query.validated_data["status"])
        paginator = AssignmentPagination()
        page = paginator.paginate_queryset(assignments, request, view=self)
        return Response({"next": paginator.get_next_link(), "previous": paginator.get_previous_link(), "results": [
            {"id": a.pk, "article": a.article.slug, "reviewer": a.reviewer.user.get_username(), "status": a.status,
             # Null until assignments are invitations with a reply date (a later change adds the field).
             "respond_by": iso(getattr(a, "respond_by", None)), "due_at": iso(a.due_at)}
            for a in page]})
