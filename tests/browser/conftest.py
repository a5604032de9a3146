"""Playwright driving Debian's headless Chromium against a live server and a real cluster.

Playwright's own browser download cannot work here; the Makefile installs Debian's
``chromium`` when it is missing. Screenshots go to ``test-artifacts/`` (gitignored).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

CHROMIUM = Path(os.environ.get("PLAYLISTER_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-pass-123"


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator[object]:
    """One Chromium per test module.

    Playwright's sync API keeps an asyncio loop running on this thread while it is open, and
    Django refuses ORM calls from a thread with a running loop (SynchronousOnlyOperation),
    although nothing here is async. So the browser lives only as long as the module, the
    test database exists before it starts, and the ORM is allowed meanwhile.
    """
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield launched
            launched.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go, one folder per database so both modes keep theirs."""
    folder = ARTIFACTS / f"browser-{connection.vendor}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def user(browser, drained, django_user_model):
    return django_user_model.objects.create_user(username="carol", password=PASSWORD)


@pytest.fixture
def page(browser, live_server, user) -> Iterator[object]:
    """A fresh browser context, logged in through the login form."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto("/")
    assert "/login/" in tab.url  # anonymous: sent to the login page
    tab.fill("input[name=username]", user.username)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(f"{live_server.url}/")
    yield tab
    context.close()
