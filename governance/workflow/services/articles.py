"""Articles: creating one, editing its text (a new revision), its related articles."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify

from articles.models import (
    RESERVED_SLUGS,
    Article,
    ArticleState,
    RiskTier,
    Topic,
)
from governance.workflow import audit, policies, snapshots
from governance.workflow.exceptions import (
    ContentInvalid,
    NotPermitted,
    TransitionRefused,
)
from governance.workflow.services.content import ArticleContent, _prepare, _unchanged, _write_revision
from governance.workflow.services.transitions import lock, run_locked


def _unique_slug(title: str, wanted: str | None) -> str:
    base = slugify(wanted or title)[:180] or "article"
    if wanted:
        if base in RESERVED_SLUGS:
            raise ContentInvalid({"slug": [f"The slug '{base}' is reserved for the editor's own pages."]})
        if Article.objects.filter(slug=base).exists():
            raise ContentInvalid({"slug": [f"The slug '{base}' is taken."]})
        return base
    slug, n = base, 2
    while slug in RESERVED_SLUGS or Article.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def article_create(
    *,
    actor: Any,
    topic: Topic,
    content: ArticleContent,
    change_note: str = "First version",
    is_major_change: bool = True,
    slug: str | None = None,
    risk_tier: str = RiskTier.STANDARD,
    related: list[Article] | None = None,
) -> Article:
    """Create a draft article with its first revision (and its related articles: published ones
    only, `related_must_be_live`, as `article_set_related` later)."""
    if not policies.may_create_article(actor):
        raise NotPermitted("Only writers and the managing editor create articles.", rule="may_create_article")
    if risk_tier not in RiskTier.values:
        raise ContentInvalid({"risk_tier": [f"Unknown risk tier '{risk_tier}'."]})
    prepared = _prepare(content)
    with transaction.atomic():
        article = Article.objects.create(
            slug=_unique_slug(content.title, slug), title=content.title.strip(), topic=topic,
            risk_tier=risk_tier, origin=content.origin, created_by=actor,
        )
        audit.record(action="article.create", obj=article, actor=actor, article=article, to_state=article.state)
        _write_revision(article=article, prepared=prepared, actor=actor, change_note=change_note,
                        is_major_change=is_major_change)
        if related:
            _refuse_not_live({a.pk for a in related})
            article.related.set(related)
    return article


def _refuse_not_live(pks: set[int]) -> None:
    """Only published articles may be newly linked as related (`related_must_be_live`)."""
    not_live = sorted(Article.objects.filter(pk__in=pks, live_snapshot__isnull=True).values_list("slug", flat=True))
    if not_live:
        raise TransitionRefused(
            f"Only published articles can be linked as related; not live: {', '.join(not_live)}.",
            rule="related_must_be_live")


def article_edit(
    *,
    article: Article,
    actor: Any,
    content: ArticleContent,
    change_note: str = "",
    is_major_change: bool = False,
    reason: str = "",
    base_revision_id: int | None = None,
) -> Article:
    """Save new content as a new revision. Editing anything that is not a draft first takes the
    working revision back to draft (voiding approvals it had); a live text stays served.

    `base_revision_id`, when given, is the revision the editor started from: if someone saved a
    newer one meanwhile the edit is refused (`stale_revision`) instead of silently replacing it."""
    if not policies.may_edit(article=article, user=actor):
        raise NotPermitted("You may not edit this article.", rule="may_edit")
    prepared = _prepare(content, article)
    with transaction.atomic():
        locked = lock(article)
        if locked.state == ArticleState.ARCHIVED:
            raise TransitionRefused("Archived articles cannot be edited.", rule="archived_is_final")
        if base_revision_id is not None and base_revision_id != locked.current_revision_id:
            raise TransitionRefused(
                "Someone saved a newer version while you were editing; reload it and apply your changes again.",
                rule="stale_revision")
        if _unchanged(locked, prepared):
            return locked  # nothing changed: no new revision, nothing voided
        if locked.state != ArticleState.DRAFT:
            reason = reason or (
                "Content edited after approval: approvals voided"
                if locked.state in (ArticleState.APPROVED, ArticleState.SCHEDULED)
                else "Content edited: back to draft"
            )
            run_locked("revise", article=locked, actor=actor, reason=reason)
        _write_revision(article=locked, prepared=prepared, actor=actor, change_note=change_note,
                        is_major_change=is_major_change)
    return locked


def article_edit_with_related(*, article: Article, actor: Any, content: ArticleContent, related: list[Article],
                              change_note: str = "", is_major_change: bool = False,
                              base_revision_id: int | None = None) -> tuple[Article, bool]:
    """The editor's save: the text (`article_edit`: a new revision if it changed) and the related
    articles (`article_set_related`, if they changed) in one transaction, so that a refused link
    leaves the text unsaved too. Returns the article and whether its related articles changed."""
    relinks = {a.pk for a in related} != set(article.related.values_list("pk", flat=True))
    with transaction.atomic():
        edited = article_edit(article=article, actor=actor, content=content, change_note=change_note,
                              is_major_change=is_major_change, base_revision_id=base_revision_id)
        if relinks:
            edited = article_set_related(article=edited, actor=actor, related=related)
    return edited, relinks


def article_set_related(*, article: Article, actor: Any, related: list[Article], reason: str = "") -> Article:
    """Replace the article's related articles with `related` (after creation, too).

    The links are not reviewed text: they are the publisher's navigation between articles, kept
    on the Article, not on a revision, so changing them voids nothing. The live snapshots follow
    at once, as they follow a related article's retitling or withdrawal (`snapshots.relink`):
    the article's own `related` list and, the relation being symmetrical, the lists of the
    articles linked or unlinked (each with its ETag). Like those rewrites this adds no
    changes-feed event or webhook; mirrors see it by revalidating with the ETag.

    Refused: relating the article to itself (`related_not_self`), and linking an article that is
    not live (`related_must_be_live`: the editor offers only published articles, at creation
    too). A link already there stays whatever became of the other article since (withdrawn, it
    is simply not shown, and comes back if it is published again)."""
    if not policies.may_edit(article=article, user=actor):
        raise NotPermitted("You may not edit this article.", rule="may_edit")
    wanted = {a.pk: a for a in related}
    if article.pk in wanted:
        raise TransitionRefused("An article cannot be related to itself.", rule="related_not_self")
    with transaction.atomic():
        # Every article whose list changes is locked, in id order in one query, so that two editors
        # linking the same pair from both ends queue up instead of deadlocking, and a related
        # article's publication or withdrawal (which locks its row) cannot interleave with the rewrite.
        involved = {article.pk, *wanted, *article.related.values_list("pk", flat=True)}
        list(Article.objects.select_for_update(of=("self",)).filter(pk__in=involved).order_by("pk")
             .values_list("pk", flat=True))
        locked = lock(article)
        before = dict(locked.related.values_list("pk", "slug"))
        _refuse_not_live(set(wanted) - set(before))
        if set(wanted) == set(before):
            return locked
        locked.related.set(list(wanted.values()))
        changed = set(wanted) ^ set(before)
        rewritten = snapshots.refresh_related(
            [locked, *Article.objects.filter(pk__in=changed).only("pk", "slug", "live_snapshot")])
        after = sorted(a.slug for a in wanted.values())
        audit.record(action="article.set_related", obj=locked, actor=actor, article=locked, reason=reason,
                     data={"before": sorted(before.values()), "after": after,
                           "added": sorted(a.slug for pk, a in wanted.items() if pk not in before),
                           "removed": sorted(slug for pk, slug in before.items() if pk not in wanted),
                           "snapshots_rewritten": rewritten})
    return locked
