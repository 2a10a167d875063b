"""Every change of state in Imprimatur, one function per use case.

Each service runs the same steps inside one transaction — lock, check, change, save, audit,
notify — so the admin, the editor UI, the API and the Celery tasks behave identically. Services
take keyword-only arguments and the acting user (`actor`; None for the system).

The board's records have their own modules: `governance.workflow.credentials` (profiles, credential
proposals and their verification) and `governance.workflow.conflicts` (conflict-of-interest declarations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django_fsm import ConcurrentTransition, TransitionNotAllowed

from articles import bibliography, content, passages
from articles.figures import FigureInput
from articles.figures import checks as figure_checks
from articles.figures import processing as figure_processing
from articles.figures.models import Figure, FigureImage
from articles.models import (
    BIBLIOGRAPHIC_FIELDS,
    DETAIL_FIELDS,
    RESERVED_SLUGS,
    Article,
    ArticleState,
    Audience,
    AudienceVariant,
    Citation,
    Origin,
    Reference,
    Revision,
    RiskTier,
    Topic,
    normalize_doi,
)
from governance.models import AuditEvent, ChangeEvent
from governance.workflow import audit, policies, rules, selectors, signatures, snapshots
from governance.workflow.exceptions import (
    AssignmentRefused,
    ContentInvalid,
    NotPermitted,
    ReviewRefused,
    TransitionRefused,
)
from reviewers.models import BoardMember, Review, ReviewAssignment, ReviewCycle

REFERENCE_FIELDS = BIBLIOGRAPHIC_FIELDS  # one list: what a citation copies is what the hash covers


# --- content ------------------------------------------------------------------------------------

@dataclass
class VariantInput:
    audience: str
    body_markdown: str
    summary: str = ""


@dataclass
class ArticleContent:
    """The content of one revision, as submitted by an editor (all validated by `_prepare`)."""

    title: str
    summary: str
    body_markdown: str
    origin: str = Origin.HUMAN
    references: list[dict[str, Any]] = field(default_factory=list)
    variants: list[VariantInput] = field(default_factory=list)
    figures: list[FigureInput] = field(default_factory=list)  # shown with ![](figure:<slug>)


@dataclass
class _Prepared:
    content: ArticleContent
    references: list[tuple[str, Reference | None, dict[str, Any]]]  # (key, existing, fields)
    numbers: dict[str, int]
    hash: str
    legacy_hash: str = ""  # the same content under the narrower hash of revisions before 2026-12
    figure_images: dict[str, FigureImage] = field(default_factory=dict)  # slug -> the uploaded file
    passages: dict[str, list[dict[str, str]]] = field(default_factory=dict)  # by key (articles.passages)


def _clean_reference(index: int, raw: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    prefix = f"references[{index}]"
    fields = {name: raw.get(name) for name in REFERENCE_FIELDS}
    fields["kind"] = fields["kind"] or Reference.Kind.RESEARCH
    fields["authors"] = [str(a).strip() for a in (fields["authors"] or []) if str(a).strip()]
    for name in ("title", "container", "pmcid", "url"):
        fields[name] = (fields[name] or "").strip() if isinstance(fields[name], str) or fields[name] is None else fields[name]
    fields["doi"] = normalize_doi(fields["doi"] or "") or None
    fields["pmid"] = (str(fields["pmid"]).strip() if fields["pmid"] not in (None, "") else None)
    fields["pmcid"] = (fields["pmcid"] or "").upper()
    bibliography.clean_details(fields, prefix, errors)
    reference = Reference(**fields)
    try:
        reference.full_clean(validate_unique=False, validate_constraints=False)  # an existing one is reused
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(f"{prefix}.{name}", []).extend(messages)
    if fields["kind"] not in Reference.Kind.values:
        errors.setdefault(f"{prefix}.kind", []).append(f"Unknown kind '{fields['kind']}'.")
    return fields


def _same_unidentified_reference(fields: dict[str, Any]) -> Reference | None:
    """A reference with neither DOI nor PMID (a guideline, a web page) is the same reference when
    every field matches; without this every edit of an article would copy its guidelines."""
    candidates = Reference.objects.filter(
        doi__isnull=True, pmid__isnull=True,
        **{name: fields[name] for name in ("kind", "title", "container", "year", "pmcid", "url")},
    ).order_by("pk")
    return next((ref for ref in candidates if ref.authors == fields["authors"]), None)


def _prepare(data: ArticleContent, article: Article | None = None) -> _Prepared:
    """Validate content and resolve its references; raise ContentInvalid with field errors."""
    errors: dict[str, list[str]] = {}
    if not data.title.strip():
        errors["title"] = ["A title is required."]
    if not data.body_markdown.strip():
        errors["body_markdown"] = ["The body is empty."]
    limit = settings.IMPRIMATUR_MAX_BODY_CHARS
    if len(data.body_markdown) > limit:
        errors["body_markdown"] = [f"The body is {len(data.body_markdown):,} characters; the limit is {limit:,}."]
    if data.origin not in Origin.values:
        errors["origin"] = [f"Unknown origin '{data.origin}'; use one of {', '.join(Origin.values)}."]
    seen_audiences: set[str] = set()
    for i, variant in enumerate(data.variants):
        if variant.audience not in Audience.values:
            errors[f"variants[{i}].audience"] = [
                f"Unknown audience '{variant.audience}'; use one of {', '.join(Audience.values)}."
            ]
        elif variant.audience in seen_audiences:
            errors[f"variants[{i}].audience"] = [f"Audience '{variant.audience}' is given twice."]
        seen_audiences.add(variant.audience)
        if not variant.body_markdown.strip():
            errors[f"variants[{i}].body_markdown"] = ["The variant's body is empty."]
        elif len(variant.body_markdown) > limit:
            errors[f"variants[{i}].body_markdown"] = [f"The body is longer than {limit:,} characters."]

    resolved: list[tuple[str, Reference | None, dict[str, Any]]] = []
    cited_passages: dict[str, list[dict[str, str]]] = {}
    keys: list[str] = []
    most = settings.IMPRIMATUR_MAX_REFERENCES_PER_REVISION
    if len(data.references) > most:
        # Each reference costs look-ups below: refused before any of them is made.
        raise ContentInvalid({**errors, "references": [
            f"The revision lists {len(data.references):,} references; the limit is {most:,}."]})
    for i, raw in enumerate(data.references):
        fields = _clean_reference(i, raw, errors)
        key = str(raw.get("key") or "").strip() or (fields["doi"] or (f"pmid:{fields['pmid']}" if fields["pmid"] else ""))
        key = content.canonical_key(key)  # as the body's markers are read: {braces} dropped, DOI keys lower-case
        if not key:
            errors.setdefault(f"references[{i}].key", []).append("Give a key, a DOI or a PMID.")
            continue
        if key in keys:
            errors.setdefault(f"references[{i}].key", []).append(f"Key '{key}' is used twice.")
            continue
        existing = None
        if fields["doi"]:
            existing = Reference.objects.filter(doi__iexact=fields["doi"]).first()  # DOIs ignore case
        if existing is None and fields["pmid"]:
            existing = Reference.objects.filter(pmid=fields["pmid"]).first()
        if existing is None and fields["pmcid"]:
            existing = Reference.objects.filter(pmcid=fields["pmcid"]).first()
        if existing is None and not fields["doi"] and not fields["pmid"]:
            existing = _same_unidentified_reference(fields)
        if existing is not None:
            fields = _effective_fields(i, existing, raw, fields, article, errors)
        keys.append(key)
        resolved.append((key, existing, fields))
        cited_passages[key] = passages.clean_passages(raw.get("passages"), f"references[{i}]", errors)
    identities = [ref.pk if ref else (f.get("doi"), f.get("pmid"), f.get("title")) for _, ref, f in resolved]
    if len(set(identities)) != len(identities):
        errors.setdefault("references", []).append("The same reference is listed twice under different keys.")

    check = content.check_citations([data.body_markdown, *(v.body_markdown for v in data.variants)], keys)
    for key in check.unresolved:
        errors.setdefault("body_markdown", []).append(f"Cited key '{key}' matches no reference; add it or fix the marker.")
    for key in check.uncited:
        errors.setdefault("references", []).append(f"Reference '{key}' is never cited in the body.")
    figure_images = figure_checks.check_figures(
        data.figures, [data.body_markdown, *(v.body_markdown for v in data.variants)], article, errors)
    if errors:
        raise ContentInvalid(errors)

    digest = revision_hash(data, [with_passages(reference_hash_entry(k, check.numbers[k], f), cited_passages.get(k))
                                  for k, _, f in resolved])
    legacy = revision_hash(data, [reference_hash_entry(k, check.numbers[k], f, names=LEGACY_HASH_FIELDS)
                                  for k, _, f in resolved])
    return _Prepared(data, resolved, check.numbers, digest, legacy, figure_images, cited_passages)


# Every reference field a reader is shown is part of the signed text. Revisions hashed before
# 2026-12 covered only these (`LEGACY_HASH_FIELDS`); their stored hashes are kept as signed.
LEGACY_HASH_FIELDS = ("doi", "pmid", "title", "year")


def reference_hash_entry(key: str, number: int, fields: dict[str, Any],
                         *, names: tuple[str, ...] = REFERENCE_FIELDS) -> dict[str, Any]:
    """One cited reference as the revision hash covers it: its key, its number and every
    bibliographic field shown to readers (cleaned as `_clean_reference` cleans them)."""
    entry: dict[str, Any] = {"key": key, "number": number}
    for name in names:
        value = fields.get(name)
        if name in DETAIL_FIELDS:
            # Hashed only when filled: a revision written before these fields hashes as it did.
            value = bibliography.detail_text(value)
            if value:
                entry[name] = value
            continue
        if name == "authors":
            value = list(value or [])
        elif name in ("container", "pmcid", "url", "title", "kind"):
            value = value or ""
        elif name in ("doi", "pmid"):
            value = value or None
        entry[name] = value
    return entry


def with_passages(entry: dict[str, Any], cited_passages: list[dict[str, str]] | None) -> dict[str, Any]:
    """A hash entry with the reference's supporting passages, when it has any (a revision written
    before passages existed hashes as it did)."""
    return {**entry, "passages": cited_passages} if cited_passages else entry


def revision_hash(data: ArticleContent, references: list[dict[str, Any]]) -> str:
    """The content hash signatures bind to (bench/seed.py computes its clones' hashes with it).
    Figures, when the revision has any, are covered with their file's SHA-256: replacing an image
    changes the hash as a text edit does (and a revision without figures keeps its hash)."""
    figures = {"figures": sorted((f.hash_entry() for f in data.figures), key=lambda f: f["slug"])} if data.figures else {}
    return content.content_hash({
        **figures,
        "title": data.title.strip(),
        "summary": data.summary.strip(),
        "body_markdown": data.body_markdown,
        "origin": data.origin,
        "variants": sorted(
            ({"audience": v.audience, "summary": v.summary.strip(), "body_markdown": v.body_markdown}
             for v in data.variants), key=lambda v: v["audience"]),
        "references": sorted(references, key=lambda r: r["number"]),
    })


def stored_content_check(revision: Revision, citations: list[Citation], variants: list[Any]) -> str:
    """Whether what `revision` stores (its text, audience versions and citations' frozen copies)
    still hashes to its content hash, which the reviewers' signatures bind to: `verified`;
    `verified_legacy` under the narrower reference hash of revisions written before 2026-12;
    `mismatch` otherwise (e.g. a citation whose copy was filled in from a shared row corrected
    before copies were kept)."""
    content = ArticleContent(revision.title, revision.summary, revision.body_markdown, revision.origin, [],
                             [VariantInput(v.audience, v.body_markdown, v.summary) for v in variants],
                             [f.as_input() for f in revision.figures.select_related("image")])
    ordered = sorted(citations, key=lambda c: c.number)
    entries = [with_passages(reference_hash_entry(c.key, c.number, c.cited), c.passages) for c in ordered]
    if revision_hash(content, entries) == revision.content_hash:
        return "verified"
    legacy = [reference_hash_entry(c.key, c.number, c.cited, names=LEGACY_HASH_FIELDS) for c in ordered]
    return "verified_legacy" if revision_hash(content, legacy) == revision.content_hash else "mismatch"


def content_of(article: Article) -> ArticleContent:
    """The working revision's content, as an ArticleContent an edit can start from. Its references
    carry the shared rows' details as they are now (a correction made since through another
    revision is picked up by the next revision), not the working revision's frozen copies."""
    revision = article.current_revision
    if revision is None:
        return ArticleContent(title=article.title, summary="", body_markdown="", origin=article.origin)
    references = [
        {"key": c.key, **Citation.details_of(c.reference), "passages": list(c.passages or [])}
        for c in revision.citations.select_related("reference").order_by("number")
    ]
    variants = [VariantInput(v.audience, v.body_markdown, v.summary) for v in revision.variants.all()]
    figures = [f.as_input() for f in revision.figures.select_related("image")]
    return ArticleContent(revision.title, revision.summary, revision.body_markdown, revision.origin,
                          references, variants, figures)


def _write_revision(*, article: Article, prepared: _Prepared, actor: Any, change_note: str,
                    is_major_change: bool):
    data = prepared.content
    figures = [Figure(slug=f.slug, image=prepared.figure_images[f.slug], alt=f.alt.strip(), caption=f.caption.strip(),
                      credit=f.credit.strip()) for f in data.figures]
    markup = {f.slug: figure_processing.figure_html(figure_processing.figure_document(f)) for f in figures}
    number = (article.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    revision = article.revisions.create(
        number=number,
        title=data.title.strip(),
        summary=data.summary.strip(),
        body_markdown=data.body_markdown,
        body_html=content.render(data.body_markdown, prepared.numbers, markup, prepared.passages),
        origin=data.origin,
        change_note=change_note.strip(),
        is_major_change=is_major_change,
        content_hash=prepared.hash,
        created_by=actor,
    )
    for variant in data.variants:
        AudienceVariant.objects.create(
            revision=revision, audience=variant.audience, summary=variant.summary.strip(),
            body_markdown=variant.body_markdown,
            body_html=content.render(variant.body_markdown, prepared.numbers, markup, prepared.passages),
        )
    for figure in figures:
        figure.revision = revision
        figure.save()
    for key, existing, fields in prepared.references:
        reference = existing
        if reference is None:
            reference = _create_reference(fields, actor=actor, article=article)
        else:
            _update_reference(reference, fields, actor=actor, article=article)
        # The details as this revision cites them, frozen: a later correction of the shared row
        # (through another revision) leaves this revision's text, hash and signatures as they were.
        Citation.objects.create(revision=revision, reference=reference, key=key, number=prepared.numbers[key],
                                cited=Citation.details_of(reference), passages=prepared.passages.get(key, []))
    article.current_revision = revision
    article.title = revision.title
    article.origin = revision.origin
    article.save()
    audit.record(action="revision.create", obj=revision, actor=actor, article=article,
                 data={"number": number, "content_hash": revision.content_hash,
                       "change_note": revision.change_note, "major": is_major_change,
                       **({"figures": {f.slug: f.image.sha256 for f in figures}} if figures else {})})
    return revision


def _create_reference(fields: dict[str, Any], *, actor: Any, article: Article) -> Reference:
    """A new reference, or the one another save citing the same DOI or PMID created since
    `_prepare` looked (its lookup runs before the transaction): reused, not a 500."""
    try:
        with transaction.atomic():
            reference = Reference.objects.create(**fields)
    except IntegrityError:
        reference = (fields["doi"] and Reference.objects.filter(doi__iexact=fields["doi"]).first()) or (
            fields["pmid"] and Reference.objects.filter(pmid=fields["pmid"]).first())
        if not reference:
            raise
        changes = _reference_changes(reference, fields)
        if changes:
            raise ContentInvalid({"references": [
                f"'{reference.title}' was just added by someone else with other details ({', '.join(changes)}); "
                "reload and check the reference."]}) from None
        return reference
    audit.record(action="reference.create", obj=reference, actor=actor, article=article)
    return reference


def _reference_changes(reference: Reference, fields: dict[str, Any]) -> dict[str, list[Any]]:
    """The bibliographic fields an edit gives differently from the shared Reference row."""
    mine = reference_hash_entry("", 0, Citation.details_of(reference))
    given = reference_hash_entry("", 0, fields)
    return {n: [mine.get(n), given.get(n)] for n in REFERENCE_FIELDS if mine.get(n) != given.get(n)}


def _effective_fields(index: int, reference: Reference, raw: dict[str, Any], fields: dict[str, Any],
                      article: Article | None, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The fields an existing (shared) reference is cited with. Differences are corrections of the
    row, applied by `_write_revision`, unless another article's submitted, signed or published
    revision cites it (its reviewers read those details): then fields left blank take the row's
    values and a field given differently is refused."""
    if not _reference_changes(reference, fields):
        return fields
    others = reference.reviewed_citations()
    if article is not None:
        others = others.exclude(revision__article=article)
    if not others.exists():
        return fields
    blank = {n for n in REFERENCE_FIELDS if fields[n] in (None, "", []) or (n == "kind" and not raw.get("kind"))}
    merged = {n: getattr(reference, n) if n in blank else fields[n] for n in REFERENCE_FIELDS}
    changes = _reference_changes(reference, merged)
    if changes:
        errors.setdefault(f"references[{index}]", []).append(
            f"'{reference.title}' is cited by another article's reviewed text, so its "
            f"{', '.join(changes)} cannot be changed here; ask the managing editor for a corrected reference.")
    return merged


def _update_reference(reference: Reference, fields: dict[str, Any], *, actor: Any, article: Article) -> None:
    """An edit that corrects a cited reference (authors, kind, journal...) corrects the shared row,
    audited; `_effective_fields` already refused it if another article's reviewed text cites it
    (the new revision of this article voids the approvals of its own)."""
    changes = _reference_changes(reference, fields)
    if not changes:
        return
    for name in changes:
        setattr(reference, name, fields[name])
    reference.save(update_fields=list(changes))
    audit.record(action="reference.update", obj=reference, actor=actor, article=article,
                 data={"changed": changes})


def _unchanged(article: Article, prepared: _Prepared) -> bool:
    """True if `prepared` is the working revision's content. A revision hashed before every
    reference field was covered matches on its legacy hash plus the very same reference rows
    with the very same fields."""
    revision = article.current_revision
    if revision is None:
        return False
    if revision.content_hash == prepared.hash:
        return True
    if revision.content_hash != prepared.legacy_hash:
        return False
    if any(existing is None or _reference_changes(existing, fields) for _, existing, fields in prepared.references):
        return False
    cited = set(revision.citations.values_list("key", "reference_id"))
    return cited == {(key, existing.pk) for key, existing, _ in prepared.references}


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


def _lock(article: Article) -> Article:
    """Lock the article row for this transaction and refuse if the caller's copy is stale."""
    locked = Article.objects.select_for_update(of=("self",)).select_related("topic").get(pk=article.pk)
    if article.state != locked.state:
        raise TransitionRefused(
            f"The article changed since it was loaded: it is now '{locked.get_state_display()}', "
            f"not '{article.get_state_display()}'. Reload and try again.",
            rule="stale_state",
        )
    return locked


def _close_cycle(article: Article, outcome: str) -> None:
    ReviewCycle.objects.filter(article=article, closed_at__isnull=True).update(
        closed_at=timezone.now(), outcome=outcome
    )


def _cancel_open_assignments(article: Article) -> None:
    """A withdrawn or archived article has nothing left to review: take it off reviewers' queues."""
    ReviewAssignment.objects.filter(article=article, status=ReviewAssignment.Status.OPEN).update(
        status=ReviewAssignment.Status.CANCELLED)


def _void_approvals(article: Article, *, actor: Any, reason: str) -> None:
    """Void the signed approvals of the working revision (an approved text is about to change).

    Only the cycle that approved it now: after a re-review of a live article the same revision
    also carries the approvals its live snapshot was published with, and those still stand."""
    now = timezone.now()
    cycle = (ReviewCycle.objects.filter(article=article, revision_id=article.current_revision_id,
                                        outcome=ReviewCycle.Outcome.APPROVED).order_by("-closed_at").first())
    reviews = Review.objects.filter(cycle=cycle, voided_at__isnull=True) if cycle else Review.objects.none()
    for review in reviews:
        review.voided_at, review.void_reason = now, reason
        review.save(update_fields=["voided_at", "void_reason"])
        audit.record(action="review.void", obj=review, actor=actor, article=article, reason=reason)


def _run(article: Article, name: str, actor: Any, **kwargs: Any) -> str:
    """Apply transition `name` on a locked article and save it; return the old state."""
    old = article.state
    try:
        getattr(article, name)(**kwargs)
        article.save()
    except TransitionNotAllowed as exc:
        raise TransitionRefused(
            f"'{name}' is not possible from '{article.get_state_display()}'.", rule="state_allows_transition"
        ) from exc
    except ConcurrentTransition as exc:
        raise TransitionRefused("Another change to this article won the race; reload and retry.",
                                rule="stale_state") from exc
    return old


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
        locked = _lock(article)
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
            _revise(locked, actor=actor, reason=reason)
        _write_revision(article=locked, prepared=prepared, actor=actor, change_note=change_note,
                        is_major_change=is_major_change)
    return locked


def _revise(article: Article, *, actor: Any, reason: str) -> None:
    voids = article.state in (ArticleState.APPROVED, ArticleState.SCHEDULED)
    if voids:
        _void_approvals(article, actor=actor, reason=reason)
    _close_cycle(article, ReviewCycle.Outcome.VOIDED)
    old = _run(article, "revise", actor)
    audit.record(action="article.void" if voids else "article.revise", obj=article, actor=actor, article=article,
                 from_state=old, to_state=article.state, reason=reason)


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
        locked = _lock(article)
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


# --- transitions --------------------------------------------------------------------------------

def _authorize(actor: Any, name: str, article: Article) -> None:
    if not policies.may_transition(actor, name, article):
        raise NotPermitted(f"You may not run '{name}' on this article.", rule=f"may_{name}")


def article_transition(*, article: Article, actor: Any, name: str, reason: str = "",
                       publish_at: dt.datetime | None = None) -> Article:
    """Run a named editorial transition (what the admin's and the API's buttons call)."""
    handlers = {
        "submit": article_submit,
        "start_review": article_start_review,
        "request_changes": article_request_changes,
        "publish": article_publish,
        "schedule": article_schedule,
        "withdraw": article_withdraw,
        "archive": article_archive,
        "revise": article_revise,
    }
    if name == "request_re_review":
        from governance.workflow.re_review import article_request_re_review  # it builds on this module's helpers

        handlers[name] = article_request_re_review
    if name not in handlers:
        raise TransitionRefused(f"There is no transition '{name}' to run.", rule="unknown_transition")
    kwargs: dict[str, Any] = {"article": article, "actor": actor}
    if name in ("request_changes", "withdraw", "archive", "revise", "start_review", "submit", "publish",
                "request_re_review"):
        kwargs["reason"] = reason
    if name == "schedule":
        kwargs.update(publish_at=publish_at, reason=reason)
    return handlers[name](**kwargs)


def article_submit(*, article: Article, actor: Any, reason: str = "") -> Article:
    """The author hands the working revision over for review."""
    _authorize(actor, "submit", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "submit")
        old = _run(locked, "submit", actor)
        audit.record(action="article.submit", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason,
                     data={"revision": locked.current_revision.content_hash})
    return locked


def article_revise(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Take the working revision back to draft (voiding approvals if it was approved)."""
    _authorize(actor, "revise", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "revise", reason=reason)
        _revise(locked, actor=actor, reason=reason)
    return locked


def article_start_review(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Open a review cycle of the working revision for the assigned board members."""
    _authorize(actor, "start_review", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "start_review")
        policy = selectors.policy_for(locked)
        old = _run(locked, "start_review", actor)
        cycle = ReviewCycle.objects.create(article=locked, revision=locked.current_revision,
                                           approvals_required=policy.approvals_required)
        if policy.policy is not None:
            cycle.required_specialties.set(policy.policy.required_specialties.all())
        audit.record(action="article.start_review", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason,
                     data={"revision": locked.current_revision.content_hash,
                           "approvals_required": policy.approvals_required,
                           "required_specialties": sorted(policy.required_specialties)})
    return locked


def article_request_changes(*, article: Article, actor: Any, reason: str = "") -> Article:
    """The managing editor sends the working revision back to its author."""
    _authorize(actor, "request_changes", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "request_changes", reason=reason)
        _close_cycle(locked, ReviewCycle.Outcome.CHANGES_REQUESTED)
        old = _run(locked, "request_changes", actor)
        audit.record(action="article.request_changes", obj=locked, actor=actor, article=locked,
                     from_state=old, to_state=locked.state, reason=reason)
    return locked


def _emit(article: Article, type: str, revision_hash: str) -> None:
    """Public consequences of a change: the changes feed (and the webhook outbox)."""
    audit.record_change(type=type, article=article, revision_hash=revision_hash)
    from governance.background import (
        webhooks,  # the outbox lives beside the feed; imported here to keep startup light
    )

    webhooks.enqueue(article=article, type=type, revision_hash=revision_hash)


def _publish_locked(locked: Article, *, actor: Any, reason: str = "") -> Article:
    rules.check(locked, "publish")
    was_live = locked.live_snapshot_id is not None
    now = timezone.now()
    cycle = (ReviewCycle.objects.filter(article=locked, revision_id=locked.current_revision_id,
                                        outcome=ReviewCycle.Outcome.APPROVED).order_by("-closed_at").first())
    approvals = list(selectors.approvals_in_cycle(cycle)) if cycle else []
    old = _run(locked, "publish", actor)
    if locked.first_published_at is None:
        locked.first_published_at = now
    snapshot = snapshots.create(article=locked, revision=locked.current_revision, approvals=approvals,
                                published_at=now, published_by=actor)
    locked.live_snapshot = snapshot
    locked.withdrawn_at = None
    locked.withdrawn_reason = ""
    locked.save()
    audit.record(action="article.publish", obj=locked, actor=actor, article=locked, from_state=old,
                 to_state=locked.state, reason=reason,
                 data={"revision": snapshot.revision.content_hash, "etag": snapshot.etag,
                       "snapshot": snapshot.pk})
    _emit(locked, ChangeEvent.Type.UPDATED if was_live else ChangeEvent.Type.PUBLISHED,
          snapshot.revision.content_hash)
    return locked


def article_publish(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Freeze the approved revision into a PublishedSnapshot and serve it."""
    _authorize(actor, "publish", article)
    with transaction.atomic():
        return _publish_locked(_lock(article), actor=actor, reason=reason)


def article_schedule(*, article: Article, actor: Any, publish_at: dt.datetime | None, reason: str = "") -> Article:
    """Publish the approved revision automatically at `publish_at`."""
    _authorize(actor, "schedule", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "schedule", publish_at=publish_at)
        old = _run(locked, "schedule", actor, publish_at=publish_at)
        audit.record(action="article.schedule", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason, data={"publish_at": publish_at.isoformat()})
    return locked


def publish_scheduled_due(*, now: dt.datetime | None = None) -> list[str]:
    """Publish every scheduled article whose time has come (run by beat); returns their slugs."""
    now = now or timezone.now()
    published = []
    for pk in Article.objects.filter(state=ArticleState.SCHEDULED, publish_at__lte=now).values_list("pk", flat=True):
        with transaction.atomic():
            locked = Article.objects.select_for_update().get(pk=pk)
            if locked.state != ArticleState.SCHEDULED:
                continue  # another worker got there first
            try:
                _publish_locked(locked, actor=None, reason="scheduled publication")
            except TransitionRefused as exc:
                # Beat retries every minute: audit the failure once per scheduling, not once a minute.
                scheduled_seq = (AuditEvent.objects.filter(article_id=pk, action="article.schedule")
                                 .order_by("-seq").values_list("seq", flat=True).first() or 0)
                if not AuditEvent.objects.filter(article_id=pk, action="article.schedule_failed",
                                                 seq__gt=scheduled_seq).exists():
                    audit.record(action="article.schedule_failed", obj=locked, article=locked, reason=str(exc),
                                 data={"rule": exc.rule})
                continue
            published.append(locked.slug)
    return published


def _take_down(locked: Article, *, actor: Any, reason: str) -> None:
    if locked.live_snapshot_id is None:
        return
    revision_hash = locked.live_snapshot.revision.content_hash
    locked.live_snapshot = None
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_reason = reason
    locked.save()
    snapshots.relink(locked, None)  # the live articles related to it stop linking it
    _emit(locked, ChangeEvent.Type.WITHDRAWN, revision_hash)


def article_withdraw(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Take the live text down (a tombstone in the API and the feed). A reason is required."""
    _authorize(actor, "withdraw", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "withdraw", reason=reason)
        _close_cycle(locked, ReviewCycle.Outcome.WITHDRAWN)
        _cancel_open_assignments(locked)
        old = _run(locked, "withdraw", actor, reason=reason)
        audit.record(action="article.withdraw", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _take_down(locked, actor=actor, reason=reason)
    return locked


def article_unpublish_overdue(*, article: Article, reason: str) -> Article:
    """System: a policy's grace period after the review date ran out; withdraw the live text."""
    with transaction.atomic():
        locked = _lock(article)
        _close_cycle(locked, ReviewCycle.Outcome.WITHDRAWN)
        _cancel_open_assignments(locked)
        old = _run(locked, "withdraw", None, reason=reason)
        audit.record(action="article.withdraw", obj=locked, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _take_down(locked, actor=None, reason=reason)
    return locked


def article_archive(*, article: Article, actor: Any, reason: str = "") -> Article:
    """Retire the article for good; a live text is withdrawn (then a reason is required)."""
    _authorize(actor, "archive", article)
    with transaction.atomic():
        locked = _lock(article)
        rules.check(locked, "archive", reason=reason)
        _close_cycle(locked, ReviewCycle.Outcome.WITHDRAWN)
        _cancel_open_assignments(locked)
        old = _run(locked, "archive", actor)
        audit.record(action="article.archive", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _take_down(locked, actor=actor, reason=reason.strip())  # required when live (rules)
    return locked


def article_flag_review_due(*, article: Article, reason: str, actor: Any = None) -> Article | None:
    """System: a published article needs re-review (interval elapsed, or a cited reference was
    retracted). Still served, flagged review_overdue. Returns None if it was not published."""
    with transaction.atomic():
        locked = Article.objects.select_for_update().get(pk=article.pk)
        if locked.state != ArticleState.PUBLISHED:
            return None
        old = _run(locked, "flag_review_due", actor)
        audit.record(action="article.flag_review_due", obj=locked, actor=actor, article=locked, from_state=old,
                     to_state=locked.state, reason=reason)
        _emit(locked, ChangeEvent.Type.REVIEW_DUE, locked.live_snapshot.revision.content_hash
              if locked.live_snapshot_id else "")
    return locked


# --- assignments and signed decisions -----------------------------------------------------------

ASSIGNABLE_STATES = (ArticleState.SUBMITTED, ArticleState.IN_REVIEW, ArticleState.REVIEW_DUE)


def assignment_create(*, article: Article, actor: Any, reviewer: BoardMember,
                      due_at: dt.datetime | None = None) -> ReviewAssignment:
    """The managing editor asks a board member to review. Refused (naming the rule) for the
    author, a reviewer with an active conflict of interest or an expired licence."""
    if not policies.may_assign(actor, article):
        raise NotPermitted("Only the managing editor assigns reviewers.", rule="may_assign")
    now = timezone.now()
    if due_at is not None and due_at < now:
        raise ContentInvalid({"due_at": ["The due date is in the past."]})
    with transaction.atomic():
        locked = _lock(article)
        if locked.state not in ASSIGNABLE_STATES:
            raise AssignmentRefused(
                f"Reviewers are assigned to submitted articles or articles under review, not to "
                f"'{locked.get_state_display()}'.", rule="state_allows_assignment")
        # The rules judge the stored (verified) facts, never the caller's copy of the member.
        reviewer = BoardMember.objects.select_related("user").get(pk=reviewer.pk)
        refusal = rules.reviewer_refusal(reviewer, locked)
        if refusal is not None:
            raise AssignmentRefused(refusal.message, rule=refusal.rule)
        policy = selectors.policy_for(locked)
        due_at = due_at or now + dt.timedelta(days=policy.assignment_due_days)
        try:
            with transaction.atomic():
                assignment = ReviewAssignment.objects.create(article=locked, reviewer=reviewer, assigned_by=actor,
                                                             due_at=due_at)
        except IntegrityError as exc:
            raise AssignmentRefused(f"{reviewer.printed_name} is already assigned to this article.",
                                    rule="not_already_assigned") from exc
        audit.record(action="assignment.create", obj=assignment, actor=actor, article=locked,
                     data={"reviewer": reviewer.user.get_username(), "due_at": due_at.isoformat()})
    return assignment


def assignment_cancel(*, assignment: ReviewAssignment, actor: Any, reason: str = "") -> ReviewAssignment:
    if not policies.may_assign(actor, assignment.article):
        raise NotPermitted("Only the managing editor cancels assignments.", rule="may_assign")
    with transaction.atomic():
        updated = ReviewAssignment.objects.filter(pk=assignment.pk, status=ReviewAssignment.Status.OPEN).update(
            status=ReviewAssignment.Status.CANCELLED)
        if not updated:
            raise AssignmentRefused("The assignment is no longer open.", rule="assignment_open")
        assignment.refresh_from_db()
        audit.record(action="assignment.cancel", obj=assignment, actor=actor, article=assignment.article,
                     reason=reason)
    return assignment


def review_record(*, assignment: ReviewAssignment, actor: Any, decision: str, password: str,
                  comments: str = "", path: str = signatures.PATHS.OTHER,
                  client_address: str | None = None) -> Review:
    """A board member's signed decision on the revision under review.

    The signer re-enters their password (the signature), checked by
    `signatures.signature_reauthenticate`: a wrong password signs nothing and is audited
    (`signature.failed`, with `path` — admin or api — and `client_address`), and too many of
    them lock signing (`SigningLocked`). The decision that completes the quorum approves the
    article; a request for changes sends it back to its author.
    """
    if not policies.may_review(actor, assignment):
        raise NotPermitted("Only the assigned reviewer can sign this review.", rule="assigned_reviewer")
    signatures.signature_reauthenticate(actor=actor, assignment=assignment, password=password, path=path,
                                        client_address=client_address)
    if decision in ("approve", "approved"):
        decision = Review.Decision.APPROVED
    elif decision in ("request_changes", "changes_requested"):
        decision = Review.Decision.CHANGES_REQUESTED
    else:
        raise ContentInvalid({"decision": [f"Unknown decision '{decision}'; use approve or request_changes."]})
    if decision == Review.Decision.CHANGES_REQUESTED and not comments.strip():
        raise ContentInvalid({"comments": ["Say what needs to change."]})

    with transaction.atomic():
        # The article row lock serializes decisions: two reviewers signing at once are each
        # counted exactly once, and only one of them completes the quorum.
        locked = Article.objects.select_for_update(of=("self",)).select_related("topic", "current_revision").get(
            pk=assignment.article_id)
        assignment = ReviewAssignment.objects.select_for_update(of=("self",)).select_related("reviewer").get(pk=assignment.pk)
        if assignment.status != ReviewAssignment.Status.OPEN:
            raise ReviewRefused("This assignment is no longer open.", rule="assignment_open")
        if locked.state != ArticleState.IN_REVIEW:
            raise ReviewRefused(f"The article is '{locked.get_state_display()}', not under review.",
                                rule="article_in_review")
        cycle = selectors.open_cycle(locked)
        if cycle is None or cycle.revision_id != locked.current_revision_id:
            raise ReviewRefused("No open review of the current revision.", rule="current_revision")
        member = assignment.reviewer
        refusal = rules.reviewer_refusal(member, locked)
        if refusal is not None:
            raise ReviewRefused(refusal.message, rule=refusal.rule)
        revision = locked.current_revision
        now = timezone.now()
        try:
            with transaction.atomic():
                review = Review.objects.create(
                    cycle=cycle, assignment=assignment, article=locked, revision=revision, reviewer=member,
                    decision=decision, comments=comments.strip(),
                    signed_name=member.printed_name, signed_credentials=member.credentials,
                    signed_specialties=[s.name for s in member.specialties.all()],
                    signed_username=actor.get_username(), signed_at=now,
                    meaning=Review.MEANINGS[decision], revision_hash=revision.content_hash,
                )
        except IntegrityError as exc:
            raise ReviewRefused("You have already signed a decision in this review.", rule="one_decision") from exc
        assignment.status = ReviewAssignment.Status.COMPLETED
        assignment.completed_at = now
        assignment.save(update_fields=["status", "completed_at"])
        audit.record(action="review.sign", obj=review, actor=actor, article=locked,
                     data={"decision": decision, "meaning": review.meaning, "signed_name": review.signed_name,
                           "credentials": review.signed_credentials, "revision_hash": review.revision_hash},
                     reason=comments.strip())

        if decision == Review.Decision.CHANGES_REQUESTED:
            _close_cycle(locked, ReviewCycle.Outcome.CHANGES_REQUESTED)
            old = _run(locked, "request_changes", actor)
            audit.record(action="article.request_changes", obj=locked, actor=actor, article=locked,
                         from_state=old, to_state=locked.state, reason=comments.strip())
        elif rules.transition_allowed(locked, "approve"):
            policy = selectors.policy_for(locked)
            old = _run(locked, "approve", None)
            locked.last_reviewed_at = now
            locked.next_review_due = timezone.localdate(now) + dt.timedelta(days=policy.review_interval_days)
            locked.save()
            ReviewCycle.objects.filter(pk=cycle.pk).update(closed_at=now, outcome=ReviewCycle.Outcome.APPROVED)
            approvers = [r.signed_username for r in selectors.approvals_in_cycle(cycle)]
            audit.record(action="article.approve", obj=locked, article=locked, from_state=old,
                         to_state=locked.state, reason="quorum reached",
                         data={"approvers": approvers, "revision": revision.content_hash,
                               "next_review_due": locked.next_review_due.isoformat()})
    return review
