"""The edit form changes an article's related articles (`services.article_set_related`, called only
when the selection changed), keeps the selection when it comes back with errors, and the live
page lists the new related articles at once."""

from __future__ import annotations

import pytest
from django.db import connection

from articles.models import Article, PublishedSnapshot
from governance.models import AuditEvent
from governance.workflow import services

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio(make_article, drive):
    a = drive(make_article(title="Living with heart failure"), "published")
    b = drive(make_article(title="Heart failure medicines"), "published")
    c = drive(make_article(title="Salt and heart failure"), "published")
    return a, b, c


def edit_data(client, article, **overrides):
    """The edit form as the editor's browser posts it back unchanged (from the page as served), plus `overrides`."""
    context = client.get(f"/editor/articles/{article.slug}/edit/").context
    data = {}
    for form in (context["form"], context["formset"].management_form, *context["formset"].forms):
        for name in form.fields:
            if name in ("ris_file", "DELETE"):
                continue
            value = form[name].value()
            data[form.add_prefix(name)] = ([str(v) for v in value] if isinstance(value, list)
                                           else "" if value is None else str(value))
    data["action"] = "save"
    data.update(overrides)
    return data


def test_it_offers_the_current_links_selected_and_never_the_article_itself(client, writer, trio):
    a, b, c = trio
    services.article_set_related(article=a, actor=writer, related=[b])
    client.force_login(writer)

    response = client.get(f"/editor/articles/{a.slug}/edit/")

    html = response.content.decode()
    assert f'<option value="{b.pk}" selected>' in html
    assert f'<option value="{c.pk}">' in html
    assert f'<option value="{a.pk}"' not in html


def test_it_changes_the_related_articles_without_a_new_revision(client, writer, trio, topic):
    a, b, c = trio
    services.article_set_related(article=a, actor=writer, related=[b])
    revision = a.current_revision_id
    client.force_login(writer)

    response = client.post(f"/editor/articles/{a.slug}/edit/", edit_data(client, a, related=[str(c.pk)]))

    assert response.status_code == 302
    a = Article.objects.get(pk=a.pk)
    assert list(a.related.all()) == [c]
    assert a.current_revision_id == revision and a.state == "published"  # links are not reviewed text
    document = PublishedSnapshot.objects.get(pk=a.live_snapshot_id).document
    assert [r["slug"] for r in document["related"]] == [c.slug]
    followed = client.get(response["Location"]).content.decode()
    assert "Related articles changed; the live page lists them now." in followed
    assert "article.set_related" in followed  # the audit timeline, with its readable label
    page = client.get(f"/articles/{a.slug}/").content.decode()
    assert "Salt and heart failure" in page and "Heart failure medicines" not in page


def test_it_does_not_call_the_service_when_the_selection_is_unchanged(client, writer, trio, topic):
    a, b, _ = trio
    services.article_set_related(article=a, actor=writer, related=[b])
    client.force_login(writer)

    response = client.post(f"/editor/articles/{a.slug}/edit/", edit_data(client, a, related=[str(b.pk)]))

    assert response.status_code == 302
    assert AuditEvent.objects.filter(article_id=a.pk, action="article.set_related").count() == 1
    assert "Nothing changed" in client.get(response["Location"]).content.decode()


def test_it_saves_a_text_edit_and_the_links_together(client, writer, trio, topic):
    a, b, _ = trio
    client.force_login(writer)

    client.post(f"/editor/articles/{a.slug}/edit/",
                edit_data(client, a, title="Living well with heart failure", related=[str(b.pk)]))

    a = Article.objects.get(pk=a.pk)
    assert a.title == "Living well with heart failure" and a.state == "draft"
    assert list(a.related.all()) == [b]


def test_it_keeps_the_selection_when_the_form_comes_back_with_errors(client, writer, trio, topic):
    a, b, c = trio
    client.force_login(writer)

    response = client.post(f"/editor/articles/{a.slug}/edit/",
                           edit_data(client, a, body_markdown="Cites [@missing2020].", related=[str(b.pk), str(c.pk)]))

    assert response.status_code == 200
    html = response.content.decode()
    for article in (b, c):
        assert f'<option value="{article.pk}" selected>' in html
    assert list(Article.objects.get(pk=a.pk).related.all()) == []


def test_it_keeps_the_selection_when_adding_a_reference_row(client, writer, trio, topic):
    a, b, c = trio
    client.force_login(writer)

    response = client.post(f"/editor/articles/{a.slug}/edit/",
                           edit_data(client, a, action="add_reference", related=[str(c.pk)]))

    html = response.content.decode()
    assert f'<option value="{c.pk}" selected>' in html and f'<option value="{b.pk}">' in html


def test_it_no_longer_offers_an_article_withdrawn_meanwhile(client, writer, chief, trio, topic):
    a, b, _ = trio
    client.force_login(writer)
    services.article_withdraw(article=b, actor=chief, reason="Superseded")

    response = client.post(f"/editor/articles/{a.slug}/edit/", edit_data(client, a, related=[str(b.pk)]))

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert list(Article.objects.get(pk=a.pk).related.all()) == []


def test_it_puts_a_refusal_on_the_page_and_rolls_back_the_text_edit(client, writer, chief, trio, topic):
    """The form offered `b` while it was live; the managing editor withdraws it while the edit is
    being saved (after the form checked it, before the links are written): the real service
    refuses the link (`related_must_be_live`) and the text edit rolls back with it."""
    a, b, _ = trio
    client.force_login(writer)
    data = edit_data(client, a, title="Living well with heart failure", related=[str(b.pk)])
    meanwhile = {"revision_saved": False, "withdrawn": None}

    def withdraw_b_meanwhile(execute, sql, params, many, context):
        # At the statement after the new revision's INSERT (SQLite: once that one has finished).
        if meanwhile["revision_saved"] and meanwhile["withdrawn"] is None:
            meanwhile["withdrawn"] = "running"  # its own statements pass through here too
            meanwhile["withdrawn"] = services.article_withdraw(article=Article.objects.get(pk=b.pk), actor=chief,
                                                               reason="Superseded by new guidance.")
        result = execute(sql, params, many, context)
        meanwhile["revision_saved"] |= sql.startswith('INSERT INTO "articles_revision"')
        return result

    with connection.execute_wrapper(withdraw_b_meanwhile):
        response = client.post(f"/editor/articles/{a.slug}/edit/", data)

    assert meanwhile["withdrawn"].live_snapshot_id is None  # b was gone when the links were written
    assert response.status_code == 200
    assert "(rule: related_must_be_live)" in response.content.decode()
    a = Article.objects.get(pk=a.pk)
    assert a.title == "Living with heart failure" and a.state == "published"  # the text edit rolled back too
    assert a.revisions.count() == 1
    assert list(a.related.all()) == []
    assert not AuditEvent.objects.filter(action="article.set_related").exists()


def test_a_live_article_posted_back_unchanged_as_a_browser_sends_it_stays_live(client, writer, trio):
    """A browser submits a textarea with CRLF line ends; the body stored through the API or the
    demo data has LF and ends with a newline. Saved unchanged, it must match its revision: no new
    revision, no return to draft."""
    a, _, _ = trio
    assert a.current_revision.body_markdown.endswith("\n") and "\r" not in a.current_revision.body_markdown
    client.force_login(writer)
    data = edit_data(client, a)
    data["body_markdown"] = data["body_markdown"].replace("\n", "\r\n")

    response = client.post(f"/editor/articles/{a.slug}/edit/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    a.refresh_from_db()
    assert (a.state, a.revisions.count()) == ("published", 1)
