"""The public site and the editor in a real browser on the demo data (`manage.py seed_demo`):
axe-core (vendored from the npm registry) finds no WCAG 2.1 A/AA violation on any public page nor
on any editor page; the search, the audience switch and the review steps work with the keyboard
alone; and the screenshots the README shows of the home, search and board pages."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from articles.models import Article, Topic
from governance.models import EditorialPolicy
from reviewers.models import BoardMember
from tests.browser import axe
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
README_SCREENSHOTS = {"public-home", "public-search", "public-board", "public-profile"}
REPORTS = ["", "currency/", "board/", "evidence/", "conflicts/", "review-load/", "review-load/spread/"]


def shoot(page, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("IMPRIMATUR_UPDATE_SCREENSHOTS") == "1" and name in README_SCREENSHOTS:
        shutil.copy(path, DOCS_SCREENSHOTS / path.name)


@pytest.fixture
def demo(settings, tmp_path):
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's figure is stored there

    for name in ("Writers", "Managing editors"):  # a transactional test may start without the migration's groups
        Group.objects.get_or_create(name=name)
    settings.IMPRIMATUR_DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", stdout=io.StringIO())


def sign_in(page, username: str) -> None:
    page.goto("/editor/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_be_visible()


def check(page, path: str, found: dict, *, status: int = 200) -> None:
    response = page.goto(path)
    assert response.status == status, (path, response.status)
    problems = axe.violations(page)
    if problems:
        found[path] = problems


def public_paths() -> list[str]:
    live = list(Article.objects.filter(live_snapshot__isnull=False).select_related("live_snapshot")
                .order_by("slug"))
    paths = ["/", "/board/", "/editorial-policy/", "/search/", "/search/?q=blood+pressure", "/search/?q=qqqxyz"]
    paths += [f"/topics/{slug}/" for slug in Topic.objects.order_by("slug").values_list("slug", flat=True)]
    paths += [f"/articles/{a.slug}/" for a in live]
    paths += [f"/articles/{a.slug}/?audience={audience}" for a in live for audience in a.live_snapshot.variant_documents]
    paths += [f"/board/{slug}/" for slug in BoardMember.objects.filter(is_active=True).values_list("slug", flat=True)]
    paths += [f"/editorial-policy/?version={v}" for v in EditorialPolicy.objects.values_list("version", flat=True)]
    return paths


def test_axe_finds_no_wcag_21_aa_violation_on_any_public_page(open_session, demo, artifacts):
    session = open_session()
    page = session.page
    found: dict = {}
    for path in public_paths():
        check(page, path, found)
    gone = Article.objects.filter(live_snapshot__isnull=True, withdrawn_at__isnull=False).first()
    assert not session.problems, session.problems
    check(page, f"/articles/{gone.slug}/", found, status=410)
    check(page, "/no-such-page/", found, status=404)
    assert not found, axe.describe(found)
    # the browser logs the two error statuses asked for, and nothing else
    assert [p for p in session.problems if "the server responded with a status of" not in p] == []


def test_axe_finds_no_wcag_21_aa_violation_on_any_editor_page(open_session, demo):
    session = open_session()
    page = session.page
    found: dict = {}
    check(page, "/editor/login/", found)
    sign_in(page, "chief")
    paths = ["/editor/", "/editor/articles/", "/editor/articles/?state=draft", "/editor/articles/new/"]
    paths += [f"/editor/reports/{report}" for report in REPORTS]
    for slug in Article.objects.order_by("slug").values_list("slug", flat=True):
        paths += [f"/editor/articles/{slug}/", f"/editor/articles/{slug}/revisions/",
                  f"/editor/articles/{slug}/preview/"]
        if not Article.objects.filter(slug=slug, state="archived").exists():
            paths.append(f"/editor/articles/{slug}/edit/")
    for path in paths:
        check(page, path, found)
    writer = open_session()
    sign_in(writer.page, "editor")  # the writer's dashboard and their refused pages
    check(writer.page, "/editor/", found)
    assert not session.problems and not writer.problems, session.problems + writer.problems
    check(writer.page, "/editor/reports/", found, status=403)
    assert not found, axe.describe(found)


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never received the focus by Tab")


def test_search_audience_switch_and_review_steps_work_by_keyboard_alone(open_session, demo, artifacts):
    reader = open_session()
    page = reader.page
    page.goto("/")
    tab_to(page, "#home-q")
    page.keyboard.type("blood pressure")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Search")
    expect(page.locator(".search-results mark").first).to_be_visible()
    tab_to(page, ".search-results .article-card a")
    page.keyboard.press("Enter")
    expect(page.locator("#article-title")).to_be_visible()

    with_variants = next(a for a in Article.objects.filter(live_snapshot__isnull=False).select_related("live_snapshot")
                         if a.live_snapshot.variant_documents)
    page.goto(f"/articles/{with_variants.slug}/")
    tab_to(page, "#audience")
    page.keyboard.press("ArrowDown")
    audience = page.eval_on_selector("#audience", "select => select.value")
    assert audience in with_variants.live_snapshot.variant_documents
    expect(page).to_have_url(f"/articles/{with_variants.slug}/")  # choosing does not reload the page by itself
    tab_to(page, ".audience-switch button")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"/articles/{with_variants.slug}/?audience={audience}")
    expect(page.locator("#audience")).to_have_value(audience)

    # The review steps: a writer submits their draft for review with the keyboard only.
    writer = open_session()
    wpage = writer.page
    wpage.goto("/editor/login/")
    tab_to(wpage, "#id_username")
    wpage.keyboard.type("editor")
    wpage.keyboard.press("Tab")
    wpage.keyboard.type(PASSWORD)
    wpage.keyboard.press("Enter")
    expect(wpage.locator("h1")).to_contain_text("Good to see you")
    draft = Article.objects.filter(state="draft", created_by__username="editor").order_by("slug").first()
    wpage.goto(f"/editor/articles/{draft.slug}/")
    tab_to(wpage, "#do-submit")
    wpage.keyboard.press("Enter")
    expect(wpage.locator(".messages")).to_contain_text("Submitted")
    wpage.goto(f"/editor/articles/{draft.slug}/preview/")
    expect(wpage.locator('.steps li[aria-current="step"]')).to_have_text("Submitted")
    assert not reader.problems and not writer.problems, reader.problems + writer.problems


def test_it_shoots_the_public_pages_the_readme_shows(open_session, demo, artifacts):
    session = open_session()
    page = session.page
    page.goto("/")
    expect(page.locator("#recent-h")).to_be_visible()
    shoot(page, artifacts, "public-home")
    page.goto("/search/?q=blood+pressure")
    expect(page.locator(".search-results mark").first).to_be_visible()
    shoot(page, artifacts, "public-search")
    page.goto("/board/")
    expect(page.locator(".member-card").first).to_be_visible()
    shoot(page, artifacts, "public-board")
    page.locator(".member-card h2 a").first.click()
    expect(page.locator("#reviewed-h")).to_be_visible()
    shoot(page, artifacts, "public-profile")
    assert not session.problems, session.problems
