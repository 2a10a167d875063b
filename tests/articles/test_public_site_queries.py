"""The public site's pages keep the API's query budget: home, a topic, the board and a member's
profile are one query each (one statement of sub-selects), 304 included, whatever the size of
the catalogue and the board; search is a constant three (site, count, page), its empty form one.
Each count is asserted at two sizes, so a query per article, topic or member would show."""

from __future__ import annotations

import pytest

from articles import public_site
from tests import factories

pytestmark = pytest.mark.django_db


def _small(make_article, drive, board):
    for i in range(2):
        drive(make_article(title=f"Heart small {i}"), "published")


def _large(make_article, drive, board):
    """More of everything the pages list: articles on two topics (a draft among them), more members
    with more specialties, reviews by all of them, a photo."""
    other = factories.TopicFactory(slug="lungs", name="Lungs")
    extra = factories.SpecialtyFactory(slug="nephrology", name="Nephrology")
    for member in board:
        member.specialties.add(extra)
    board[0].photo = "board/ada.png"
    board[0].save(update_fields=["photo"])
    factories.BoardMemberFactory(specialties=[extra])
    for i in range(4):
        drive(make_article(title=f"Heart large {i}"), "published")
        drive(make_article(title=f"Lungs large {i}", topic=other), "published", reviewers=board[1:])
    make_article(title="A draft on heart health")
    drive(make_article(title="Heart large last"), "published")


def _pages(board) -> dict[str, tuple[str, int]]:
    return {"home": ("/", 1), "topic": ("/topics/heart-health/", 1), "topic page 2": ("/topics/heart-health/?page=2", 1),
            "board": ("/board/", 1), "profile": (f"/board/{board[0].slug}/", 1), "empty search": ("/search/", 1),
            "search": ("/search/?q=heart", 3)}


@pytest.mark.parametrize("size", ["small", "large"])
@pytest.mark.parametrize("page", ["home", "topic", "topic page 2", "board", "profile", "empty search", "search"])
def test_each_public_page_and_its_304_cost_the_same_queries_at_two_sizes(client, make_article, drive, board, size,
                                                                        page, monkeypatch,
                                                                        django_assert_num_queries):
    monkeypatch.setattr(public_site, "PAGE_SIZE", 1)  # the topic has a second page at both sizes
    (_small if size == "small" else _large)(make_article, drive, board)
    path, budget = _pages(board)[page]
    client.get(path)  # warm: SQLite's JSON support is probed once per connection
    with django_assert_num_queries(budget):
        response = client.get(path)
    assert response.status_code == 200 and response["ETag"]
    with django_assert_num_queries(budget):
        assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    if size == "large":
        html = response.content.decode()
        shown = {"home": "Lungs large", "topic": "Heart large last", "topic page 2": "Page 2 of 5",
                 "board": "Nephrology", "profile": "Heart large last", "empty search": "Lungs",
                 "search": "Heart large"}[page]
        assert shown in html
        assert "A draft on heart health" not in html


def test_what_the_one_query_reads_is_what_the_pages_show(client, make_article, drive, board):
    """The statement's JSON (dates, nested specialties, counts, order) comes back as the pages had it."""
    _large(make_article, drive, board)
    home = client.get("/").content.decode()
    # newest review first, eight of the nine
    assert home.index("Heart large last") < home.index("Lungs large 3") < home.index("Heart large 1")
    assert "Heart large 0" not in home
    assert home.index("Heart health") < home.index("Lungs")  # more live articles first
    assert "5 articles" in home and "4 articles" in home
    board_page = client.get("/board/").content.decode()
    assert "Cardiology, Nephrology" in board_page and f'/board/{board[0].slug}/photo/?v=' in board_page
    profile = client.get(f"/board/{board[0].slug}/").content.decode()
    assert profile.count('class="article-card"') == 5 and "Last signed" in profile
    assert '"knowsAbout": ["Cardiology", "Nephrology"]' in profile
    assert "Credentials last verified" in profile and "Not verified yet" not in profile


@pytest.mark.parametrize("path", ["/topics/no-such-topic/", "/board/no-such-member/"])
def test_an_unknown_topic_or_member_is_a_404_from_the_same_one_query(client, board, path, django_assert_num_queries):
    client.get(path)
    with django_assert_num_queries(1):
        assert client.get(path).status_code == 404


def test_a_page_past_the_last_shows_the_last(client, make_article, drive, board, monkeypatch):
    monkeypatch.setattr(public_site, "PAGE_SIZE", 2)
    for i in range(3):
        drive(make_article(title=f"Heart {i}"), "published")
    html = client.get("/topics/heart-health/?page=9").content.decode()
    assert "Page 2 of 2" in html and html.count('class="article-card"') == 1


def test_the_home_pages_etag_moves_when_an_article_is_published(client, make_article, drive):
    first = client.get("/")
    drive(make_article(title="Newly published"), "published")
    again = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and "Newly published" in again.content.decode()
