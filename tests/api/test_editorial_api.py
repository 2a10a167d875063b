import datetime as dt

from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient

from articles.models import Article, Reference
from governance.models import AuditEvent
from governance.workflow import services
from reviewers.models import Review
from tests import factories
from tests.api.conftest import token_client
from tests.conftest import BODY, article_content
from tests.factories import PASSWORD

REFERENCES = [
    {"key": "trial2021", "kind": "research", "title": "SGLT2 inhibitors in heart failure", "authors": ["Smith J"],
     "container": "N Engl J Med", "year": 2021, "doi": "10.1056/NEJMoa0000001"},
    {"key": "nice2018", "kind": "guideline", "title": "Chronic heart failure in adults", "container": "NICE",
     "year": 2018, "url": "https://www.nice.org.uk/guidance/ng106"},
]


def draft_payload(**overrides):
    payload = {"title": "Living with heart failure", "summary": "What it is", "topic": "heart-health",
               "body_markdown": BODY, "origin": "human", "change_note": "First version", "is_major_change": True,
               "references": REFERENCES}
    payload.update(overrides)
    return payload


def create(client, **overrides):
    response = client.post("/api/v1/editorial/articles/", draft_payload(**overrides), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def transition(client, slug, name, **body):
    return client.post(f"/api/v1/editorial/articles/{slug}/transitions/{name}/", body, format="json")


def test_it_creates_a_draft(as_writer, topic):
    body = create(as_writer, variants=[{"audience": "patient", "body_markdown": "Simply [@trial2021] [@nice2018]."}])

    article = Article.objects.get(slug=body["slug"])
    assert body["state"] == "draft"
    assert body["revision"] == article.current_revision.content_hash
    assert [r["number"] for r in body["references"]] == [1, 2]
    assert body["variants"][0]["audience"] == "patient"


def test_it_keeps_the_editors_reserved_slug_new_free(as_writer, topic):
    explicit = as_writer.post("/api/v1/editorial/articles/", draft_payload(slug="new"), format="json")
    from_title = create(as_writer, title="New")

    assert explicit.status_code == 400 and "reserved" in explicit.json()["errors"]["slug"][0]
    assert from_title["slug"] == "new-2"


def test_it_names_the_field_of_a_bad_reference(as_writer, topic):
    bad_doi = [{**REFERENCES[0], "doi": "not-a-doi"}, REFERENCES[1]]

    response = as_writer.post("/api/v1/editorial/articles/", draft_payload(references=bad_doi), format="json")

    assert response.status_code == 400
    assert "references[0].doi" in response.json()["errors"]
    assert response.json()["detail"].startswith("references[0].doi")


def test_it_names_an_unresolved_citation_and_an_unknown_topic(as_writer, topic):
    unresolved = as_writer.post("/api/v1/editorial/articles/", draft_payload(references=REFERENCES[:1]),
                                format="json")
    no_topic = as_writer.post("/api/v1/editorial/articles/", draft_payload(topic="no-such-topic"), format="json")
    missing = as_writer.post("/api/v1/editorial/articles/", {"summary": "x"}, format="json")

    assert unresolved.status_code == 400 and "nice2018" in str(unresolved.json()["errors"]["body_markdown"])
    assert no_topic.status_code == 400 and "topic" in no_topic.json()["errors"]
    assert missing.status_code == 400 and {"title", "topic", "body_markdown"} <= set(missing.json()["errors"])


def test_it_reuses_a_stored_reference_by_doi(as_writer, topic):
    create(as_writer)
    create(as_writer, title="Heart failure: the medicines")

    assert Reference.objects.filter(doi="10.1056/nejmoa0000001").count() == 1


def test_it_patches_only_the_fields_sent_and_keeps_the_references(as_writer, topic):
    slug = create(as_writer)["slug"]

    response = as_writer.patch(f"/api/v1/editorial/articles/{slug}/", {"summary": "A clearer summary",
                                                                       "change_note": "Summary reworded"},
                               format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["summary"] == "A clearer summary"
    assert body["title"] == "Living with heart failure"
    assert body["revision_number"] == 2
    assert [r["key"] for r in body["references"]] == ["trial2021", "nice2018"]


def test_it_refuses_an_edit_started_from_a_superseded_revision(as_writer, as_chief, topic):
    created = create(as_writer)
    url = f"/api/v1/editorial/articles/{created['slug']}/"
    as_chief.patch(url, {"summary": "The chief's edit"}, format="json")

    stale = as_writer.patch(url, {"summary": "My edit", "base_revision": created["revision"]}, format="json")
    current = as_writer.get(url).json()
    fresh = as_writer.patch(url, {"summary": "My edit", "base_revision": current["revision"]}, format="json")

    assert (stale.status_code, stale.json()["rule"]) == (409, "stale_revision")
    assert current["summary"] == "The chief's edit"
    assert fresh.status_code == 200 and fresh.json()["summary"] == "My edit"


def test_it_hides_other_writers_drafts(as_writer, colleague, topic):
    slug = create(as_writer)["slug"]
    other = token_client(colleague)

    assert other.get(f"/api/v1/editorial/articles/{slug}/").status_code == 404
    assert other.get("/api/v1/editorial/articles/").json()["results"] == []
    assert [a["slug"] for a in as_writer.get("/api/v1/editorial/articles/").json()["results"]] == [slug]


def test_it_requires_authentication(db):
    response = APIClient().get("/api/v1/editorial/articles/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_it_refuses_a_user_without_an_editorial_role(outsider):
    assert token_client(outsider).get("/api/v1/editorial/articles/").status_code == 403


def test_it_accepts_a_staff_session(chief, topic):
    client = APIClient()
    client.force_login(chief)

    assert client.get("/api/v1/editorial/articles/").status_code == 200


def test_it_walks_the_workflow_through_the_api(as_writer, as_chief, as_reviewer, board, site, topic):
    slug = create(as_writer)["slug"]

    assert transition(as_writer, slug, "submit").json()["state"] == "submitted"
    ids = []
    for member in board[:2]:
        response = as_chief.post(f"/api/v1/editorial/articles/{slug}/assignments/",
                                 {"reviewer": member.user.username}, format="json")
        assert response.status_code == 201, response.json()
        assert set(response.json()) == {"id", "reviewer", "due_at", "status"}
        ids.append(response.json()["id"])
    assert transition(as_chief, slug, "start_review").json()["state"] == "in_review"
    for member, assignment_id in zip(board[:2], ids, strict=True):
        signed = as_reviewer(member).post(f"/api/v1/editorial/assignments/{assignment_id}/review/",
                                          {"decision": "approve", "password": PASSWORD}, format="json")
        assert signed.status_code == 201, signed.json()
    assert signed.json()["article_state"] == "approved"
    assert site.get(f"/api/v1/articles/{slug}/").status_code == 404
    published = transition(as_chief, slug, "publish")

    assert published.status_code == 200
    assert published.json()["state"] == "published"
    assert site.get(f"/api/v1/articles/{slug}/").json()["revision"] == published.json()["live_revision"]


def test_it_refuses_a_transition_naming_the_rule(as_writer, as_chief, topic):
    slug = create(as_writer)["slug"]
    transition(as_writer, slug, "submit")

    response = transition(as_chief, slug, "start_review")

    assert response.status_code == 409
    assert response.json()["code"] == "transition_refused"
    assert response.json()["rule"] == "assignments_reach_quorum"
    assert response.json()["detail"]


def test_it_refuses_a_transition_the_user_may_not_run(as_writer, topic):
    slug = create(as_writer)["slug"]
    transition(as_writer, slug, "submit")

    response = transition(as_writer, slug, "publish")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_it_answers_404_for_an_unknown_transition(as_chief, topic, make_article):
    article = make_article()

    assert transition(as_chief, article.slug, "approve_everything").status_code == 404


def test_it_refuses_assignments_naming_the_rule(as_chief, make_article, drive, board, topic):
    article = drive(make_article(), "submitted")
    factories.ConflictFactory(member=board[0], topic=topic)
    expired = factories.BoardMemberFactory(licence_expires_on=timezone.localdate() - dt.timedelta(days=1))
    url = f"/api/v1/editorial/articles/{article.slug}/assignments/"

    conflicted = as_chief.post(url, {"reviewer": board[0].user.username}, format="json")
    lapsed = as_chief.post(url, {"reviewer": expired.user.username}, format="json")
    past = as_chief.post(url, {"reviewer": board[1].user.username,
                               "due_at": (timezone.now() - dt.timedelta(days=1)).isoformat()}, format="json")
    unknown = as_chief.post(url, {"reviewer": "nobody"}, format="json")

    assert (conflicted.status_code, conflicted.json()["code"], conflicted.json()["rule"]) == (
        409, "assignment_refused", "no_conflict_of_interest")
    assert (lapsed.status_code, lapsed.json()["rule"]) == (409, "licence_valid")
    assert past.status_code == 400 and "due_at" in past.json()["errors"]
    assert unknown.status_code == 400 and "reviewer" in unknown.json()["errors"]


def test_it_refuses_assigning_the_author(as_chief, board, topic):
    author = board[2].user
    author.groups.add(Group.objects.get(name="Writers"))
    article = services.article_create(actor=author, topic=topic, content=article_content())
    services.article_submit(article=article, actor=author)

    response = as_chief.post(f"/api/v1/editorial/articles/{article.slug}/assignments/",
                             {"reviewer": author.username}, format="json")

    assert (response.status_code, response.json()["rule"]) == (409, "no_self_review")


def test_it_signs_nothing_for_a_wrong_password_and_audits_only_the_failure(as_reviewer, make_article, drive, board):
    article = drive(make_article(), "in_review")
    assignment = article.assignments.get(reviewer=board[0])
    reviewer = as_reviewer(board[0])
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()

    response = reviewer.post(f"/api/v1/editorial/assignments/{assignment.pk}/review/",
                                          {"decision": "approve", "password": "wrong"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "reauthentication_failed"
    assert Review.objects.count() == 0
    assert list(AuditEvent.objects.filter(seq__gt=last_seq).values_list("action", flat=True)) == ["signature.failed"]


def test_it_refuses_a_review_by_someone_else(as_reviewer, make_article, drive, board):
    article = drive(make_article(), "in_review")
    assignment = article.assignments.get(reviewer=board[0])

    response = as_reviewer(board[1]).post(f"/api/v1/editorial/assignments/{assignment.pk}/review/",
                                          {"decision": "approve", "password": PASSWORD}, format="json")

    assert response.status_code == 404  # another reviewer's assignment is not there for them
    assert Review.objects.count() == 0


def test_it_sends_back_for_changes_with_comments(as_reviewer, make_article, drive, board):
    article = drive(make_article(), "in_review")
    assignment = article.assignments.get(reviewer=board[0])
    url = f"/api/v1/editorial/assignments/{assignment.pk}/review/"

    silent = as_reviewer(board[0]).post(url, {"decision": "request_changes", "password": PASSWORD}, format="json")
    with_comments = as_reviewer(board[0]).post(url, {"decision": "request_changes", "password": PASSWORD,
                                                     "comments": "Dose in paragraph 2 is wrong."}, format="json")

    assert silent.status_code == 400 and "comments" in silent.json()["errors"]
    assert with_comments.status_code == 201
    assert with_comments.json()["article_state"] == "draft"


def test_it_lists_the_audit_trail_oldest_first(as_chief, make_article, drive):
    article = drive(make_article(), "published")

    response = as_chief.get(f"/api/v1/editorial/articles/{article.slug}/audit/")

    events = response.json()
    assert response.status_code == 200
    assert events[0]["action"] == "article.create"
    assert "article.publish" in [e["action"] for e in events]
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)
    assert set(events[0]) == {"seq", "at", "actor", "action", "from_state", "to_state", "reason", "hash"}


def test_it_refuses_a_page_size_that_is_not_plain_digits(as_writer, make_article):
    make_article()
    for page_size in ("\u00b2", "\u0663", "0", "101", "-1", "ten"):  # superscript two, Arabic-Indic three
        response = as_writer.get("/api/v1/editorial/articles/", {"page_size": page_size})
        assert response.status_code == 400, page_size
        assert "page_size" in response.json()["errors"]
    assert len(as_writer.get("/api/v1/editorial/articles/", {"page_size": "1"}).json()["results"]) == 1


def test_it_creates_a_high_risk_draft(as_writer, topic):
    body = create(as_writer, risk_tier="high")

    assert body["risk_tier"] == "high"
    assert Article.objects.get(slug=body["slug"]).risk_tier == "high"
    assert as_writer.get(f"/api/v1/editorial/articles/{body['slug']}/").json()["risk_tier"] == "high"
    assert create(as_writer, title="Standard by default")["risk_tier"] == "standard"


def test_it_refuses_an_unknown_risk_tier_naming_the_field(as_writer, topic):
    response = as_writer.post("/api/v1/editorial/articles/", draft_payload(risk_tier="extreme"), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["risk_tier"]
    assert "extreme" in response.json()["errors"]["risk_tier"][0]
    assert not Article.objects.exists()
