"""The editorial API: thin views over governance.workflow.services (the same calls as the admin and the
editor UI), permissions from governance.workflow.policies, errors mapped once by governance.api.errors
(409 with the refusing rule, 403 for permission, 400 with named fields)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from articles import bibliography
from articles.figures import FigureInput
from articles.figures.processing import figure_documents
from articles.models import Article, RiskTier, Topic, iso
from governance.api import errors as api_errors
from governance.models import AuditEvent
from governance.workflow import policies, services, signatures
from governance.workflow.exceptions import ContentInvalid
from reviewers.models import BoardMember, Review

from . import serializers as s
from .editorial_auth import EDITORIAL_AUTHENTICATION
from .public import ArticlePagination


class EditorialAccess(permissions.BasePermission):
    """Signed-in writers, managing editors and board members (governance.workflow.policies decides)."""

    message = "The editorial API is for writers, managing editors and board members."

    def has_permission(self, request: Any, view: Any) -> bool:
        return policies.may_use_editorial_api(request.user)


def validated_body(serializer_class: type[serializers.Serializer], request: Any, *, partial: bool = False) -> dict:
    """Validate a request body; errors name their field as `references[0].doi`."""
    if not isinstance(request.data, dict):
        raise ContentInvalid({"non_field_errors": ["Send a JSON object."]})
    serializer = serializer_class(data=request.data, partial=partial)
    if not serializer.is_valid():
        raise ContentInvalid(api_errors.field_errors(serializer.errors))
    return serializer.validated_data


def _plain(value: Any) -> Any:
    """validated_data holds OrderedDicts; the services take plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _variants(raw: list[dict[str, Any]]) -> list[services.VariantInput]:
    return [services.VariantInput(v["audience"], v["body_markdown"], v.get("summary", "")) for v in raw]


def article_document(article: Article) -> dict[str, Any]:
    """The editorial view of an article: its working revision (any state)."""
    revision = article.current_revision
    references, variants = [], []
    if revision is not None:
        for c in revision.citations.select_related("reference").order_by("number"):
            ref = c.as_cited  # as this revision cites it
            references.append({
                "key": c.key, "number": c.number, "kind": ref.kind, "title": ref.title,
                "authors": list(ref.authors or []), "container": ref.container, "year": ref.year,
                "doi": ref.doi, "pmid": ref.pmid, "pmcid": ref.pmcid, "url": ref.url, "retracted": ref.retracted,
                **bibliography.detail_document(ref), "passages": list(c.passages or []),
            })
        variants = [{"audience": v.audience, "summary": v.summary, "body_markdown": v.body_markdown}
                    for v in revision.variants.all()]
    live = article.live_snapshot
    return {
        "slug": article.slug,
        "state": article.state,
        "revision": revision.content_hash if revision else None,
        "revision_number": revision.number if revision else None,
        "title": article.title,
        "summary": revision.summary if revision else "",
        "topic": article.topic.slug,
        "risk_tier": article.risk_tier,
        "origin": article.origin,
        "body_markdown": revision.body_markdown if revision else "",
        "body_html": revision.body_html if revision else "",
        "change_note": revision.change_note if revision else "",
        "is_major_change": revision.is_major_change if revision else False,
        "references": references,
        "variants": variants,
        "figures": figure_documents(revision) if revision is not None else [],
        "live_revision": live.revision.content_hash if live else None,
        "related": sorted(article.related.values_list("slug", flat=True)),
        "last_reviewed_at": iso(article.last_reviewed_at),
        "next_review_due": iso(article.next_review_due),
        "publish_at": iso(article.publish_at),
        "withdrawn_at": iso(article.withdrawn_at),
        "created_by": article.created_by.get_username(),
        "created_at": iso(article.created_at),
        "updated_at": iso(article.updated_at),
    }


def _visible_article(user: Any, slug: str) -> Article:
    queryset = policies.visible_articles(user).select_related(
        "topic", "current_revision", "created_by", "live_snapshot__revision")
    return get_object_or_404(queryset, slug=slug)


ERRORS = {
    401: OpenApiResponse(s.ErrorSerializer, description="Not signed in (send `Authorization: Token <token>`)."),
    403: OpenApiResponse(s.RuleErrorSerializer, description="Not permitted (names the policy)."),
}
NOT_FOUND = {404: OpenApiResponse(s.ErrorSerializer, description="No such article visible to you.")}
INVALID = {400: OpenApiResponse(s.FieldErrorSerializer, description="Invalid input; every error names its field.")}
REFUSED = {409: OpenApiResponse(s.RuleErrorSerializer, description="Refused by a named rule (`rule`).")}
SLUG = OpenApiParameter("slug", str, OpenApiParameter.PATH, pattern=r"^[-a-zA-Z0-9_]+$")


