"""Each citation keeps the bibliographic details its revision was written, hashed and signed with
(`Citation.cited`). A correction of the shared Reference row, made through a later revision,
shows in that revision and the ones after it, never in the earlier ones: their hash still
recomputes from what they store, the dossier shows what the reviewers approved, and the admin's
"exactly as signed" view shows what they read. The retraction status stays the reference's own."""

from __future__ import annotations

import dataclasses
import importlib
import json

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.template.loader import render_to_string
from django.urls import reverse

from articles.models import CORE_FIELDS, Citation, Reference, Revision
from governance.reports import dossier
from governance.workflow import services, snapshots
from governance.workflow.services import ArticleContent, reference_hash_entry, revision_hash
from tests.governance.workflow.test_audit_chain import tampering

pytestmark = pytest.mark.django_db

OLD_TITLE = "SGLT2 inhibitors in heart failure"
NEW_TITLE = "SGLT2 inhibitors in heart failure with reduced ejection fraction"


def stored_hash(revision: Revision) -> str:
    """The revision's hash recomputed from what it stores (its text and its citations' copies)."""
    citations = revision.citations.order_by("number")
    content = ArticleContent(revision.title, revision.summary, revision.body_markdown, revision.origin, [],
                             [services.VariantInput(v.audience, v.body_markdown, v.summary)
                              for v in revision.variants.all()])
    return revision_hash(content, [reference_hash_entry(c.key, c.number, c.cited) for c in citations])


def corrected(article, actor):
    """A new revision of `article` that corrects the title of its first reference."""
    content = services.content_of(article)
    references = [dict(r) for r in content.references]
    references[0]["title"] = NEW_TITLE
    return services.article_edit(article=article, actor=actor, content=dataclasses.replace(content, references=references),
                                 change_note="Full trial title", is_major_change=False)


@pytest.fixture
def published(make_article, drive):
    return drive(make_article(), "published")


def test_a_revision_stores_the_details_it_cites_and_its_hash_recomputes_from_them(published):
    revision = published.current_revision
    [first, second] = revision.citations.select_related("reference").order_by("number")
    assert first.cited == Citation.details_of(first.reference) and first.cited["title"] == OLD_TITLE
    assert second.cited["url"] == "https://www.nice.org.uk/guidance/ng106"
    assert stored_hash(revision) == revision.content_hash


def test_a_correction_through_a_new_revision_leaves_the_approved_revision_as_signed(published, writer, client, chief):
    approved = published.current_revision
    article = corrected(published, writer)
    reference = Reference.objects.get(citations__revision=approved, citations__number=1)
    assert reference.title == NEW_TITLE  # the shared row is corrected...
    newer = article.current_revision
    assert newer.citations.get(number=1).cited["title"] == NEW_TITLE

    # ...and every view of the approved revision still shows what its reviewers read and signed.
    assert approved.citations.get(number=1).cited["title"] == OLD_TITLE
    assert stored_hash(approved) == approved.content_hash != newer.content_hash
    assert stored_hash(newer) == newer.content_hash
    assert snapshots.reference_documents(approved)[0]["title"] == OLD_TITLE
    assert snapshots.reference_documents(newer)[0]["title"] == NEW_TITLE
    built = dossier.build(article)
    titles = {r["number"]: r["citations"][0]["reference"]["title"] for r in built["revisions"]}
    assert titles == {approved.number: OLD_TITLE, newer.number: NEW_TITLE}
    assert {r["content_hash_check"] for r in built["revisions"]} == {"verified"}
    client.force_login(chief)
    page = client.get(reverse("admin:articles_revision_change", args=[approved.pk])).content.decode()
    assert OLD_TITLE + "." in page and NEW_TITLE not in page


def test_the_retraction_status_is_the_references_own_whatever_the_copy(published):
    revision = published.current_revision
    Reference.objects.filter(citations__revision=revision, citations__number=1).update(
        retraction_status=Reference.RetractionStatus.RETRACTED, retraction_notice="Data fabricated")
    first = snapshots.reference_documents(Revision.objects.get(pk=revision.pk))[0]
    assert (first["title"], first["retracted"], first["retraction_status"]) == (OLD_TITLE, True, "retracted")


def test_a_draft_keeps_its_copy_and_its_next_save_picks_up_the_correction(published, make_article, writer, colleague):
    draft = make_article(actor=colleague, title="Heart failure in older adults")  # cites the same trial (DOI)
    draft_revision = draft.current_revision
    corrected(published, writer)

    assert draft_revision.citations.get(number=1).cited["title"] == OLD_TITLE
    assert stored_hash(draft_revision) == draft_revision.content_hash
    # The draft's next save starts from the shared row as it is now: the correction comes in.
    saved = services.article_edit(article=draft, actor=colleague, content=services.content_of(draft),
                                  change_note="Picks up the corrected title")
    assert saved.current_revision.pk != draft_revision.pk
    assert saved.current_revision.citations.get(number=1).cited["title"] == NEW_TITLE


def test_the_migration_fills_the_copies_of_citations_stored_before_it(published):
    migration = importlib.import_module("articles.migrations.0007_citation_cited")
    # As the migration runs: historical models (no immutability guard), before the trigger of 0009.
    historical = MigrationLoader(connection).project_state(("articles", "0007_citation_cited")).apps
    with tampering() as cursor:
        cursor.execute("UPDATE articles_citation SET cited = '{}'")  # as stored before the column
        migration.backfill(historical, type("SchemaEditor", (), {"connection": connection})())

    for citation in Citation.objects.select_related("reference"):
        # 0007 copied the fields there were then; the detail fields (0012) came later.
        details = Citation.details_of(citation.reference)
        assert citation.cited == {name: details[name] for name in CORE_FIELDS}
    assert stored_hash(published.current_revision) == published.current_revision.content_hash


def test_the_dossier_says_when_a_revisions_stored_content_no_longer_hashes_to_its_hash(published):
    """A copy altered behind the services' back (raw SQL, past the immutability trigger as a
    database superuser could) is caught."""
    citation = published.current_revision.citations.get(number=1)
    with tampering() as cursor:
        cursor.execute("UPDATE articles_citation SET cited = %s WHERE id = %s",
                       [json.dumps({**citation.cited, "year": 1999}), citation.pk])

    [revision] = dossier.build(published)["revisions"]
    assert revision["content_hash_check"] == "mismatch"
    html = render_to_string("governance/dossier.html", {"d": dossier._printable(dossier.build(published))})
    assert "RECOMPUTED HASH DOES NOT MATCH" in html
