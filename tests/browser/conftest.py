"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Never a downloaded browser: `/usr/bin/chromium` comes from apt (`make system-deps`). Playwright's
sync API runs an event loop in this thread, which trips Django's async-unsafe guard on ORM calls
made by the test itself; the guard is about real async code, so it is switched off here only.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("IMPRIMATUR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it with `apt-get install -y chromium` "
                    "(make system-deps does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class Session:
    """One browser context (one signed-in person), recording any Content-Security-Policy
    violation or page error it meets."""

    def __init__(self, browser, base_url: str) -> None:
        self.context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, message) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            self.problems.append(message.text)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_session(chromium, live_server, settings):
    # The live server answers as SITE_URL; snapshots' links are built from it.
    settings.SITE_URL = live_server.url
    sessions: list[Session] = []

    def make() -> Session:
        session = Session(chromium, live_server.url)
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()
