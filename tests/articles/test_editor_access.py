"""Who may use the editor, login throttling, CSRF and the Content-Security-Policy."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    response = client.get("/editor/")
    assert response.status_code == 302
    assert response["Location"].startswith("/editor/login/?next=/editor/")


def test_it_signs_a_writer_in_with_username_and_password(client, writer):
    response = client.post("/editor/login/", {"username": "writer", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/editor/"
    assert client.get("/editor/").status_code == 200


def test_it_lets_the_managing_editor_sign_in_too(client, chief):
    client.post("/editor/login/", {"username": "chief", "password": PASSWORD})
    assert "managing editor" in client.get("/editor/").content.decode()


def test_it_refuses_users_without_an_editorial_role(client, outsider, board):
    client.force_login(outsider)
    assert client.get("/editor/").status_code == 403
    client.force_login(board[0].user)
    response = client.get("/editor/articles/")
    assert response.status_code == 403
    assert "/admin/" in response.content.decode()


def test_it_locks_out_a_username_after_repeated_failures(client, writer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/editor/login/", {"username": "writer", "password": "wrong"})
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    # Even the right password is refused while locked out.
    response = client.post("/editor/login/", {"username": "writer", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/editor/").status_code == 302


def test_it_shows_a_wrong_password_as_a_form_error(client, writer):
    response = client.post("/editor/login/", {"username": "writer", "password": "nope"})
    assert response.status_code == 200
    assert "correct username and password" in response.content.decode()


def test_it_requires_a_csrf_token_on_forms(writer, make_article):
    article = make_article()
    client = Client(enforce_csrf_checks=True)
    client.force_login(writer)
    response = client.post(f"/editor/articles/{article.slug}/transitions/submit/", {})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.state == "draft"


def test_it_sends_a_content_security_policy_without_inline_script(client, writer):
    client.force_login(writer)
    for url in ("/editor/", "/editorial-policy/", "/editor/login/"):
        policy = client.get(url)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert "unsafe" not in policy


def test_it_allows_inline_styles_but_never_inline_script_in_the_admin(client):
    policy = client.get("/admin/login/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["style-src"] == "'self' 'unsafe-inline'"
    assert directives["script-src"] == "'self'"


def test_it_serves_no_inline_script_in_editor_pages(client, writer, make_article):
    article = make_article()
    client.force_login(writer)
    for url in ("/editor/", "/editor/articles/", "/editor/articles/new/", f"/editor/articles/{article.slug}/",
                f"/editor/articles/{article.slug}/edit/", f"/editor/articles/{article.slug}/revisions/"):
        html = client.get(url).content.decode()
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or 'type="application/ld+json"' in tag, (url, tag)
        assert " style=" not in html, url


def test_it_serves_htmx_from_our_own_static_files(client, writer):
    client.force_login(writer)
    html = client.get("/editor/").content.decode()
    assert 'src="/static/vendor/htmx.min.js"' in html
    assert "unpkg" not in html and "cdn" not in html.lower()


def test_it_shows_the_reports_link_to_the_managing_editor_only(client, writer, chief):
    client.force_login(chief)
    assert 'href="/editor/reports/"' in client.get("/editor/").content.decode()
    reports = client.get("/editor/reports/").content.decode()
    assert 'href="/editor/reports/" aria-current="page"' in reports
    client.force_login(writer)
    assert 'href="/editor/reports/"' not in client.get("/editor/").content.decode()
