"""The whole editorial flow in a real browser: an editor writes an article with citations and
submits it; the managing editor assigns two board members, who approve IN THE ADMIN by
re-entering their passwords; the managing editor publishes; the public page shows "Approved", the
reviewers and the numbered references; an edit afterwards leaves the public page unchanged."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from articles.models import Article
from reviewers.models import ReviewAssignment
from tests.factories import PASSWORD, BoardMemberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

BODY = (
    "## What heart failure is\n\n"
    "Heart failure means the heart cannot pump as well as the body needs [@trial2021].\n\n"
    "## Treatment\n\n"
    "Guidelines recommend four classes of medicine [@nice2018; @trial2021].\n"
)


# The screenshots README.md embeds (docs/screenshots/…); only these are copied there.
README_SCREENSHOTS = {"dashboard-demo", "editor", "article-detail", "public-page", "reports-currency",
                      "reports-board", "reports-evidence", "reports-conflicts", "reports-review-load"}
# The managing editor's reports on the demo data: (path, screenshot, a heading each must show).
DEMO_REPORTS = [("currency/", "reports-currency", "Content currency"), ("board/", "reports-board", "Board activity"),
                ("evidence/", "reports-evidence", "Evidence"), ("conflicts/", "reports-conflicts", "Conflict"),
                ("review-load/", "reports-review-load", "Review-date load")]


def sign_in(page, username: str, *, admin: bool = False, password: str = PASSWORD) -> None:
    page.goto("/admin/login/" if admin else "/editor/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]" if admin else "button[type=submit]")


def shoot(page, artifacts: Path, name: str) -> None:
    path = artifacts / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    # Refresh the README's copies on purpose only, and only the ones it embeds.
    if os.environ.get("IMPRIMATUR_UPDATE_SCREENSHOTS") == "1" and name in README_SCREENSHOTS:
        shutil.copy(path, DOCS_SCREENSHOTS / path.name)


def test_it_embeds_only_screenshots_the_browser_tests_write():
    readme = (DOCS_SCREENSHOTS.parents[1] / "README.md").read_text()
    embedded = set(re.findall(r"!\[[^\]]*\]\(docs/screenshots/([\w-]+)\.png\)", readme))
    source = Path(__file__).read_text()
    shot = set(re.findall(r'shoot\(\w+, artifacts, "([\w-]+)"\)', source)) | {name for _, name, _ in DEMO_REPORTS}
    written_here = README_SCREENSHOTS & shot
    assert written_here == README_SCREENSHOTS
    assert embedded >= README_SCREENSHOTS  # every screenshot this test copies to docs/ is one README shows


def test_it_shows_the_demo_dashboard(open_session, artifacts, settings, tmp_path):
    """The dashboard the README shows: the demo data (`manage.py seed_demo`) as the managing editor."""
    from django.contrib.auth.models import Group
    from django.core.management import call_command

    settings.MEDIA_ROOT = tmp_path / "media"  # the demo's figure is stored there

    for name in ("Writers", "Managing editors"):  # a transactional test may start without the migration's groups
        Group.objects.get_or_create(name=name)
    settings.IMPRIMATUR_DEMO_PASSWORD = PASSWORD
    call_command("seed_demo", stdout=io.StringIO())
    session = open_session()
    page = session.page
    sign_in(page, "chief")
    expect(page.locator("h1")).to_contain_text("Good to see you, Morgan")
    nav = page.get_by_role("navigation").first
    expect(nav.get_by_role("link", name="Reports")).to_be_visible()
    expect(page.get_by_role("heading", name="Articles by state")).to_be_visible()
    shoot(page, artifacts, "dashboard-demo")
    # The reports on the demo data, as the README shows them (tests/test_seed_demo.py checks that
    # none shows its empty state).
    for path, name, heading in DEMO_REPORTS:
        page.goto(f"/editor/reports/{path}")
        expect(page.locator("h1")).to_contain_text(heading)
        expect(page.locator("table").first).to_be_visible()
        shoot(page, artifacts, name)
    assert not session.problems, session.problems


def test_it_runs_the_editorial_flow_end_to_end(open_session, artifacts, writer, chief, board, topic):
    BoardMemberFactory(user__username="expired", printed_name="Dr Lapsed", licence_expires_on=dt.date(2020, 1, 1))
    # --- the editor writes and submits ------------------------------------------------------
    editor = open_session()
    page = editor.page
    sign_in(page, "writer")
    expect(page.locator("h1")).to_contain_text("Good to see you")
    expect(page.get_by_role("heading", name="Articles by state")).to_be_visible()
    shoot(page, artifacts, "dashboard-empty")

    page.click("text=New article")
    page.fill("#id_title", "Living with heart failure")
    page.fill("#id_summary", "What heart failure is and how it is treated.")
    page.select_option("#id_topic", label="Heart health")
    page.fill("#id_refs-0-key", "trial2021")
    page.fill("#id_refs-0-title", "SGLT2 inhibitors in heart failure with reduced ejection fraction")
    page.fill("#id_refs-0-authors", "Smith J\nOkafor A")
    page.fill("#id_refs-0-container", "N Engl J Med")
    page.fill("#id_refs-0-year", "2021")
    page.fill("#id_refs-0-doi", "10.1056/NEJMoa2022190")
    expect(page.locator(".ref-note").first).to_contain_text("new to the library")
    page.click("button[value=add_reference]")
    expect(page.locator("#id_refs-0-doi")).to_have_value("10.1056/NEJMoa2022190")  # kept as typed
    page.fill("#id_refs-1-key", "nice2018")
    page.select_option("#id_refs-1-kind", label="Guideline")
    page.fill("#id_refs-1-title", "Chronic heart failure in adults: diagnosis and management")
    page.fill("#id_refs-1-authors", "National Institute for Health and Care Excellence")
    page.fill("#id_refs-1-container", "NICE")
    page.fill("#id_refs-1-year", "2018")
    page.fill("#id_refs-1-url", "https://www.nice.org.uk/guidance/ng106")
    page.fill("#id_body_markdown", BODY)
    page.locator("#id_body_markdown").press("End")  # a keystroke: htmx refreshes the preview
    preview = page.locator("#preview")
    expect(preview.locator("ol.references li")).to_have_count(2)
    expect(preview.locator("sup.citation").first).to_have_text("[1]")
    expect(preview.locator("#ref-2")).to_contain_text("Guideline")
    shoot(page, artifacts, "editor")
    page.click("#save-article")

    expect(page.locator(".messages")).to_contain_text("created")
    slug = page.url.rstrip("/").split("/")[-1]
    article = Article.objects.get(slug=slug)
    expect(page.locator("#do-publish")).to_have_count(0)  # a writer never sees the editor's buttons
    page.click("#do-submit")
    expect(page.locator(".messages")).to_contain_text("Submitted")

    # --- the managing editor assigns two reviewers and opens the review -----------------------
    chief_session = open_session()
    cpage = chief_session.page
    sign_in(cpage, "chief")
    cpage.goto(f"/editor/articles/{slug}/")
    expect(cpage.locator("#transition-start_review .checklist")).to_contain_text("0 of 2 eligible reviewers assigned")
    for member in board[:2]:
        cpage.click(f"#assign-{member.user.username}")
        expect(cpage.locator(".messages")).to_contain_text(f"{member.printed_name} is assigned")
    expect(cpage.locator("#transition-start_review .checklist")).to_contain_text("2 of 2 eligible reviewers assigned")
    expect(cpage.locator("#suggestions")).to_contain_text("licence expired")  # listed last, with the reason
    shoot(cpage, artifacts, "article-detail")
    cpage.click("#do-start_review")
    expect(cpage.locator(".messages")).to_contain_text("Under review")

    # --- two board members approve in the admin, signing with their passwords ----------------
    for member in board[:2]:
        reviewer = open_session()
        rpage = reviewer.page
        sign_in(rpage, member.user.username, admin=True)
        assignment = ReviewAssignment.objects.get(article=article, reviewer=member)
        rpage.goto(f"/admin/reviewers/reviewassignment/{assignment.pk}/change/")
        rpage.check("input[name=decision][value=approve]")
        rpage.fill("#decision input[name=password]", PASSWORD)
        rpage.click("#decision input[type=submit]")
        expect(rpage.locator("#signature")).to_contain_text("approved as medically accurate")
        assert not reviewer.problems, "\n".join(reviewer.problems)

    # --- the managing editor publishes ---------------------------------------------------------
    cpage.goto(f"/editor/articles/{slug}/")
    expect(cpage.locator("#transition-publish .checklist")).to_contain_text("The working revision is approved.")
    cpage.click("#do-publish")
    expect(cpage.locator(".messages")).to_contain_text("Published")
    cpage.goto("/editor/")
    shoot(cpage, artifacts, "dashboard")

    # --- a reader sees the approved text --------------------------------------------------------
    reader = open_session()
    rpage = reader.page
    response = rpage.goto(f"/articles/{slug}/")
    assert response.status == 200
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    expect(rpage.locator('.steps li[aria-current="step"]')).to_have_text("Approved")
    reviewed_by = rpage.locator(".reviewed-by")
    for member in board[:2]:
        expect(reviewed_by).to_contain_text(member.printed_name)
    expect(reviewed_by).to_contain_text("Cardiology")
    expect(rpage.locator("ol.references > li")).to_have_count(2)
    expect(rpage.locator("#ref-1")).to_contain_text("SGLT2 inhibitors")
    expect(rpage.locator("#ref-2")).to_contain_text("Guideline")
    expect(rpage.locator(".article-body sup.citation a").first).to_have_attribute("href", "#ref-1")
    assert rpage.locator('script[type="application/ld+json"]').count() == 1
    expect(rpage.locator("#caution-pending")).to_have_count(0)
    shoot(rpage, artifacts, "public-page")
    published_body = rpage.locator(".article-body").inner_html()

    # --- an edit afterwards leaves the public page unchanged until re-approved ----------------
    page.goto(f"/editor/articles/{slug}/edit/")
    expect(page.locator(".banner.info")).to_contain_text("A published version is live")
    page.fill("#id_body_markdown", BODY + "\nA new paragraph nobody has reviewed yet [@trial2021].\n")
    page.fill("#id_change_note", "Add a paragraph on follow-up")
    page.click("#save-article")
    expect(page.locator(".messages")).to_contain_text("revision 2")
    expect(page.locator(".badge.state-draft")).to_be_visible()

    rpage.goto(f"/articles/{slug}/")
    expect(rpage.locator('.steps li[aria-current="step"]')).to_have_text("Approved")
    assert rpage.locator(".article-body").inner_html() == published_body
    expect(rpage.locator(".article-body")).not_to_contain_text("nobody has reviewed")

    page.goto(f"/editor/articles/{slug}/preview/")
    expect(page.locator("#preview-banner")).to_contain_text("not approved")
    expect(page.locator("#caution-pending")).to_be_visible()
    expect(page.locator(".article-body")).to_contain_text("nobody has reviewed")

    page.goto(f"/editor/articles/{slug}/revisions/?compare=live")
    expect(page.locator("table.diff tr.insert td.new").last).to_contain_text("nobody has reviewed")

    for session in (editor, chief_session, reader):
        assert not session.problems, session.problems
    assert re.match(r"^[a-z0-9-]+$", slug)
