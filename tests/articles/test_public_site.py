"""The public site around the article page: home, topics, search (approved text only), the board
and each member's profile, the editorial policy with its headings and history, sitemap.xml,
robots.txt, Atom feeds, canonical and Open Graph tags, ETag/304, and a constant query budget."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Topic
from governance.models import AuditEvent, EditorialPolicy
from governance.workflow import services
from governance.workflow.services import credentials
from tests import factories
from tests.conftest import BODY, article_content

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def published(make_article, drive, n: int, **overrides):
    return [drive(make_article(title=f"{overrides.pop('title', 'Heart failure')} {i}", **overrides), "published")
            for i in range(n)]


# --- home, topics, /articles/ ----------------------------------------------------------------------

def test_it_serves_a_home_page_with_topics_recent_reviews_search_and_links(client, make_article, drive):
    article = drive(make_article(), "published")
    draft = make_article(title="A draft nobody approved")

    response = client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Imprimatur health library" in html  # the site's name, from its settings
    assert 'href="/topics/heart-health/"' in html and "Heart health" in html
    assert f'href="/articles/{article.slug}/"' in html and "Living with heart failure" not in html.split(
        "Recently reviewed")[0]
    assert draft.title not in html
    assert 'role="search"' in html and 'action="/search/"' in html
    assert 'href="/board/"' in html and 'href="/editorial-policy/"' in html


def test_it_sends_the_articles_index_home(client):
    response = client.get("/articles/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_it_lists_a_topics_live_articles_newest_review_first_and_paginates(client, make_article, drive, topic):
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)):
        older = drive(make_article(title="Older review"), "published")
    with time_machine.travel(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC)):
        newer = drive(make_article(title="Newer review"), "published")
    make_article(title="Unpublished draft on the topic")

    html = client.get(f"/topics/{topic.slug}/").content.decode()

    assert html.index(newer.title) < html.index(older.title)
    assert "Unpublished draft" not in html
    assert client.get("/topics/no-such-topic/").status_code == 404


def test_it_paginates_a_topic_twenty_a_page(client, make_article, drive, topic, settings):
    from articles import public_site

    settings.DEBUG = False
    public_site.PAGE_SIZE, size = 2, public_site.PAGE_SIZE
    try:
        published(make_article, drive, 3)
        first = client.get(f"/topics/{topic.slug}/").content.decode()
        second = client.get(f"/topics/{topic.slug}/?page=2").content.decode()
    finally:
        public_site.PAGE_SIZE = size
    assert "Page 1 of 2" in first and 'rel="next"' in first
    assert "Page 2 of 2" in second and first.count('class="article-card"') == 2
    assert second.count('class="article-card"') == 1
    assert f'<link rel="canonical" href="http://testserver/topics/{topic.slug}/?page=2">' in second


# --- search ---------------------------------------------------------------------------------------

def test_it_finds_a_live_article_by_a_word_of_its_body_with_a_highlighted_snippet(client, make_article, drive):
    article = drive(make_article(), "published")

    html = client.get("/search/?q=pump").content.decode()

    assert f'href="/articles/{article.slug}/"' in html
    assert re.search(r"<mark>pump</mark>", html, re.I)
    assert "1 article matches" in html


def test_it_never_finds_a_drafts_words(client, writer, make_article, drive):
    article = drive(make_article(), "published")
    services.article_edit(article=article, actor=writer, content=article_content(
        body_markdown=BODY + "\nZanzibarite is an unreviewed claim [@trial2021].\n"), change_note="Unreviewed")
    make_article(title="Quokka draft", body_markdown=BODY + "\nQuokkas everywhere [@trial2021].\n")

    for word in ("zanzibarite", "quokka", "quokkas"):
        html = client.get(f"/search/?q={word}").content.decode()
        assert "No approved article matches" in html, word
        assert 'class="article-card"' not in html
    # the approved text of the edited article is still found
    assert f'href="/articles/{article.slug}/"' in client.get("/search/?q=pump").content.decode()


def test_it_ranks_a_title_match_above_a_summary_match_above_a_body_match(client, make_article, drive):
    body_only = drive(make_article(title="Living well", summary="General advice.",
                                   body_markdown=BODY + "\nSome mention digoxin here [@trial2021].\n"), "published")
    in_summary = drive(make_article(title="Medicines overview", summary="Including digoxin."), "published")
    in_title = drive(make_article(title="Digoxin explained", summary="A medicine."), "published")

    html = client.get("/search/?q=digoxin").content.decode()

    positions = [html.index(f'href="/articles/{a.slug}/"') for a in (in_title, in_summary, body_only)]
    assert positions == sorted(positions)


def test_it_shows_an_empty_state_and_escapes_the_query(client, make_article, drive):
    drive(make_article(), "published")

    empty = client.get("/search/").content.decode()
    nothing = client.get("/search/?q=%3Cscript%3Ealert(1)%3C/script%3E").content.decode()

    assert "Type a word or two" in empty and "Or browse a topic" in empty
    assert "No approved article matches" in nothing
    assert "<script>alert(1)" not in nothing and "&lt;script&gt;" in nothing


def test_search_snippets_escape_the_approved_text(client, make_article, drive):
    drive(make_article(body_markdown=BODY + "\nA `<b>bold</b>` warfarin example [@trial2021].\n"), "published")
    html = client.get("/search/?q=warfarin").content.decode()
    snippet = html.split('class="snippet"')[1].split("</p>")[0]
    # escaped (SQLite) or dropped as markup by ts_headline (PostgreSQL): never a tag in the page
    assert "<b>" not in snippet and "bold" in snippet and "<mark>warfarin</mark>" in snippet


# --- the board ------------------------------------------------------------------------------------

def test_it_lists_the_active_board_linked_to_profiles(client, board):
    factories.BoardMemberFactory(printed_name="Dr Gone Away", is_active=False)

    html = client.get("/board/").content.decode()

    for member in board:
        assert member.printed_name in html and f'href="/board/{member.slug}/"' in html
    assert "Cardiology" in html and "Dr Gone Away" not in html


def test_a_profile_shows_the_member_and_what_they_reviewed_with_the_last_signature(client, make_article, drive,
                                                                                   board):
    member = board[0]
    with time_machine.travel(dt.datetime(2026, 2, 3, 10, tzinfo=dt.UTC)):
        article = drive(make_article(), "published")
    credentials.board_member_update(actor=member.user, member=member, changes={"bio": "Heart failure clinic lead."})
    unreviewed = drive(make_article(title="Reviewed by others"), "published", reviewers=board[1:])

    response = client.get(f"/board/{member.slug}/")

    html = response.content.decode()
    assert member.printed_name in html and member.credentials in html and member.affiliation in html
    assert "Cardiology" in html and "Heart failure clinic lead." in html
    assert f'href="/articles/{article.slug}/"' in html and unreviewed.title not in html
    assert '<time datetime="2026-02-03">' in html  # the date of the member's last signature on it
    member.refresh_from_db()
    verified = timezone.localdate(member.credentials_verified_at)  # by someone else (governance.workflow.services.credentials)
    assert f'Credentials last verified</dt>\n    <dd><time datetime="{verified:%Y-%m-%d}">' in html
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    person = json.loads(block)
    assert person["@type"] == "Person" and person["name"] == member.printed_name
    assert person["knowsAbout"] == ["Cardiology"]
    assert {c["credentialCategory"] for c in person["hasCredential"]} == {"qualification", "licence"}


def test_a_member_nobody_verified_says_so(client, board):
    member = factories.BoardMemberFactory(credentials_verified_at=None, credentials_verified_by=None)
    html = client.get(f"/board/{member.slug}/").content.decode()
    assert "Credentials last verified</dt>\n    <dd>Not verified yet</dd>" in html


def test_a_member_who_left_the_board_has_no_public_profile(client, board):
    member = factories.BoardMemberFactory(is_active=False)
    assert client.get(f"/board/{member.slug}/").status_code == 404
    assert client.get("/board/nobody/").status_code == 404


def test_the_article_page_links_each_reviewer_to_their_profile(client, make_article, drive, board):
    article = drive(make_article(), "published")
    html = client.get(f"/articles/{article.slug}/").content.decode()
    reviewed_by = html.split('id="reviewed-h"')[1].split("</section>")[0]
    for member in board[:2]:
        assert f'<a href="/board/{member.slug}/">{member.printed_name}</a>' in reviewed_by


def test_board_members_get_a_unique_slug_from_their_name(db):
    first = factories.BoardMemberFactory(printed_name="Dr Ada Okafor")
    second = factories.BoardMemberFactory(printed_name="Dr Ada Okafor")
    assert (first.slug, second.slug) == ("dr-ada-okafor", "dr-ada-okafor-2")


# --- the editorial policy -------------------------------------------------------------------------

def test_the_editorial_policy_keeps_its_headings_and_its_version_history(client, chief):
    client.force_login(chief)
    from django.urls import reverse

    for version, day in (("1", "2026-01-01"), ("2", "2026-02-01")):
        client.post(reverse("admin:governance_editorialpolicy_add"), {
            "version": version, "effective_at_0": day, "effective_at_1": "09:00:00",
            "body_markdown": f"# How we review, v{version}\n\nIntro.\n\n## Who reviews\n\nClinicians.\n"})
    client.logout()

    html = client.get("/editorial-policy/").content.decode()

    assert '<h1 id="policy-title">How we review, v2</h1>' in html
    assert html.count("<h1") == 1 and "<h2>Who reviews</h2>" in html
    assert "Version history" in html and 'href="?version=1"' in html
    older = client.get("/editorial-policy/?version=1").content.decode()
    assert "How we review, v1" in older and "This is an earlier version." in older
    assert client.get("/editorial-policy/?version=9").status_code == 404


def test_the_stored_policy_html_had_its_title_flattened_before_and_keeps_it_now():
    from articles import content

    assert "<h1>" not in content.render("# Title\n\nText.", {})  # an article body: its page has the h1
    assert content.render_document("# Title\n\nText.").startswith("<h1>Title</h1>")


# --- sitemap, robots, feeds, canonical and Open Graph ------------------------------------------------

def test_the_sitemap_lists_live_articles_with_lastmod_from_the_live_snapshot(client, make_article, drive, board):
    with time_machine.travel(dt.datetime(2026, 4, 5, 12, tzinfo=dt.UTC)):
        article = drive(make_article(), "published")
    draft = make_article(title="Not in the sitemap")

    index = ET.fromstring(client.get("/sitemap.xml").content)
    sections = [s.findtext(f"{SITEMAP}loc") for s in index.iter(f"{SITEMAP}sitemap")]
    assert "http://testserver/sitemap-articles.xml" in sections
    entries = {}
    for section in sections:
        response = client.get(section.removeprefix("http://testserver"))
        assert response.status_code == 200
        root = ET.fromstring(response.content)
        entries |= {u.find(f"{SITEMAP}loc").text: u.findtext(f"{SITEMAP}lastmod") for u in root.iter(f"{SITEMAP}url")}
    assert entries[f"http://testserver/articles/{article.slug}/"] == "2026-04-05"
    assert f"http://testserver/articles/{draft.slug}/" not in entries
    assert "http://testserver/" in entries and f"http://testserver/board/{board[0].slug}/" in entries
    assert "http://testserver/topics/heart-health/" in entries


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_the_editor(client):
    text = client.get("/robots.txt").content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /editor/" in text and "Disallow: /admin/" in text


def test_the_atom_feeds_list_new_and_re_reviewed_articles_site_wide_and_per_topic(client, make_article, drive,
                                                                                    chief):
    first = drive(make_article(title="First one"), "published")
    other_topic = factories.TopicFactory(slug="sleep", name="Sleep")
    drive(make_article(title="About sleep", topic=other_topic), "published")
    make_article(title="Never published")

    site_feed = ET.fromstring(client.get("/feeds/articles/").content)
    topic_feed = ET.fromstring(client.get("/topics/heart-health/feed/").content)

    site_titles = [e.findtext(f"{ATOM}title") for e in site_feed.iter(f"{ATOM}entry")]
    assert set(site_titles) == {"First one", "About sleep"}
    assert [e.findtext(f"{ATOM}title") for e in topic_feed.iter(f"{ATOM}entry")] == [first.title]
    entry = next(site_feed.iter(f"{ATOM}entry"))
    assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/articles/")
    assert client.get("/topics/no-such/feed/").status_code == 404


@pytest.mark.parametrize("path", ["/", "/topics/heart-health/", "/search/?q=heart", "/board/", "/editorial-policy/",
                                  "ARTICLE", "PROFILE"])
def test_every_public_page_has_a_canonical_link_and_open_graph_tags(client, make_article, drive, board, path):
    article = drive(make_article(), "published")
    path = {"ARTICLE": f"/articles/{article.slug}/", "PROFILE": f"/board/{board[0].slug}/"}.get(path, path)

    html = client.get(path).content.decode()

    head = html.split("</head>")[0]
    canonical = re.search(r'<link rel="canonical" href="([^"]+)">', head).group(1)
    assert canonical.startswith("http://testserver/") and "?q=" not in canonical
    for name in ("og:title", "og:description", "og:type", "og:url", "og:site_name"):
        assert f'property="{name}"' in head, name
    assert f'<meta property="og:url" content="{canonical}">' in head


# --- the site's settings --------------------------------------------------------------------------

def test_the_managing_editor_changes_the_site_settings_through_an_audited_service(client, chief, make_article,
                                                                                   drive):
    from governance.workflow.site import site_settings_update

    site_settings_update(actor=chief, changes={"site_name": "Northgate Health", "tagline": "Checked by doctors",
                                               "disclaimer": "Talk to your own doctor."})
    article = drive(make_article(), "published")

    event = AuditEvent.objects.get(action="site_settings.update")
    assert event.data["changed"]["site_name"] == ["Imprimatur health library", "Northgate Health"]
    home = client.get("/").content.decode()
    assert "Northgate Health" in home and "Checked by doctors" in home
    page = client.get(f"/articles/{article.slug}/").content.decode()
    assert "Talk to your own doctor." in page and "<title>Living with heart failure · Northgate Health</title>" in page
    assert article.live_snapshot.document["disclaimer"] == "Talk to your own doctor."


def test_only_the_managing_editor_changes_the_site_settings(writer, board):
    from governance.workflow.exceptions import ContentInvalid, NotPermitted
    from governance.workflow.site import site_settings_update

    for person in (writer, board[0].user):
        with pytest.raises(NotPermitted) as refused:
            site_settings_update(actor=person, changes={"site_name": "Mine"})
        assert refused.value.rule == "may_administer"
    chief = factories.UserFactory(groups=["Managing editors"])
    with pytest.raises(ContentInvalid) as invalid:
        site_settings_update(actor=chief, changes={"site_name": ""})
    assert "site_name" in invalid.value.errors
    assert not AuditEvent.objects.filter(action="site_settings.update").exists()


def test_the_admin_opens_and_saves_the_one_settings_row(client, chief):
    from django.urls import reverse

    client.force_login(chief)
    response = client.get(reverse("admin:governance_sitesettings_changelist"))
    assert response.status_code == 302 and response["Location"].endswith("/add/")
    response = client.post(reverse("admin:governance_sitesettings_add"), {
        "site_name": "Heart Library", "tagline": "", "disclaimer": "Not advice."})
    assert response.status_code == 302
    assert AuditEvent.objects.get(action="site_settings.update").actor == chief
    changelist = client.get(reverse("admin:governance_sitesettings_changelist"))
    assert changelist["Location"].endswith("/1/change/")


# --- ETag / 304 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("page", ["article", "profile"])
def test_it_answers_304_to_a_current_etag_and_changes_it_when_the_page_changes(client, make_article, drive, board,
                                                                               chief, page):
    article = drive(make_article(), "published")
    path = f"/articles/{article.slug}/" if page == "article" else f"/board/{board[0].slug}/"

    first = client.get(path)
    again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])

    assert first.status_code == 200 and first["ETag"].startswith('"')
    assert again.status_code == 304 and again["ETag"] == first["ETag"] and again.content == b""
    if page == "article":
        services.article_withdraw(article=article, actor=chief, reason="Superseded")
        assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 410
    else:
        credentials.board_member_update(actor=chief, member=board[0], changes={"affiliation": "Elsewhere"})
        changed = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


# --- a constant query budget ----------------------------------------------------------------------

def _queries(client, path: str) -> int:
    client.get(path)  # warm (nothing is cached, but keep the two measures alike)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


BUDGET = {"/": 1, "/topics/heart-health/": 1, "/search/?q=heart": 3, "/board/": 1, "PROFILE": 1, "ARTICLE": 1,
          "/editorial-policy/": 2, "/sitemap.xml": 6, "/sitemap-articles.xml": 2, "/feeds/articles/": 2,
          "/topics/heart-health/feed/": 3}


def test_every_public_page_costs_the_same_few_queries_at_two_catalogue_sizes(client, make_article, drive, board):
    counts = []
    for n in (1, 4):
        published(make_article, drive, n, title=f"Heart size {n}")
        article = Topic.objects.get(slug="heart-health").articles.filter(live_snapshot__isnull=False).first()
        paths = {p: {"ARTICLE": f"/articles/{article.slug}/", "PROFILE": f"/board/{board[0].slug}/"}.get(p, p)
                 for p in BUDGET}
        counts.append({p: _queries(client, path) for p, path in paths.items()})
    assert counts[0] == counts[1], counts
    for page, budget in BUDGET.items():
        assert counts[1][page] <= budget, (page, counts[1][page])


def test_a_snapshots_search_text_is_its_approved_body_as_plain_text(make_article, drive):
    article = drive(make_article(), "published")
    text = article.live_snapshot.search_text
    assert "Heart failure means the heart cannot pump" in text
    assert "<" not in text and "[1]" not in text


def test_the_home_page_of_an_empty_library_says_what_will_appear(client):
    html = client.get("/").content.decode()
    assert "Nothing has been published yet" in html


def test_timezone_is_respected_in_the_feed(client, make_article, drive):
    with time_machine.travel(dt.datetime(2026, 5, 1, 23, 30, tzinfo=dt.UTC)):
        drive(make_article(), "published")
    feed = ET.fromstring(client.get("/feeds/articles/").content)
    updated = next(feed.iter(f"{ATOM}entry")).findtext(f"{ATOM}updated")
    assert updated.startswith("2026-05-01T23:30") and timezone.is_aware(timezone.now())


def test_an_unpublished_policy_version_is_not_shown(client):
    EditorialPolicy.objects.create(version="9", effective_at=timezone.now() + dt.timedelta(days=3),
                                   body_markdown="# Future", body_html="<h1>Future</h1>")
    html = client.get("/editorial-policy/").content.decode()
    assert "Future" not in html and "No editorial policy has been published yet." in html
