"""Fixtures of the UI tests: a served site, Debian's chromium driven by Playwright.

The browser tests skip when /usr/bin/chromium or the playwright package is missing,
and fail instead under ``SIGHTWIRE_REQUIRE_SERVICES=1``. Playwright never downloads
a browser here: it launches Debian's chromium by path.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.web.server import free_port, running
from tests.web.site import Site, build_site

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

CHROMIUM = Path(os.environ.get("SIGHTWIRE_CHROMIUM", "/usr/bin/chromium"))  # Debian's
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install playwright)"
    return None


# Module scope, not session: Playwright's sync API keeps an asyncio loop running in this
# thread while it is open, and every later asyncio.run() (other tests, the doctests)
# would fail with "cannot be called from a running event loop".
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("SIGHTWIRE_REQUIRE_SERVICES") == "1":
            pytest.fail(f"SIGHTWIRE_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import expect, sync_playwright

    # expect() waits for a condition; its 5 s default is short on 2 cores busy with
    # the rest of the suite (a page's fetches, a frame through the pipeline).
    expect.set_options(timeout=20_000)
    with sync_playwright() as playwright:
        # launch() gives every run a fresh, temporary profile (user-data dir).
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("ui-site")
    built = build_site(root, free_port())
    with running(built.config_path, built.url, root / "serve.log"):
        yield built


@pytest.fixture
def page(browser: Browser, site: Site) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=site.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[Any] = []

    def blocked(message: ConsoleMessage) -> None:
        # The pages' own policy must never block their own scripts or styles.
        if "Content Security Policy" in message.text:
            errors.append(message.text)

    page.on("pageerror", lambda error: errors.append(error))
    page.on("console", blocked)
    yield page
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page under tests/web/artifacts/ (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
