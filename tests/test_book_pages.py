"""The pages a reader sees, checked in a real browser (Debian's chromium, driven by Playwright).

By default (``make test``) a small fixture book is built from the real ``_config.yml``: the fixture notebook
(``tests/fixtures/book``) exercises each kind of content (maths, code at the line budget, a result table,
glued numbers, a figure, an animation, an exercise, Chinese text) and the bibliography and one API page come
from the book itself. ``make check-book`` runs the same checks on every page of ``_build/html``
(``--book-html``). Each page is opened at 1440 px, at 390 px and at 1440 px in dark mode, with every request
that leaves the site blocked; what ``book_browser.check_page`` reports fails the test, with a screenshot of
the page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import book_browser
from book_browser import VIEWS, View

#: The fixture book: its own two pages, and pages of the book whose rendering they do not cover.
FIXTURE_ENTRIES = ["fixture/index", "fixture/notebook", "book/bibliography", "book/api/losses"]
SCREENSHOTS = book_browser.ROOT / "_build" / "browser-screenshots"


def _site_option(config: pytest.Config) -> Path | None:
    value = config.getoption("--book-html")
    return Path(value).resolve() if value else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "page" in metafunc.fixturenames:
        site = _site_option(metafunc.config)
        if site is not None:
            pages = book_browser.page_files(site)
            assert pages, f"--book-html {site}: no pages there"
        else:
            pages = [f"{entry}.html" for entry in FIXTURE_ENTRIES] + ["search.html", "genindex.html"]
        metafunc.parametrize("page", pages)
    if "view" in metafunc.fixturenames:
        metafunc.parametrize("view", VIEWS, ids=[view.name for view in VIEWS])


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = book_browser.browser_missing()
    if reason:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    with book_browser.chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = _site_option(request.config)
    if given is not None:
        return given
    return book_browser.build_book(FIXTURE_ENTRIES, tmp_path_factory.mktemp("fixture-book"))


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    with book_browser.serve(site) as url:
        yield url


@pytest.fixture(scope="module")
def contexts(browser: Any, base_url: str) -> Iterator[dict[View, Any]]:
    opened = {view: book_browser.new_context(browser, base_url, view) for view in VIEWS}
    yield opened
    for context, _ in opened.values():
        context.close()


def test_page_reads_well(page: str, view: View, base_url: str, contexts: dict[View, Any]) -> None:
    context, visit = contexts[view]
    screenshot = book_browser.screenshot_path(SCREENSHOTS, page, view)
    problems = book_browser.check_page(context, visit, base_url + page, view, screenshot)
    assert not problems, f"{page} at {view.name} (screenshot: {screenshot}):\n" + "\n".join(problems)


def test_search_finds_adam(base_url: str, contexts: dict[View, Any]) -> None:
    context, _ = contexts[VIEWS[0]]
    titles = book_browser.search_results(context, base_url, "Adam")
    assert titles, "the book's search page finds nothing for 'Adam'"


def test_checker_sees_what_a_reader_would_complain_about(browser: Any, tmp_path: Path) -> None:
    """The checks are not vacuous: a page with each defect is reported once per defect."""
    (tmp_path / "bad.html").write_text(BAD_PAGE, encoding="utf-8")
    with book_browser.serve(tmp_path) as url:
        context, visit = book_browser.new_context(browser, url, View(1440))
        problems = book_browser.check_page(context, visit, url + "bad.html", View(1440))
        context.close()
    expected = [
        "raw TeX",
        "code or output wider than the column",
        "table wider than the column",
        "image not loaded",
        "image without a description",
        "object repr in an output",
        "request off the site",
        "console error",
    ]
    for kind in expected:
        assert any(problem.startswith(kind) for problem in problems), f"not reported: {kind}\n{problems}"


BAD_PAGE = (
    """<!doctype html><html><head><meta name="viewport" content="width=device-width"></head><body>
<article class="bd-article" style="width: 600px">
  <p><span class="math">\\(x^2\\)</span></p>
  <pre style="overflow-x: auto">"""
    + "x = 1  # "
    + "long " * 40
    + """</pre>
  <div style="overflow-x: auto"><table style="width: 1200px"><tr><td>wide</td></tr></table></div>
  <img src="missing.png" alt="">
  <div class="cell_output"><pre>&lt;threadpoolctl.threadpool_limits at 0x7f397bcfc810&gt;</pre></div>
  <script src="https://cdn.example.org/lib.js"></script>
  <script>undefined_function();</script>
</article></body></html>
"""
)