class EditorialView(APIView):
    # Token first: an anonymous request is then told how to authenticate (401, not 403).
    authentication_classes = EDITORIAL_AUTHENTICATION
    permission_classes = [permissions.IsAuthenticated, EditorialAccess]
    renderer_classes = [JSONRenderer]


class ArticleCollectionView(EditorialView):
    @extend_schema(
        operation_id="editorial_articles_list", tags=["editorial"], summary="Articles you may see (any state)",
        parameters=[OpenApiParameter("cursor", str), OpenApiParameter("page_size", int, description="1 to 100.")],
        responses={200: s.EditorialArticlePageSerializer, **INVALID, **ERRORS},
    )
    def get(self, request: Any) -> Any:
        page_size = request.query_params.get("page_size")
        if page_size is not None and not (page_size.isascii() and page_size.isdigit() and 1 <= int(page_size) <= 100):
            raise ContentInvalid({"page_size": ["Give a whole number from 1 to 100."]})
        paginator = ArticlePagination()
        queryset = policies.visible_articles(request.user).select_related("topic", "current_revision")
        page = paginator.paginate_queryset(queryset, request, view=self)
        results = [
            {"slug": a.slug, "title": a.title, "state": a.state, "topic": a.topic.slug,
             "revision": a.current_revision.content_hash if a.current_revision else None,
             "live": a.live_snapshot_id is not None, "updated_at": iso(a.updated_at)}
            for a in page
        ]
        return Response({"next": paginator.get_next_link(), "previous": paginator.get_previous_link(),
                         "results": results})

    @extend_schema(
        operation_id="editorial_articles_create", tags=["editorial"], summary="Create a draft",
        request=s.ArticleCreateSerializer,
        responses={201: s.EditorialArticleSerializer, **INVALID, **ERRORS},
    )
    def post(self, request: Any) -> Any:
        data = _plain(validated_body(s.ArticleCreateSerializer, request))
        topic = Topic.objects.filter(slug=data["topic"]).first()
        if topic is None:
            raise ContentInvalid({"topic": [f"No topic has the slug '{data['topic']}'."]})
        content = services.ArticleContent(
            title=data["title"], summary=data.get("summary", ""), body_markdown=data["body_markdown"],
            origin=data.get("origin", "human"), references=data.get("references", []),
            variants=_variants(data.get("variants", [])),
        )
        article = services.article_create(
            actor=request.user, topic=topic, content=content, slug=data.get("slug"),
            change_note=data.get("change_note") or "First version", is_major_change=data.get("is_major_change", True),
            risk_tier=data.get("risk_tier", RiskTier.STANDARD),
        )
        return Response(article_document(_visible_article(request.user, article.slug)), status=status.HTTP_201_CREATED)


