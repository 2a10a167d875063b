import datetime as dt

import time_machine
from django.utils import timezone

from governance.workflow import services
from tests.conftest import article_content

DETAIL = "/api/v1/articles/{}/"


def test_it_serves_a_published_article_from_its_snapshot(site, make_article, drive):
    article = drive(make_article(), "published")

    response = site.get(DETAIL.format(article.slug))

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == article.slug
    assert body["revision"] == article.current_revision.content_hash
    assert body["audience"] == "general"
    assert body["review_status"] == "approved"
    assert body["origin"] == "human"
    assert [r["number"] for r in body["references"]] == [1, 2]
    assert body["references"][0]["formatted"] and body["references"][0]["retracted"] is False
    assert [r["decision"] for r in body["reviewed_by"]] == ["approved", "approved"]
    assert body["change_history"][0]["note"] == "First version"
    assert body["disclaimer"] and body["editorial_policy_url"].endswith("/editorial-policy/")
    for name in ("title", "summary", "topic", "audiences", "last_reviewed_at", "next_review_due",
                 "published_at", "updated_at", "url", "body_html", "related"):
        assert name in body


def test_it_answers_404_for_an_article_never_published(site, make_article, drive):
    for state in ("draft", "submitted", "in_review", "approved"):
        article = drive(make_article(title=f"Never published {state}"), state)
        response = site.get(DETAIL.format(article.slug))
        assert response.status_code == 404, state
        assert response.json()["code"] == "not_found"
    assert site.get(DETAIL.format("no-such-article")).status_code == 404


def test_it_answers_410_with_the_reason_for_a_withdrawn_article(site, make_article, drive, chief):
    article = drive(make_article(), "published")
    services.article_withdraw(article=article, actor=chief, reason="Superseded by new guidance")

    response = site.get(DETAIL.format(article.slug))

    assert response.status_code == 410
    body = response.json()
    assert body["slug"] == article.slug
    assert body["reason"] == "Superseded by new guidance"
    assert body["withdrawn_at"]


def test_it_answers_410_for_an_archived_article_that_was_live(site, make_article, drive, chief):
    article = drive(make_article(), "published")
    services.article_archive(article=article, actor=chief, reason="Topic retired")

    assert site.get(DETAIL.format(article.slug)).status_code == 410


def test_it_keeps_serving_the_approved_text_while_a_revision_is_in_progress(site, make_article, drive, writer):
    article = drive(make_article(), "published")
    approved = article.current_revision.content_hash
    services.article_edit(article=article, actor=writer,
                          content=article_content(title="Unreviewed new title", summary="Unreviewed"))

    detail = site.get(DETAIL.format(article.slug)).json()
    listed = site.get("/api/v1/articles/").json()["results"]

    assert detail["revision"] == approved
    assert detail["title"] == "Living with heart failure"
    assert [item["title"] for item in listed] == ["Living with heart failure"]


def test_it_serves_the_audience_variant_and_falls_back_to_the_default(site, make_article, drive):
    variant = services.VariantInput("patient", "In plain words: your heart is tired [@trial2021] [@nice2018].",
                                    "Plain-words summary")
    article = drive(make_article(variants=[variant]), "published")

    patient = site.get(DETAIL.format(article.slug), {"audience": "patient"}).json()
    clinician = site.get(DETAIL.format(article.slug), {"audience": "clinician"}).json()

    assert patient["audience"] == "patient"
    assert "your heart is tired" in patient["body_html"]
    assert patient["summary"] == "Plain-words summary"
    assert clinician["audience"] == "general"
    assert "pump as well" in clinician["body_html"]


def test_it_refuses_an_unknown_audience(site, make_article, drive):
    article = drive(make_article(), "published")

    response = site.get(DETAIL.format(article.slug), {"audience": "children"})

    assert response.status_code == 400
    assert "audience" in response.json()["errors"]


