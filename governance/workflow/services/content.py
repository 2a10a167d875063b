"""A revision's content: validating it, resolving its references (one shared row per DOI, PMID or
identical unidentified reference), the content hash signatures bind to, the stored-content check,
and writing the revision with its frozen citations."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from articles import bibliography, content, passages
from articles.figures import FigureInput
from articles.figures import checks as figure_checks
from articles.figures import processing as figure_processing
from articles.figures.models import Figure, FigureImage
from articles.models import (
    BIBLIOGRAPHIC_FIELDS,
    DETAIL_FIELDS,
    Article,
    Audience,
    AudienceVariant,
    Citation,
    Origin,
    Reference,
    Revision,
    normalize_doi,
)
from governance.workflow import audit
from governance.workflow.exceptions import (
    ContentInvalid,
)

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
    errors = _text_errors(data)
    cited_passages: dict[str, list[dict[str, str]]] = {}
    resolved = _resolve_references(data.references, article, errors, cited_passages)
    keys = [key for key, _, _ in resolved]
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
    return _Prepared(data, resolved, check.numbers, digest, figure_images, cited_passages)


def _text_errors(data: ArticleContent) -> dict[str, list[str]]:
    """Field errors of the title, body, origin and audience versions."""
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
    return errors


def _resolve_references(references: list[dict[str, Any]], article: Article | None, errors: dict[str, list[str]],
                        cited_passages: dict[str, list[dict[str, str]]]) -> list[tuple[str, Reference | None, dict[str, Any]]]:
    """Each given reference as (key, the shared row it is, if any, its fields), its field errors
    added to `errors` and its supporting passages to `cited_passages`: one shared row per DOI
    (ignoring case), PMID, PMCID or identical unidentified reference."""
    most = settings.IMPRIMATUR_MAX_REFERENCES_PER_REVISION
    if len(references) > most:
        # Each reference costs look-ups below: refused before any of them is made.
        raise ContentInvalid({**errors, "references": [
            f"The revision lists {len(references):,} references; the limit is {most:,}."]})
    resolved: list[tuple[str, Reference | None, dict[str, Any]]] = []
    keys: list[str] = []
    for i, raw in enumerate(references):
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
    return resolved


def reference_hash_entry(key: str, number: int, fields: dict[str, Any]) -> dict[str, Any]:
    """One cited reference as the revision hash covers it: its key, its number and every
    bibliographic field shown to readers (cleaned as `_clean_reference` cleans them): every
    reference field a reader is shown is part of the signed text."""
    entry: dict[str, Any] = {"key": key, "number": number}
    for name in REFERENCE_FIELDS:
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
    `mismatch` otherwise (e.g. a citation whose copy was filled in from a shared row corrected
    before copies were kept)."""
    content = ArticleContent(revision.title, revision.summary, revision.body_markdown, revision.origin, [],
                             [VariantInput(v.audience, v.body_markdown, v.summary) for v in variants],
                             [f.as_input() for f in revision.figures.all()])  # prefetched with their images
    ordered = sorted(citations, key=lambda c: c.number)
    entries = [with_passages(reference_hash_entry(c.key, c.number, c.cited), c.passages) for c in ordered]
    return "verified" if revision_hash(content, entries) == revision.content_hash else "mismatch"


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
    """True if `prepared` is the working revision's content."""
    revision = article.current_revision
    return revision is not None and revision.content_hash == prepared.hash