class ArticleItemView(EditorialView):
    @extend_schema(operation_id="editorial_articles_retrieve", tags=["editorial"], parameters=[SLUG],
                   summary="An article's working revision (any state)",
                   responses={200: s.EditorialArticleSerializer, **ERRORS, **NOT_FOUND})
    def get(self, request: Any, slug: str) -> Any:
        return Response(article_document(_visible_article(request.user, slug)))

    @extend_schema(
        operation_id="editorial_articles_partial_update", tags=["editorial"], parameters=[SLUG],
        summary="Save a new revision",
        description="Changes the fields sent and keeps the rest (references too). Editing an article that is "
        "not a draft takes it back to draft (voiding unpublished approvals); a live text stays served.",
        request=s.ArticleEditSerializer,
        responses={200: s.EditorialArticleSerializer, **INVALID, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def patch(self, request: Any, slug: str) -> Any:
        article = _visible_article(request.user, slug)
        data = _plain(validated_body(s.ArticleEditSerializer, request, partial=True))
        content = services.content_of(article)
        for name in ("title", "summary", "body_markdown", "origin", "references"):
            if name in data:
                setattr(content, name, data[name])
        if "variants" in data:
            content.variants = _variants(data["variants"])
        if "figures" in data:
            content.figures = [FigureInput(**figure) for figure in data["figures"]]
        base_revision_id = None
        if "base_revision" in data:
            # The hash the client read; 0 (no revision) when it names none of this article's.
            base_revision_id = (article.revisions.filter(content_hash=data["base_revision"]).order_by("-number")
                                .values_list("pk", flat=True).first() or 0)
        services.article_edit(article=article, actor=request.user, content=content,
                              change_note=data.get("change_note", ""), is_major_change=data.get("is_major_change", False),
                              base_revision_id=base_revision_id)
        return Response(article_document(_visible_article(request.user, slug)))


class RelatedView(EditorialView):
    @extend_schema(
        operation_id="editorial_articles_related_update", tags=["editorial"], parameters=[SLUG],
        summary="Replace the related articles",
        description="Sets the article's related articles to exactly the slugs sent, in any state of the article "
        "(no new revision: links are not reviewed text). The live snapshot's `related` list, and those of the "
        "articles linked or unlinked, change at once with their ETags (no changes-feed event). A slug that names "
        "no article you may see and no published one is 400 on `related`; relating the article to itself "
        "(`related_not_self`) or newly linking an article that is not live (`related_must_be_live`) is 409.",
        request=s.RelatedInputSerializer,
        responses={200: s.EditorialArticleSerializer, **INVALID, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def put(self, request: Any, slug: str) -> Any:
        article = _visible_article(request.user, slug)
        data = validated_body(s.RelatedInputSerializer, request)
        slugs = list(dict.fromkeys(data["related"]))
        # Named articles: those you may see, published ones, and those already linked.
        known = {a.slug: a for a in Article.objects.filter(
            Q(pk__in=policies.visible_articles(request.user).values("pk")) | Q(live_snapshot__isnull=False)
            | Q(pk__in=article.related.values("pk")), slug__in=slugs)}
        unknown = [name for name in slugs if name not in known]
        if unknown:
            raise ContentInvalid({"related": [f"No article has the slug '{name}'." for name in unknown]})
        services.article_set_related(article=article, actor=request.user, related=[known[name] for name in slugs],
                                     reason=data.get("reason", ""))
        return Response(article_document(_visible_article(request.user, slug)))


class TransitionView(EditorialView):
    @extend_schema(
        operation_id="editorial_articles_transition", tags=["editorial"],
        summary="Run a workflow transition",
        description="`request_re_review` (the managing editor, a published article): sends the live text back "
        "for re-review before its date with a required `reason` (kept in the audit trail and sent to the "
        "approvers, who are asked again); it stays served, publicly `under_review` (`editor_request`).",
        parameters=[SLUG, OpenApiParameter("name", str, OpenApiParameter.PATH, enum=s.TRANSITIONS)],
        request=s.TransitionInputSerializer,
        responses={200: s.TransitionResultSerializer, **INVALID, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Any, slug: str, name: str) -> Any:
        if name not in s.TRANSITIONS:
            raise exceptions.NotFound(f"There is no transition '{name}'; use one of {', '.join(s.TRANSITIONS)}.")
        article = _visible_article(request.user, slug)
        data = validated_body(s.TransitionInputSerializer, request)
        article = services.article_transition(article=article, actor=request.user, name=name,
                                              reason=data.get("reason", ""), publish_at=data.get("publish_at"))
        article = _visible_article(request.user, slug) if policies.may_view(request.user, article) else article
        return Response({
            "slug": article.slug, "state": article.state,
            "revision": article.current_revision.content_hash if article.current_revision_id else None,
            "live_revision": article.live_snapshot.revision.content_hash if article.live_snapshot_id else None,
            "publish_at": iso(article.publish_at),
        })


class AssignmentCreateView(EditorialView):
    @extend_schema(
        operation_id="editorial_assignments_create", tags=["editorial"], summary="Assign a reviewer",
        description="Refused (409, `code: assignment_refused`, `rule` named) for the author, a conflicted "
        "reviewer or an expired licence; `due_at` in the past is 400.",
        parameters=[SLUG], request=s.AssignmentInputSerializer,
        responses={201: s.EditorialAssignmentSerializer, **INVALID, **ERRORS, **NOT_FOUND, **REFUSED},
    )
    def post(self, request: Any, slug: str) -> Any:
        article = _visible_article(request.user, slug)
        data = validated_body(s.AssignmentInputSerializer, request)
        reviewer = BoardMember.objects.select_related("user").filter(user__username=data["reviewer"]).first()
        if reviewer is None:
            raise ContentInvalid({"reviewer": [f"No board member has the username '{data['reviewer']}'."]})
        assignment = services.assignment_create(article=article, actor=request.user, reviewer=reviewer,
                                                due_at=data.get("due_at"))
        return Response({"id": assignment.pk, "reviewer": reviewer.user.get_username(),
                         "due_at": iso(assignment.due_at), "status": assignment.status},
                        status=status.HTTP_201_CREATED)


class ReviewCreateView(EditorialView):
    @extend_schema(
        operation_id="editorial_reviews_create", tags=["editorial"], summary="Sign a review decision",
        description="The assigned reviewer's decision, signed by re-entering their password. The decision that "
        "completes the quorum approves the article.\n\n"
        "A wrong password is 403 with `code: reauthentication_failed`: nothing is signed, the failed attempt is "
        "audited (`signature.failed`, never the password) and `attempts_left` says how many remain. After "
        "`IMPRIMATUR_SIGNATURE_FAILURE_LIMIT` (5) wrong passwords within "
        "`IMPRIMATUR_SIGNATURE_FAILURE_WINDOW_MINUTES` (15), the reviewer's signing is locked on every path "
        "(this API and the admin): 429 with `code` and `rule` `signing_locked`, `locked_until` (ISO 8601), "
        "`retry_after` and the `Retry-After` header (seconds), even for the right password, until fewer than "
        "the limit of their failures lie within the last window or the managing editor unlocks it. A signature "
        "erases no failure.",
        parameters=[OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH),
                    OpenApiParameter("Retry-After", OpenApiTypes.INT, OpenApiParameter.HEADER, response=[429],
                                     description="Seconds until signing unlocks.")],
        request=s.ReviewInputSerializer,
        responses={201: s.ReviewSerializer, **INVALID, **ERRORS,
                   403: OpenApiResponse(s.ReauthenticationErrorSerializer,
                                        description="Not the assigned reviewer (`permission_denied`), or a wrong "
                                                    "password (`reauthentication_failed`, with `attempts_left`)."),
                   404: OpenApiResponse(s.ErrorSerializer, description="No such assignment visible to you."), **REFUSED,
                   429: OpenApiResponse(s.SigningLockedSerializer,
                                        description="Signing locked after too many wrong passwords (`signing_locked`).")},
    )
    def post(self, request: Any, id: int) -> Any:
        # Another reviewer's assignment answers 404 like a missing one; the managing editor, who may
        # see every assignment, gets the 403 that names the rule.
        assignment = get_object_or_404(policies.visible_assignments(request.user).select_related("article"), pk=id)
        data = validated_body(s.ReviewInputSerializer, request)
        review: Review = services.review_record(assignment=assignment, actor=request.user, decision=data["decision"],
                                                password=data["password"], comments=data.get("comments", ""),
                                                path=signatures.PATHS.API,
                                                client_address=signatures.request_client_address(request))
        state = Article.objects.filter(pk=review.article_id).values_list("state", flat=True).get()
        return Response({
            "id": review.pk, "assignment": review.assignment_id, "article": assignment.article.slug,
            "article_state": state, "decision": review.decision, "comments": review.comments,
            "signed_name": review.signed_name, "signed_credentials": review.signed_credentials,
            "signed_at": iso(review.signed_at), "meaning": review.meaning, "revision_hash": review.revision_hash,
        }, status=status.HTTP_201_CREATED)


class AuditView(EditorialView):
    @extend_schema(operation_id="editorial_audit_list", tags=["editorial"], summary="An article's audit events",
                   description="Oldest first; each `hash` covers every field of its event and the previous hash.",
                   parameters=[SLUG],
                   responses={200: s.EditorialAuditEventSerializer(many=True), **ERRORS, **NOT_FOUND})
    def get(self, request: Any, slug: str) -> Any:
        article = _visible_article(request.user, slug)
        if not policies.may_read_audit(request.user, article):
            raise exceptions.PermissionDenied("You may not read this article's audit trail.")
        events = AuditEvent.objects.filter(article_id=article.pk).order_by("seq").values(
            "seq", "at", "actor_username", "action", "from_state", "to_state", "reason", "hash")
        return Response([
            {"seq": e["seq"], "at": iso(e["at"]), "actor": e["actor_username"], "action": e["action"],
             "from_state": e["from_state"], "to_state": e["to_state"], "reason": e["reason"], "hash": e["hash"]}
            for e in events
        ])
