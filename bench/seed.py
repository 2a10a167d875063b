"""Seed a benchmark database with N published articles.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imprimatur_bench .venv/bin/python bench/seed.py --n 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imprimatur_bench_big .venv/bin/python bench/seed.py --n 100000 --bulk

Every article has a ~3 KB Markdown body citing 10 references (drawn from a pool of 500, so
references are shared between articles as in a real catalogue), and 2 signed approvals (3 for
the AI-assisted third of the catalogue, whose policy needs one more) before it is published.

Service path (the default): each article is walked through `governance.workflow.services` exactly like
`tests/conftest.py`'s `drive`: article_create → article_submit → assignment_create (k times) →
article_start_review → review_record (k times) (the quorum approves) → article_publish. Slow (every step
locks, checks its rules, audits), so 2,000 articles take minutes.

Bulk path (`--bulk`, for the 100,000-article sweep): the first TEMPLATES articles go through the
services as above; every other article is a clone of one of them written with bulk_create in
batches: the same rows the services write (Article, Revision, Citation, ReviewAssignment,
ReviewCycle, Review, PublishedSnapshot, AuditEvent, ChangeEvent), with its own slug, title,
content hash, ETag, JSON-LD and timestamps. The snapshot document is the template's (built by
`governance.workflow.snapshots.build` when the template was published) with the per-article fields
replaced. Audit events are appended per batch under the chain lock with the same hash chain
`audit.record` computes, so `manage.py verify_audit` still proves the chain intact.

Both paths are idempotent: articles are numbered `bench-000001`…, and a rerun adds only the
missing ones. Bench users sign with a fast password hasher (signing re-checks a password; PBKDF2's
deliberate slowness is not what is being measured): never point this at a real database.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_PASSWORD = "bench-signature-password"
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SLUG_PREFIX = "bench-"
REFERENCE_POOL = 500
REFERENCES_PER_ARTICLE = 10
TEMPLATES = 24  # a multiple of 6 topics and 3 origins, so clone i keeps the topic and origin of article i
BATCH = 500

TOPICS = [
    ("heart-health", "Heart health", "heart failure"),
    ("diabetes", "Diabetes", "type 2 diabetes"),
    ("mental-health", "Mental health", "depression"),
    ("lungs-and-breathing", "Lungs and breathing", "asthma"),
    ("skin", "Skin", "atopic eczema"),
    ("childrens-health", "Children's health", "fever in young children"),
]
BOARD = [
    ("bench-reviewer-1", "Dr Ada Okafor", "MD, FRCP", "cardiology", "Cardiology"),
    ("bench-reviewer-2", "Dr Lena Lindqvist", "MD", "general-practice", "General practice"),
    ("bench-reviewer-3", "Dr Tomás Ferreira", "MBBS, MRCP", "endocrinology", "Endocrinology"),
    ("bench-reviewer-4", "Dr Priya Raman", "MD, MRCPsych", "psychiatry", "Psychiatry"),
    ("bench-reviewer-5", "Dr Jonah Weiss", "MD", "respiratory-medicine", "Respiratory medicine"),
    ("bench-reviewer-6", "Dr Mei Tanaka", "MBChB, FRCPCH", "paediatrics", "Paediatrics"),
]
ANGLES = [
    ("Living with {c}", "Day-to-day life with {c}: treatment, self-care and when to get help."),
    ("Understanding {c}", "What {c} is, what causes it and how it is diagnosed."),
    ("Treatments for {c}", "The treatments recommended for {c}, what they do and their side effects."),
    ("{C}: when to see a doctor", "Warning signs of {c} that need a doctor, and what to expect."),
    ("Caring for someone with {c}", "How carers can help someone with {c}, and look after themselves."),
    ("{C} and everyday activity", "Exercise, work and travel with {c}."),
    ("Medicines for {c}", "How the medicines used for {c} work and how to take them safely."),
    ("Myths about {c}", "Common beliefs about {c} checked against the evidence."),
]
# Ten paragraphs; paragraph j cites reference j (and a few cite a second one), so every
# reference is cited and numbered in order of first citation.
PARAGRAPHS = [
    "Most people first hear about {c} from a doctor or nurse after a check-up, a blood test or a "
    "hospital visit. Knowing what is happening in the body makes the advice that follows easier to "
    "act on, and large studies show that people who understand their condition keep up with "
    "treatment for longer [@{r0}].",
    "The diagnosis rests on the history, an examination and a small number of tests chosen for the "
    "person in front of the clinician. National guidance sets out which tests to offer first and "
    "when to refer to a specialist, so that nobody waits longer than they should [@{r1}].",
    "Treatment usually combines medicines, changes to daily routine and regular review. No single "
    "element works as well on its own as the combination does, and trials that compared them found "
    "the largest benefit when all three were in place [@{r2}; @{r0}].",
    "Medicines are started at a low dose and increased step by step while side effects are watched. "
    "Some side effects settle within a few weeks; others are a reason to change to a different "
    "medicine, which is why the first months include more appointments than later ones [@{r3}].",
    "Physical activity helps almost everyone with {c}, but the right amount differs from person to "
    "person. A structured programme supervised at first and continued at home improved symptoms "
    "and quality of life in a systematic review of randomised trials [@{r4}].",
    "Food matters too. There is no special diet that cures {c}, yet a varied diet with plenty of "
    "vegetables, enough fibre and less salt and sugar supports the treatment, and a dietitian can "
    "turn general advice into a plan that fits a person's culture and budget [@{r5}].",
    "Some symptoms need help the same day: sudden breathlessness, chest pain, confusion, a high "
    "temperature that does not come down, or signs of dehydration. Written action plans, agreed in "
    "advance, reduce emergency admissions and help people decide when to call [@{r6}; @{r1}].",
    "Living with a long-term condition affects mood, sleep and relationships. Low mood is common and "
    "treatable, and asking about it is part of good care; talking therapies and peer support "
    "groups both have evidence behind them [@{r7}].",
    "Regulators publish safety information about medicines and devices, including interactions and "
    "warnings for pregnancy, older age and kidney or liver disease. A pharmacist can check a full "
    "list of medicines, including those bought without a prescription [@{r8}].",
    "Reliable information helps people take part in decisions about their care. Patient "
    "organisations and public health services publish plain-language guides and keep them up to "
    "date; bring questions to the next appointment and ask for a copy of the care plan [@{r9}].",
]
KINDS = ["research", "guideline", "systematic_review", "review", "research", "case_report", "textbook",
         "regulatory", "website", "research"]
SURNAMES = ["Okafor", "Lindqvist", "Ferreira", "Raman", "Weiss", "Tanaka", "Novak", "Haddad", "Moreau",
            "Kowalski", "Mensah", "Olsen", "Castillo", "Ahmed", "Brennan", "Sato", "Keller", "Dubois"]
JOURNALS = ["N Engl J Med", "Lancet", "BMJ", "JAMA", "Ann Intern Med", "Eur Heart J", "Diabetes Care",
            "Thorax", "Br J Dermatol", "Arch Dis Child", "Cochrane Database Syst Rev", "BMJ Open"]
SUBJECTS = ["self-management education", "first-line treatment", "combined therapy", "dose titration",
            "supervised exercise", "dietary advice", "written action plans", "psychological support",
            "medicine safety", "patient information"]


def reference_for(idx: int) -> dict[str, Any]:
    """The pool's reference number `idx`: deterministic, with a DOI unique to the pool."""
    kind = KINDS[idx % len(KINDS)]
    authors = [f"{SURNAMES[(idx * 3 + a) % len(SURNAMES)]} {'ABCDEFGHJK'[(idx + a) % 10]}{'LMNPR'[a % 5]}"
               for a in range(1 + idx % 4)]
    ref: dict[str, Any] = {
        "kind": kind,
        "title": f"{SUBJECTS[idx % len(SUBJECTS)].capitalize()} in adults and children: study {idx + 1}",
        "authors": authors,
        "container": JOURNALS[idx % len(JOURNALS)],
        "year": 2005 + idx % 20,
        "doi": f"10.5555/bench.{idx:05d}",
    }
    if kind in ("guideline", "website", "regulatory"):
        ref["authors"] = ["National Institute for Health and Care Excellence"] if kind == "guideline" else []
        ref["url"] = f"https://example.org/guidance/bench-{idx:05d}"
    else:
        ref["pmid"] = str(30_000_000 + idx)
    return ref