def test_it_sends_caching_headers_and_answers_304_to_a_current_etag(site, make_article, drive):
    article = drive(make_article(), "published")

    first = site.get(DETAIL.format(article.slug))
    etag = first["ETag"]
    again = site.get(DETAIL.format(article.slug), HTTP_IF_NONE_MATCH=etag)
    stale = site.get(DETAIL.format(article.slug), HTTP_IF_NONE_MATCH='"something-else"')

    assert etag.startswith('"') and not etag.startswith("W/")
    assert article.live_snapshot.etag in etag
    assert first["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"
    assert first["Last-Modified"]
    assert "Content-Encoding" not in first
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag
    assert stale.status_code == 200


def test_it_changes_the_etag_when_the_review_falls_overdue(site, make_article, drive):
    article = drive(make_article(), "published")
    etag = site.get(DETAIL.format(article.slug))["ETag"]

    with time_machine.travel(timezone.now() + dt.timedelta(days=400)):
        response = site.get(DETAIL.format(article.slug), HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 200
    assert response.json()["review_status"] == "review_overdue"
    assert response["ETag"] != etag


def test_it_answers_detail_in_two_queries_and_304_in_one(site, make_article, drive, django_assert_max_num_queries, writer):
    refs = [{"key": f"r{i}", "title": f"Trial {i}", "doi": f"10.1000/trial.{i}", "year": 2020} for i in range(12)]
    body = " ".join(f"Claim {i} [@r{i}]." for i in range(12))
    article = drive(make_article(body_markdown=body, references=refs), "published")
    url = DETAIL.format(article.slug)

    with django_assert_max_num_queries(2):  # the API key (not yet cached), then the snapshot
        etag = site.get(url)["ETag"]
    with django_assert_max_num_queries(1):
        assert site.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
    with django_assert_max_num_queries(1):
        assert site.get(url, {"audience": "patient"}).status_code == 200


def test_it_lists_published_articles_with_filters(site, make_article, drive, topic):
    from tests.factories import TopicFactory

    lungs = TopicFactory(slug="lungs", name="Lungs")
    heart = drive(make_article(), "published")
    asthma = drive(make_article(title="Asthma in adults", summary="Inhalers explained", topic=lungs,
                                variants=[services.VariantInput("patient", "Breathe [@trial2021] [@nice2018].")]),
                   "published")
    drive(make_article(title="A draft nobody may see"), "in_review")

    def slugs(**params):
        response = site.get("/api/v1/articles/", params)
        assert response.status_code == 200, response.json()
        return [item["slug"] for item in response.json()["results"]]

    assert slugs() == sorted([heart.slug, asthma.slug])
    assert slugs(topic="lungs") == [asthma.slug]
    assert slugs(audience="patient") == [asthma.slug]
    assert slugs(q="inhalers") == [asthma.slug]
    # the body is searched too (the asthma article's main text is about the heart), title matches first
    assert slugs(q="HEART") == [heart.slug, asthma.slug]
    assert slugs(review_status="approved") == sorted([heart.slug, asthma.slug])
    assert slugs(review_status="review_overdue") == []
    assert slugs(updated_since=(timezone.now() + dt.timedelta(minutes=1)).isoformat()) == []
    assert len(slugs(updated_since="2020-01-01T00:00:00Z")) == 2
    item = site.get("/api/v1/articles/").json()["results"][0]
    assert set(item) == {"slug", "title", "summary", "topic", "audiences", "review_status", "review_reason",
                         "last_reviewed_at", "next_review_due", "published_at", "updated_at", "url"}


def test_it_refuses_bad_list_parameters_naming_them(site, db):
    for params, name in [({"updated_since": "last tuesday"}, "updated_since"), ({"page_size": "101"}, "page_size"),
                         ({"review_status": "fine"}, "review_status"), ({"audience": "everyone"}, "audience"),
                         ({"cursor": "not-a-cursor"}, "cursor")]:
        response = site.get("/api/v1/articles/", params)
        assert response.status_code == 400, params
        assert name in response.json()["errors"]


def test_it_paginates_with_cursors_in_constant_queries(site, make_article, drive, django_assert_max_num_queries):
    for i in range(5):
        drive(make_article(title=f"Article number {i}"), "published")

    seen, url = [], "/api/v1/articles/?page_size=2"
    while url:
        with django_assert_max_num_queries(4):
            page = site.get(url).json()
        seen += [item["slug"] for item in page["results"]]
        url = page["next"]
    with django_assert_max_num_queries(4):
        everything = site.get("/api/v1/articles/", {"page_size": 100}).json()

    assert len(seen) == 5 == len(set(seen))
    assert [item["slug"] for item in everything["results"]] == seen


def test_it_gives_the_list_a_weak_etag(site, make_article, drive):
    drive(make_article(), "published")

    first = site.get("/api/v1/articles/")
    again = site.get("/api/v1/articles/", HTTP_IF_NONE_MATCH=first["ETag"])

    assert first["ETag"].startswith('W/"')
    assert again.status_code == 304


def test_it_marks_an_overdue_review(site, make_article, drive):
    article = drive(make_article(), "published")

    with time_machine.travel(timezone.now() + dt.timedelta(days=366)):
        detail = site.get(DETAIL.format(article.slug)).json()
        overdue = site.get("/api/v1/articles/", {"review_status": "review_overdue"}).json()["results"]

    assert detail["review_status"] == "review_overdue"
    assert [item["slug"] for item in overdue] == [article.slug]


def test_it_lists_the_first_publication_in_the_change_history_even_when_its_note_is_minor(
        site, writer, topic, drive):
    article = services.article_create(actor=writer, topic=topic, content=article_content(),
                                      change_note="Imported from the old site", is_major_change=False)
    article = drive(article, "published")
    assert [c["note"] for c in site.get(DETAIL.format(article.slug)).json()["change_history"]] == [
        "Imported from the old site"]

    article = services.article_edit(article=article, actor=writer, content=article_content(summary="Typo fixed"),
                                    change_note="Typo", is_major_change=False)
    article = drive(article, "published")
    article = services.article_edit(article=article, actor=writer, content=article_content(summary="New dosing"),
                                    change_note="New dosing guidance", is_major_change=True)
    article = drive(article, "published")

    history = site.get(DETAIL.format(article.slug)).json()["change_history"]
    assert [c["note"] for c in history] == ["New dosing guidance", "Imported from the old site"]
    assert history[1]["at"] == site.get(DETAIL.format(article.slug)).json()["published_at"]
