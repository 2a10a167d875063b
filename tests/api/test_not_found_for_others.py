"""Another user's object answers like a missing one: probing every editor-UI URL and editorial-API
route that names an object, as another writer (`colleague`), a user with no role (`outsider`) and
a board member not assigned to it, gives the same status as for an object that does not exist
(404 for whoever may use the face at all), never a 403 that tells it exists. A user who *may see*
the object but not run the action still gets 403 naming the rule."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from reviewers.models import ReviewAssignment

MISSING_SLUG = "no-such-article"
MISSING_ID = 999_999

# (face, method, path template, body). {slug} is the article, {assignment} an assignment on it.
ROUTES = [
    ("ui", "get", "/editor/articles/{slug}/", None),
    ("ui", "get", "/editor/articles/{slug}/edit/", None),
    ("ui", "post", "/editor/articles/{slug}/edit/", {"title": "Taken over"}),
    ("ui", "get", "/editor/articles/{slug}/revisions/", None),
    ("ui", "get", "/editor/articles/{slug}/preview/", None),
    ("ui", "post", "/editor/articles/{slug}/transitions/request_changes/", {"reason": "no"}),
    ("ui", "post", "/editor/articles/{slug}/assignments/", {"reviewer": ""}),
    ("ui", "post", "/editor/articles/{slug}/assignments/{assignment}/cancel/", {"reason": "no"}),
    ("ui", "get", "/editor/articles/{slug}/dossier.json", None),
    ("ui", "get", "/editor/articles/{slug}/dossier.pdf", None),
    ("api", "get", "/api/v1/editorial/articles/{slug}/", None),
    ("api", "patch", "/api/v1/editorial/articles/{slug}/", {"title": "Taken over"}),
    ("api", "put", "/api/v1/editorial/articles/{slug}/related/", {"related": []}),
    ("api", "post", "/api/v1/editorial/articles/{slug}/transitions/request_changes/", {"reason": "no"}),
    ("api", "post", "/api/v1/editorial/articles/{slug}/assignments/", {"reviewer": "reviewer3"}),
    ("api", "get", "/api/v1/editorial/articles/{slug}/audit/", None),
    ("api", "get", "/api/v1/editorial/articles/{slug}/dossier/", None),
    ("api", "get", "/api/v1/editorial/articles/{slug}/dossier/?format=pdf", None),
    ("api", "post", "/api/v1/editorial/assignments/{assignment}/review/",
     {"decision": "approve", "password": "correct horse battery staple"}),
    ("admin", "get", "/admin/reviewers/reviewassignment/{assignment}/change/", None),
]


@pytest.fixture
def under_review(make_article, drive):
    """The writer's article, under review by reviewer1 and reviewer2 (not reviewer3)."""
    article = drive(make_article(), "in_review")
    return article, ReviewAssignment.objects.get(article=article, reviewer__user__username="reviewer1")


def _call(user, face: str, method: str, path: str, body):
    if face == "api":
        client = APIClient()
        client.force_authenticate(user)
        return getattr(client, method)(path, body, format="json") if body is not None else getattr(client, method)(path)
    from django.test import Client

    client = Client()
    client.force_login(user)
    return getattr(client, method)(path, body or {})


def _persona(name: str, request, board):
    return board[2].user if name == "reviewer3" else request.getfixturevalue(name)


@pytest.mark.parametrize("persona", ["colleague", "outsider", "reviewer3"])
@pytest.mark.parametrize(("face", "method", "template", "body"), ROUTES,
                         ids=[f"{m.upper()} {t}" for _, m, t, _ in ROUTES])
def test_another_users_object_answers_like_a_missing_one(request, board, under_review, persona, face, method,
                                                         template, body):
    article, assignment = under_review
    user = _persona(persona, request, board)
    theirs = _call(user, face, method, template.format(slug=article.slug, assignment=assignment.pk), body)
    missing = _call(user, face, method, template.format(slug=MISSING_SLUG, assignment=MISSING_ID), body)

    assert theirs.status_code == missing.status_code, (theirs.status_code, missing.status_code)
    if (face == "api" and persona != "outsider") or (face == "ui" and persona == "colleague"):
        assert theirs.status_code == 404  # they use this face: the object is simply not there
    article.refresh_from_db()
    assert article.state == "in_review" and article.title == "Living with heart failure"
    assert assignment.reviews.count() == 0


def test_a_user_who_may_see_the_object_but_not_act_gets_403_naming_the_rule(under_review, chief, writer, board):
    article, assignment = under_review
    editor = APIClient()
    editor.force_authenticate(chief)
    signed_by_editor = editor.post(f"/api/v1/editorial/assignments/{assignment.pk}/review/",
                                   {"decision": "approve", "password": "correct horse battery staple"}, format="json")
    author = APIClient()
    author.force_authenticate(writer)
    run_by_author = author.post(f"/api/v1/editorial/articles/{article.slug}/transitions/request_changes/",
                                {"reason": "no"}, format="json")
    reviewer = APIClient()
    reviewer.force_authenticate(board[0].user)
    edited_by_reviewer = reviewer.patch(f"/api/v1/editorial/articles/{article.slug}/", {"title": "Mine now"},
                                        format="json")

    assert (signed_by_editor.status_code, signed_by_editor.json()["rule"]) == (403, "assigned_reviewer")
    assert run_by_author.status_code == 403 and run_by_author.json()["code"] == "permission_denied"
    assert edited_by_reviewer.status_code == 403 and edited_by_reviewer.json()["rule"]


def test_the_editor_ui_dossier_answers_404_for_an_article_you_may_not_see(client, under_review, colleague):
    article, _ = under_review
    client.force_login(colleague)

    for name in ("dossier:json", "dossier:pdf"):
        assert client.get(reverse(name, args=[article.slug])).status_code == 404
