"""The public article page's one query: the article, its live snapshot and topic, and everything
else the page shows beside the approved text, each as a sub-select of the same statement (the
site's settings, the editorial policy in effect, the profile slugs of the approving reviewers who
are still on the board, the citations found retracted since). So the page, and its 304, cost one
round trip whatever the catalogue's size, as the API's detail does; the ETag is computed from the
row before anything is rendered.

A fully stored rendering (as the API's `rendered_*` texts) was not chosen: it would have to be
rewritten whenever the site's settings, the policy or a reviewer's profile changes; these few
sub-selects read them as they are."""

from __future__ import annotations

from typing import Any

from django.db.models import Aggregate, JSONField, OuterRef, Subquery
from django.db.models.functions import JSONObject, Now

from articles.models import Article, Citation, Reference
from governance.models import EditorialPolicy, SiteSettings
from reviewers.models import Review

# The snapshot's columns the page never reads: the API's response texts and the search columns.
PAGE_UNREAD_SNAPSHOT_FIELDS = ("rendered_document", "rendered_variants", "rendered_jsonld", "rendered_list_item",
                               "search_text", "search_vector")
SITE_FIELDS = ("site_name", "tagline", "logo", "disclaimer")


class JSONArrayAgg(Aggregate):
    """The group's values as one JSON array, on both databases (PostgreSQL's jsonb_agg is in
    django.contrib.postgres only; SQLite's is json_group_array)."""

    function = "JSON_GROUP_ARRAY"
    output_field = JSONField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return super().as_sql(compiler, connection, function="JSONB_AGG", **extra)


def _per_revision(queryset: Any, value: Any) -> Subquery:
    return Subquery(queryset.filter(revision_id=OuterRef("live_snapshot__revision_id")).values("revision_id")
                    .annotate(values=JSONArrayAgg(value)).values("values")[:1], output_field=JSONField())


def page_article(slug: str) -> Article | None:
    """The article with `page_site` (dict or None: defaults), `page_policy_version`,
    `page_profiles` ([{name, slug}]) and `page_retracted` (citation numbers) annotated."""
    approvals = Review.objects.filter(decision=Review.Decision.APPROVED, voided_at__isnull=True, reviewer__is_active=True)
    retracted = Citation.objects.filter(reference__retraction_status=Reference.RetractionStatus.RETRACTED)
    site = SiteSettings.objects.filter(pk=SiteSettings.SINGLETON_PK).values(
        row=JSONObject(**{name: name for name in SITE_FIELDS}))[:1]
    policy = EditorialPolicy.objects.filter(effective_at__lte=Now()).order_by("-effective_at").values("version")[:1]
    return (Article.objects.select_related("live_snapshot", "topic")
            .defer(*(f"live_snapshot__{name}" for name in PAGE_UNREAD_SNAPSHOT_FIELDS))
            .annotate(page_site=Subquery(site, output_field=JSONField()), page_policy_version=Subquery(policy),
                      page_profiles=_per_revision(approvals, JSONObject(name="signed_name", slug="reviewer__slug")),
                      page_retracted=_per_revision(retracted, "number"))
            .filter(slug=slug).first())


def site_of(article: Article) -> SiteSettings:
    """The site's settings as the page's query read them (never saved: the defaults until they are)."""
    return SiteSettings(pk=SiteSettings.SINGLETON_PK, **(article.page_site or {}))