def pool_indices(i: int) -> list[int]:
    """The ten pool references article `i` cites (53 is coprime with the pool size: all distinct)."""
    return [(i * 7 + j * 53) % REFERENCE_POOL for j in range(REFERENCES_PER_ARTICLE)]


def topic_of(i: int) -> tuple[str, str, str]:
    return TOPICS[i % len(TOPICS)]


def title_of(i: int) -> tuple[str, str]:
    condition = topic_of(i)[2]
    title, summary = ANGLES[(i // len(TOPICS)) % len(ANGLES)]
    values = {"c": condition, "C": condition[0].upper() + condition[1:]}
    return title.format(**values), summary.format(**values)


def origin_of(i: int) -> str:
    return "ai_assisted" if i % 3 == 2 else "human"


def slug_of(i: int) -> str:
    return f"{SLUG_PREFIX}{i:06d}"


def body_of(i: int) -> str:
    """A ~3 KB Markdown body citing its ten references; paragraph order varies with `i`."""
    condition = topic_of(i)[2]
    keys = {f"r{j}": f"ref{j + 1}" for j in range(REFERENCES_PER_ARTICLE)}
    paragraphs = [p.format(c=condition, **keys) for p in PARAGRAPHS]
    shift = i % 3  # keep the first citation of each reference in paragraph order after the intro
    heads = ["## What it is", "## Diagnosis", "## Treatment", "## Living with it", "## Getting help"]
    parts = []
    for n, paragraph in enumerate(paragraphs):
        if n % 2 == 0:
            parts.append(heads[n // 2])
        parts.append(paragraph)
        if shift and n == 4:
            parts.append(f"Everyone's situation is different: ask your care team how this applies to "
                         f"you, and what {condition} means for the plans you are making.")
    return "\n\n".join(parts) + "\n"


def content_of(i: int):
    from governance.workflow.services import ArticleContent

    title, summary = title_of(i)
    references = [{"key": f"ref{j + 1}", **reference_for(idx)} for j, idx in enumerate(pool_indices(i))]
    return ArticleContent(title=title, summary=summary, body_markdown=body_of(i), origin=origin_of(i),
                          references=references)


# --- the cast -----------------------------------------------------------------------------------

@dataclass
class Cast:
    writer: Any
    chief: Any
    board: list[Any]  # BoardMember, with .user
    topics: dict[str, Any]  # slug → Topic


@contextlib.contextmanager
def bench_settings(*, eager: bool = True) -> Iterator[None]:
    """Fast signatures, mail kept in memory, and (eager) Celery tasks run in-process, so seeding
    needs no broker or worker."""
    from django.test.utils import override_settings

    from config.celery import app

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = eager
    try:
        with override_settings(PASSWORD_HASHERS=FAST_HASHERS,
                               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            yield
    finally:
        app.conf.task_always_eager = was_eager


def ensure_cast() -> Cast:
    """The bench's writer, managing editor, six board members and six topics (idempotent)."""
    from django.contrib.auth.models import Group, User

    from articles.models import Topic
    from governance.workflow import configuration
    from reviewers.models import BoardMember, Specialty

    def user(username: str, group: str | None, **extra: Any) -> User:
        obj, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org",
                                                                               **extra})
        if created:
            obj.set_password(BENCH_PASSWORD)
            obj.save()
            if group:
                obj.groups.add(Group.objects.get(name=group))
        return obj

    writer = user("bench-writer", "Writers", first_name="Bench", last_name="Writer")
    chief = user("bench-chief", "Managing editors", first_name="Bench", last_name="Chief", is_staff=True)
    board = []
    for username, printed, credentials, spec_slug, spec_name in BOARD:
        member_user = user(username, None, is_staff=True)
        specialty = Specialty.objects.filter(slug=spec_slug).first() or configuration.specialty_create(
            actor=chief, fields={"slug": spec_slug, "name": spec_name})
        member, created = BoardMember.objects.get_or_create(user=member_user, defaults={
            "printed_name": printed, "credentials": credentials, "affiliation": "Bench General Hospital",
            "licence_number": f"BENCH{len(board) + 1:04d}", "licence_jurisdiction": "GMC (UK)",
            "licence_expires_on": dt.date.today() + dt.timedelta(days=5 * 365)})
        if created:
            member.specialties.add(specialty)
        if member.credentials_verified_at is None:  # verified by someone else, as every member is
            from governance.workflow import credentials

            credentials.credentials_record(actor=chief, member=member, note="Bench board member (fictional).")
        board.append(BoardMember.objects.select_related("user").get(pk=member.pk))
    topics = {}
    for slug, name, _ in TOPICS:
        topics[slug] = Topic.objects.filter(slug=slug).first() or configuration.topic_create(
            actor=chief, fields={"slug": slug, "name": name})
    return Cast(writer, chief, board, topics)


def reviewers_of(cast: Cast, i: int) -> list[Any]:
    k = 3 if origin_of(i) == "ai_assisted" else 2
    return [cast.board[(i + j) % len(cast.board)] for j in range(k)]


# --- the service path ---------------------------------------------------------------------------

def publish_through_services(cast: Cast, i: int, *, publish: bool = True, slug: str | None = None):
    """Article `i`, walked through the real services (as tests/conftest.py's `drive` does).
    With publish=False it stops at `approved` (the webhook sweep publishes it itself)."""
    from governance.workflow import services

    article = services.article_create(actor=cast.writer, topic=cast.topics[topic_of(i)[0]], content=content_of(i),
                                      slug=slug or slug_of(i))
    article = services.article_submit(article=article, actor=cast.writer)
    assignments = [services.assignment_create(article=article, actor=cast.chief, reviewer=member)
                   for member in reviewers_of(cast, i)]
    article = services.article_start_review(article=article, actor=cast.chief)
    for assignment in assignments:
        services.review_record(assignment=assignment, actor=assignment.reviewer.user, decision="approve",
                               password=BENCH_PASSWORD)
    article.refresh_from_db()
    if publish:
        article = services.article_publish(article=article, actor=cast.chief)
    return article


# --- the bulk path ------------------------------------------------------------------------------

@dataclass
class Template:
    article: Any
    revision: Any
    citations: list[Any]
    reviewers: list[Any]
    document: dict[str, Any]
    reference_hash_part: list[dict[str, Any]]
    interval_days: int
    due_days: int
    newest_reference_year: int | None


def load_template(cast: Cast, i: int) -> Template:
    from articles.models import Article, Citation
    from governance.workflow import selectors

    article = Article.objects.select_related("topic", "current_revision", "live_snapshot").get(slug=slug_of(i))
    revision = article.current_revision
    citations = list(revision.citations.select_related("reference").order_by("number"))
    policy = selectors.policy_for(article)
    from governance.workflow.services import reference_hash_entry

    hash_part = [reference_hash_entry(c.key, c.number, Citation.details_of(c.reference))
                 for c in citations]
    return Template(article, revision, citations, reviewers_of(cast, i), article.live_snapshot.document,
                    hash_part, policy.review_interval_days, policy.assignment_due_days,
                    max((c.reference.year for c in citations if c.reference.year), default=None))


class _Rows:
    """Rows for one table, written in one go: COPY on PostgreSQL (Django 5.2's bulk_create
    escapes text arrays for UNNEST in Python, which is slow for 3 KB bodies), executemany
    elsewhere. Fields not given take the model field's default, so a field added later with a
    default does not break the seed."""

    def __init__(self, model: Any, *, db_pk: bool = False) -> None:
        from django.db.models import JSONField

        self.model = model
        # db_pk: the database numbers the rows (their keys are never referred to here)
        self.fields = [f for f in model._meta.concrete_fields if not (db_pk and f.primary_key)]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.json = [isinstance(f, JSONField) for f in self.fields]
        self.rows: list[list[Any]] = []

    def add(self, **values: Any) -> None:
        self.rows.append([values[f.attname] if f.attname in values else self.defaults[f.attname]
                          for f in self.fields])

    def write(self) -> None:
        from django.db import connection

        if not self.rows:
            return
        table = connection.ops.quote_name(self.model._meta.db_table)
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in self.rows:
                        copy.write_row([json.dumps(v) if is_json else v
                                        for v, is_json in zip(row, self.json, strict=True)])
            else:
                placeholders = ", ".join(["%s"] * len(self.fields))
                cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({placeholders})", [
                    [f.get_db_prep_save(v, connection) for f, v in zip(self.fields, row, strict=True)]
                    for row in self.rows])
        self.rows = []


class _Audit:
    """Audit events as `governance.workflow.audit.record` writes them (seq and hash set by `chain`)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def add(self, *, action: str, object_type: str, object_id: int, object_repr: str, actor: Any, article_id: int,
            slug: str, at: dt.datetime, from_state: str = "", to_state: str = "", reason: str = "",
            data: dict[str, Any] | None = None) -> None:
        self.events.append({
            "at": at, "actor_id": actor.pk if actor else None,
            "actor_username": actor.get_username() if actor else "system", "action": action,
            "object_type": object_type, "object_id": str(object_id), "object_repr": object_repr[:300],
            "article_id": article_id, "article_slug": slug, "from_state": from_state, "to_state": to_state,
            "reason": reason, "data": json.loads(json.dumps(data or {}, default=str)),
        })

    def chain(self, rows: _Rows, head: Any) -> tuple[int, str]:
        """Number and link the events after the chain head; returns the new (last_seq, last_hash)."""
        from types import SimpleNamespace

        from governance.workflow import audit

        seq, prev_hash = head.last_seq, head.last_hash
        for event in self.events:
            seq += 1
            event["seq"] = seq
            event["prev_hash"] = prev_hash
            event["hash"] = prev_hash = audit.event_hash(SimpleNamespace(**event), prev_hash)
            rows.add(**event)
        return seq, prev_hash


def bulk_clone(cast: Cast, templates: list[Template], indices: list[int]) -> None:
    """Write articles `indices` as clones of the templates, in one transaction holding the audit
    chain lock (so the chain stays linear even if someone else writes meanwhile)."""
    from django.db import transaction
    from django.utils import timezone

    from articles import content, search
    from articles.models import Article, ArticleState, Citation, PublishedSnapshot, Revision, rendered_snapshot
    from governance.background import bulk
    from governance.models import AuditChainHead, AuditEvent, ChangeEvent
    from governance.workflow import audit, snapshots
    from reviewers.models import Review, ReviewAssignment, ReviewCycle

    S = ArticleState
    label = {m: m._meta.label_lower for m in (Article, Revision, ReviewAssignment, Review)}
    specialties = {m.pk: [s.name for s in m.specialties.all()] for m in cast.board}
    approved_meaning = Review.MEANINGS[Review.Decision.APPROVED]
    tables = {m: _Rows(m, db_pk=m in (Citation, AuditEvent, ChangeEvent))
              for m in (Article, Revision, Citation, ReviewCycle, ReviewAssignment, Review, PublishedSnapshot,
                        AuditEvent, ChangeEvent)}
    events = _Audit()
    snapshot_ids: list[int] = []
    with transaction.atomic():
        head = audit.lock_chain()
        now = timezone.now()
        stamp = now.isoformat()
        today = timezone.localdate(now)
        n = len(indices)
        per = [len(templates[i % len(templates)].reviewers) for i in indices]
        ids = {m: iter(bulk.allocate_ids(m, k)) for m, k in (
            (Article, n), (Revision, n), (ReviewCycle, n), (PublishedSnapshot, n),
            (ReviewAssignment, sum(per)), (Review, sum(per)))}
        for i in indices:
            t = templates[i % len(templates)]
            rev = t.revision
            slug, (title, summary) = slug_of(i), title_of(i)
            digest = content.content_hash({
                "title": title, "summary": summary, "body_markdown": rev.body_markdown, "origin": rev.origin,
                "variants": [], "references": t.reference_hash_part,
            })
            article_id, revision_id, cycle_id, snapshot_id = (next(ids[m]) for m in (
                Article, Revision, ReviewCycle, PublishedSnapshot))
            snapshot_ids.append(snapshot_id)
            due = today + dt.timedelta(days=t.interval_days)
            assignment_due = now + dt.timedelta(days=t.due_days)

            doc = {**t.document, "slug": slug, "title": title, "summary": summary,
                   "url": snapshots.article_api_url(slug), "page_url": snapshots.article_page_url(slug),
                   "revision": digest, "last_reviewed_at": stamp, "next_review_due": due.isoformat(),
                   "published_at": stamp, "updated_at": stamp, "related": [],
                   "change_history": [{"at": stamp, "note": rev.change_note or "Published"}],
                   "reviewed_by": [{**r, "signed_at": stamp} for r in t.document["reviewed_by"]]}
            etag = snapshots.etag_for([doc, {}])
            topic_name = doc.get("topic_name") or t.article.topic.name

            tables[Article].add(
                id=article_id, slug=slug, title=title, topic_id=t.article.topic_id, risk_tier=t.article.risk_tier,
                origin=rev.origin, state=S.PUBLISHED, created_by_id=cast.writer.pk, current_revision_id=revision_id,
                live_snapshot_id=snapshot_id, last_reviewed_at=now, next_review_due=due, first_published_at=now,
                created_at=now, updated_at=now)
            tables[Revision].add(
                id=revision_id, article_id=article_id, number=1, title=title, summary=summary,
                body_markdown=rev.body_markdown, body_html=rev.body_html, origin=rev.origin,
                change_note=rev.change_note, is_major_change=rev.is_major_change, content_hash=digest,
                created_by_id=cast.writer.pk, created_at=now)
            for c in t.citations:
                tables[Citation].add(revision_id=revision_id, reference_id=c.reference_id, key=c.key, number=c.number,
                                     cited=c.cited)
            tables[ReviewCycle].add(id=cycle_id, article_id=article_id, revision_id=revision_id,
                                    approvals_required=len(t.reviewers), opened_at=now, closed_at=now,
                                    outcome=ReviewCycle.Outcome.APPROVED)
            jsonld = {"general": snapshots.jsonld_document(doc, topic_name)}
            tables[PublishedSnapshot].add(
                id=snapshot_id, article_id=article_id, revision_id=revision_id, document=doc, variant_documents={},
                jsonld=jsonld, etag=etag, published_at=now, published_by_id=cast.chief.pk, last_reviewed_at=now,
                next_review_due=due, newest_reference_year=t.newest_reference_year,
                search_text=search.search_text_of(doc, {}), **rendered_snapshot(doc, {}, jsonld))
            tables[ChangeEvent].add(type=ChangeEvent.Type.PUBLISHED, article_id=article_id, slug=slug,
                                    revision=digest, at=now,
                                    entry_json=ChangeEvent.public_entry(type=ChangeEvent.Type.PUBLISHED, slug=slug,
                                                                        at=now, revision=digest))

            # The audit events, in the order the services write them for one article.
            common = {"article_id": article_id, "slug": slug, "at": now}
            events.add(action="article.create", object_type=label[Article], object_id=article_id, object_repr=title,
                       actor=cast.writer, to_state=S.DRAFT, **common)
            events.add(action="revision.create", object_type=label[Revision], object_id=revision_id,
                       object_repr=f"{slug} r1 ({digest[:10]})", actor=cast.writer, **common,
                       data={"number": 1, "content_hash": digest, "change_note": rev.change_note,
                             "major": rev.is_major_change})
            events.add(action="article.submit", object_type=label[Article], object_id=article_id, object_repr=title,
                       actor=cast.writer, from_state=S.DRAFT, to_state=S.SUBMITTED, data={"revision": digest},
                       **common)
            pairs = []
            for member in t.reviewers:
                assignment_id = next(ids[ReviewAssignment])
                pairs.append((member, assignment_id))
                tables[ReviewAssignment].add(
                    id=assignment_id, article_id=article_id, reviewer_id=member.pk, assigned_by_id=cast.chief.pk,
                    assigned_at=now, due_at=assignment_due, status=ReviewAssignment.Status.COMPLETED,
                    completed_at=now)
                events.add(action="assignment.create", object_type=label[ReviewAssignment], object_id=assignment_id,
                           object_repr=f"{member.printed_name} → {slug} (due {assignment_due:%Y-%m-%d})",
                           actor=cast.chief, data={"reviewer": member.user.get_username(),
                                                   "due_at": assignment_due.isoformat()}, **common)
            events.add(action="article.start_review", object_type=label[Article], object_id=article_id,
                       object_repr=title, actor=cast.chief, from_state=S.SUBMITTED, to_state=S.IN_REVIEW,
                       data={"revision": digest, "approvals_required": len(t.reviewers), "required_specialties": []},
                       **common)
            for member, assignment_id in pairs:
                review_id = next(ids[Review])
                tables[Review].add(
                    id=review_id, cycle_id=cycle_id, assignment_id=assignment_id, article_id=article_id,
                    revision_id=revision_id, reviewer_id=member.pk, decision=Review.Decision.APPROVED, comments="",
                    signed_name=member.printed_name, signed_credentials=member.credentials,
                    signed_specialties=specialties[member.pk], signed_username=member.user.get_username(),
                    signed_at=now, meaning=approved_meaning, revision_hash=digest, void_reason="")
                events.add(action="review.sign", object_type=label[Review], object_id=review_id,
                           object_repr=f"{member.printed_name}: {approved_meaning} ({digest[:10]})",
                           actor=member.user, **common,
                           data={"decision": Review.Decision.APPROVED, "meaning": approved_meaning,
                                 "signed_name": member.printed_name, "credentials": member.credentials,
                                 "revision_hash": digest})
            events.add(action="article.approve", object_type=label[Article], object_id=article_id, object_repr=title,
                       actor=None, from_state=S.IN_REVIEW, to_state=S.APPROVED, reason="quorum reached",
                       data={"approvers": [m.user.get_username() for m in t.reviewers], "revision": digest,
                             "next_review_due": due.isoformat()}, **common)
            events.add(action="article.publish", object_type=label[Article], object_id=article_id, object_repr=title,
                       actor=cast.chief, from_state=S.APPROVED, to_state=S.PUBLISHED,
                       data={"revision": digest, "etag": etag, "snapshot": snapshot_id}, **common)

        last_seq, last_hash = events.chain(tables[AuditEvent], head)
        for rows in tables.values():
            rows.write()
        search.index_snapshots(snapshot_ids)  # the search vectors, as snapshots.create builds them
        AuditChainHead.objects.filter(pk=1).update(last_seq=last_seq, last_hash=last_hash)


# --- entry point --------------------------------------------------------------------------------

def existing_indices() -> set[int]:
    from articles.models import Article

    found = set()
    for slug in Article.objects.filter(slug__startswith=SLUG_PREFIX).values_list("slug", flat=True):
        suffix = slug[len(SLUG_PREFIX):]
        if suffix.isdigit():
            found.add(int(suffix))
    return found


def seed(n: int, *, bulk: bool = False, progress: bool = True, batch: int = BATCH,
         templates: int = TEMPLATES) -> dict[str, Any]:
    """Make sure articles bench-000000 … bench-{n-1} exist and are published; returns counts.
    `templates` (bulk path) must be a multiple of 6 so that clones keep their topic and origin."""
    if templates % 6:
        raise ValueError("templates must be a multiple of 6 (topics) and 3 (origins)")
    from tqdm import tqdm

    started = time.perf_counter()
    with bench_settings():
        cast = ensure_cast()
        have = existing_indices()
        missing = [i for i in range(n) if i not in have]
        by_service = missing if not bulk else [i for i in missing if i < min(n, templates)]
        with tqdm(total=len(missing), desc="seeding", unit="article", disable=not progress) as bar:
            for i in by_service:
                publish_through_services(cast, i)
                bar.update(1)
            cloned = [i for i in missing if i not in set(by_service)]
            if cloned:
                models = [load_template(cast, t) for t in range(min(n, templates))]
                for start in range(0, len(cloned), batch):
                    chunk = cloned[start:start + batch]
                    bulk_clone(cast, models, chunk)
                    bar.update(len(chunk))
    return {"requested": n, "existed": len(have & set(range(n))), "through_services": len(by_service),
            "bulk": len(missing) - len(by_service), "seconds": round(time.perf_counter() - started, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="published articles wanted (default 2,000)")
    parser.add_argument("--bulk", action="store_true",
                        help=f"clone all but the first {TEMPLATES} articles with bulk_create (for --n 100000)")
    parser.add_argument("--batch", type=int, default=BATCH, help="articles per bulk transaction")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection

    if connection.vendor != "postgresql":
        print(f"note: seeding {connection.vendor}; the benchmarks expect PostgreSQL (set DATABASE_URL)", file=sys.stderr)
    result = seed(args.n, bulk=args.bulk, progress=not args.no_progress, batch=args.batch)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
