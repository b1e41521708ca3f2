"""Browser tests: Debian's Chromium driven by Playwright for Python (`playwright install` cannot
download browsers here; the system's is launched by path). scripts/test installs both when it runs
as root; without a Chromium these tests are skipped with a loud reason, never silently."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHOTS = Path(os.environ.get("LAMBDALITE_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Playwright's sync API runs an event loop on this thread while it is open: closed with the module,
    so that the tests after it can run their own (asyncio.run)."""
    path = chromium()
    if path is None:
        pytest.skip("NO CHROMIUM ON THIS MACHINE: the console's browser tests did not run "
                    "(apt-get install chromium; scripts/test does it when run as root)")
    playwright = pytest.importorskip("playwright.sync_api",
                                     reason="PLAYWRIGHT IS NOT INSTALLED: the console's browser tests did not run")
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page that records JavaScript errors, failed responses and requests to anywhere but the server."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.errors = []
    opened.on("pageerror", lambda e: opened.errors.append(str(e)))
    opened.on("response", lambda r: opened.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield opened
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
