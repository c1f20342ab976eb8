"""The pages in headless Debian chromium (Playwright): they load with no console error, math and plots render,
hostile paper text stays text, and changes need the token. Screenshots go to tests/web/artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from .conftest import ARTIFACTS, HOSTILE_ID, TOKEN, busiest_author

CHROMIUM = Path(os.environ.get("PAPERSCOPE_CHROMIUM", "/usr/bin/chromium"))
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A browser tab that records console errors, page errors and dialogs."""

    def __init__(self, browser: Any, base: str, **context: Any) -> None:
        self.ctx = browser.new_context(**context)
        self.page = self.ctx.new_page()
        self.base = base
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def dialog(d: Any) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)

    def open(self, path: str, shot: str | None = None) -> Any:
        resp = self.page.goto(self.base + path)
        assert resp is not None and resp.status == 200, (path, resp and resp.status)
        self.page.wait_for_selector("body[data-ready=yes]", timeout=10_000)
        if shot:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(ARTIFACTS / f"{shot}.png"), full_page=True)
        return self.page

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture
def tab(browser: Any, live: Any) -> Iterator[Page]:
    t = Page(browser, live.url, viewport={"width": 1200, "height": 900})
    yield t
    t.close()


def test_every_page_loads_without_console_errors(tab: Page, library: Any) -> None:
    name = busiest_author(library)
    pid = library.store.conn.execute("SELECT arxiv_id FROM papers WHERE arxiv_id != ? LIMIT 1",
                                     (HOSTILE_ID,)).fetchone()[0]
    for path, shot in [("/", "home"), ("/topic/reward-model", "topic"), (f"/paper/{pid}", "paper"),
                       (f"/author/{quote(name)}", "author"), (f"/author/{quote(name)}?view=listing", "listing"),
                       ("/search?q=hallucination", "search"), ("/search?q=reward+model&mode=semantic", "semantic"),
                       ("/trends", "trends"), ("/api/docs", "apidocs")]:
        page = tab.open(path)
        if path == "/trends":
            page.wait_for_selector("canvas#map[data-points]", timeout=15_000)
        page.screenshot(path=str(_shot(shot)), full_page=True)
        assert tab.errors == [], (path, tab.errors)


def _shot(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def test_plots_and_math_render(tab: Page, library: Any) -> None:
    page = tab.open(f"/author/{quote(busiest_author(library))}")
    assert page.locator("svg.plot rect.bar").count() >= 2
    page = tab.open(f"/paper/{HOSTILE_ID}")
    assert int(page.get_attribute("body", "data-math") or 0) >= 2
    assert page.locator(".abstract .katex").count() >= 2
    page = tab.open("/trends")
    page.wait_for_selector("canvas#map[data-points]", timeout=15_000)
    assert int(page.get_attribute("canvas#map", "data-points") or 0) > 100
    # clicking the map lists the papers of that neighbourhood, as links to their pages
    page.locator("canvas#map").click(position={"x": 450, "y": 310})
    assert page.locator("#map-near li a").count() == 12
    assert page.locator("svg.plot rect.bar").count() > 10
    page.screenshot(path=str(_shot("trends-clicked")), full_page=True)
    assert tab.errors == []


def test_hostile_paper_text_shows_as_text_and_runs_nothing(tab: Page) -> None:
    from .conftest import XSS

    for path in (f"/paper/{HOSTILE_ID}", "/search?q=attack", "/topic/reward-model"):
        page = tab.open(path)
        assert page.evaluate("() => window.__pwned") is None, path
    page = tab.open(f"/paper/{HOSTILE_ID}", "hostile")
    assert "<script>" in page.inner_text("h1")
    assert page.locator("article.paper-detail img, article.paper-detail script").count() == 0
    assert page.locator("a[href^='javascript:' i]").count() == 0
    assert page.locator(".abstract b, .authors b").count() == 0  # <b>bold</b> shows as text too
    text = page.inner_text("article.paper-detail")
    for piece in ("onerror=", "javascript:alert(1)", "<b>Lovelace</b>"):
        assert piece in text or piece in XSS["comment"], piece
    assert tab.dialogs == [] and tab.errors == []


def test_rating_needs_the_token(tab: Page, library: Any) -> None:
    page = tab.open(f"/paper/{HOSTILE_ID}")
    page.click("form.rate button[value=up]")
    page.wait_for_selector("form.rate .msg.bad")
    assert "token" in page.inner_text("form.rate .msg")
    assert library.store.ratings().get(HOSTILE_ID) is None
    tab.open(f"/login?token={TOKEN}&next=/paper/{HOSTILE_ID}")
    page.click("form.rate button[value=up]")
    page.wait_for_selector("form.rate button[value=up].on")
    assert library.store.ratings().get(HOSTILE_ID) == "up"


def test_rating_buttons_draw_their_thumbs_without_an_emoji_font(tab: Page) -> None:
    """The 👍/👎 glyphs showed as empty boxes where no colour-emoji font is installed (as here): the icons are drawn."""
    page = tab.open(f"/paper/{HOSTILE_ID}")
    for value in ("up", "down"):
        button = page.locator(f"form.rate button[value={value}]")
        assert button.inner_text().strip() == ""  # no glyph that needs a font
        assert button.get_attribute("title") and button.get_attribute("aria-label")
        box = button.locator("svg.thumb").bounding_box()
        assert box is not None and box["width"] >= 10 and box["height"] >= 10, value
    up = page.locator("form.rate button[value=up] svg.thumb").screenshot()
    down = page.locator("form.rate button[value=down] svg.thumb").screenshot()
    assert up != down


def test_follow_needs_the_token(tab: Page, library: Any) -> None:
    name = busiest_author(library)
    page = tab.open(f"/author/{quote(name)}")
    page.click("form.follow button")
    page.wait_for_selector("form.follow .msg.bad")
    assert library.store.following() == []
    tab.open(f"/login?token={TOKEN}&next=/author/{quote(name)}")
    page.click("form.follow button")
    page.wait_for_selector("form.follow button.on")
    assert [f["name"] for f in library.store.following()] == [name]
    page.click("form.follow button")
    page.wait_for_selector("form.follow button:not(.on)")
    assert library.store.following() == []


def test_search_marks_the_matched_words(tab: Page) -> None:
    page = tab.open("/search?q=hallucination", "search-marks")
    marks = page.locator(".results mark")
    assert marks.count() > 0
    assert all(m.lower().startswith("hallucinat") for m in marks.all_inner_texts())


def test_search_marks_a_phrase_where_its_words_stand_together(tab: Page) -> None:
    """'"reward model"' marked every "reward" and every "model" apart; now the phrase, and the other word alone."""
    import re

    page = tab.open('/search?q=%22reward+model%22+preference', "search-phrase-marks")
    marks = [m.lower() for m in page.locator(".results mark").all_inner_texts()]
    phrases = [m for m in marks if m.startswith("reward")]
    assert phrases and all(re.fullmatch(r"reward\w*\W+model\w*", m) for m in phrases), phrases
    assert "preference" in marks or any(m.startswith("preference") for m in marks)
    assert not [m for m in marks if m.startswith("model")]  # "model" alone is not what was asked


def test_author_page_reads_on_a_phone(browser: Any, live: Any, library: Any) -> None:
    phone = Page(browser, live.url, viewport={"width": 390, "height": 844}, is_mobile=True, device_scale_factor=2)
    try:
        page = phone.open(f"/author/{quote(busiest_author(library))}", "author-phone")
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 390 + 1
    finally:
        phone.close()
