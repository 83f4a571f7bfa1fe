"""What a reader sees: build (part of) the book, serve it on 127.0.0.1, check each page in Debian's chromium.

Used by ``tests/test_book_pages.py`` (on a small fixture book under ``make test``, on the whole
``_build/html`` under ``make check-book``), and from the command line while working on a few pages::

    python tests/book_browser.py build book/02-concepts/optimizers --out /tmp/pages
    python tests/book_browser.py check /tmp/pages/_build/html [--screenshots DIR]
    python tests/book_browser.py shot /tmp/pages/_build/html book/02-concepts/optimizers.html \
        --width 390 --out a.png

``build`` writes the site to ``OUT/_build/html``.

Every request that leaves 127.0.0.1 is blocked and reported, so a page that needs the network fails. The
checks of one page (``check_page``) are the promises of ``book/_static/lossopt.css`` and of the notebooks'
rules: maths typeset, nothing wider than the column at laptop widths, no sideways panning on a phone, images
loaded and described, figures numbered with a caption and shown at full size, no object reprs in outputs, no
console errors.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).resolve().parent / "fixtures" / "book"
CHROMIUM = Path(os.environ.get("LOSSOPT_CHROMIUM", "/usr/bin/chromium"))
INSTALL_HINT = (
    "the browser tests need Debian's chromium and a CJK font: apt-get install chromium fonts-noto-cjk"
)

#: Chromium flags for a closed network: without the background-networking ones it keeps trying to reach
#: Google's servers (refused here, and noise in the console).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@dataclass(frozen=True)
class View:
    """A window a reader reads in: its width in CSS pixels and its colour scheme."""

    width: int
    dark: bool = False

    @property
    def name(self) -> str:
        return f"{self.width}px{'-dark' if self.dark else ''}"

    @property
    def laptop(self) -> bool:
        """Wide enough that code, tables and equations must fit the column (not just the page)."""
        return self.width >= 1280


#: A common laptop, a phone, and the laptop in dark mode.
VIEWS = (View(1440), View(390), View(1440, dark=True))


def page_files(html_root: Path) -> list[str]:
    """The reader's pages of a built site, relative to it (not Sphinx's assets, sources or redirect stubs)."""
    pages = []
    for path in sorted(html_root.rglob("*.html")):
        relative = path.relative_to(html_root)
        if relative.parts[0] in ("_static", "_sources", "_images") or relative.name == "404.html":
            continue
        if b'http-equiv="Refresh"' in path.read_bytes()[:2000]:  # index.html of Jupyter Book: a redirect
            continue
        pages.append(relative.as_posix())
    return pages


# --- building ----------------------------------------------------------------------------------------------


def build_book(
    entries: Sequence[str], out: Path, *, root_page: str | None = None, strict: bool = True
) -> Path:
    """Build the pages ``entries`` (toc paths such as ``book/02-concepts/optimizers``) with the real
    ``_config.yml`` into ``out/_build/html``, and return that folder.

    The source root is ``out/src``: the real ``_config.yml``, a ``_toc.yml`` listing only these pages, and
    links to ``book/`` (static files, extensions, bibliography) and to the fixture book, so that a page is
    built exactly as in the whole book. ``root_page`` is the landing page (default: the first entry).
    """
    src = out / "src"
    if src.exists():
        shutil.rmtree(src)
    src.mkdir(parents=True)
    shutil.copy(ROOT / "_config.yml", src / "_config.yml")
    (src / "book").symlink_to(ROOT / "book", target_is_directory=True)
    (src / "fixture").symlink_to(FIXTURE, target_is_directory=True)
    # The pages cite the bibliography: without its page, a partial build cannot resolve a citation.
    entries = [*entries, *([] if "book/bibliography" in entries else ["book/bibliography"])]
    first, *rest = [root_page, *entries] if root_page else list(entries)
    toc = [f"format: jb-book\nroot: {first}\n"]
    if rest:
        toc.append("chapters:\n" + "".join(f"  - file: {entry}\n" for entry in rest))
    (src / "_toc.yml").write_text("".join(toc), encoding="utf-8")
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(src),
        "--path-output",
        str(out),
    ]
    command += ["--builder", "html"] + (["-W", "-n", "--keep-going"] if strict else [])
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return out / "_build" / "html"


# --- serving and browsing ----------------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@contextlib.contextmanager
def serve(html_root: Path) -> Iterator[str]:
    """Serve a built site on 127.0.0.1 (a free port) while the block runs; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(html_root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing; {INSTALL_HINT}"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (it is in requirements.txt: run make test to set up .venv)"
    return None


@dataclass
class Visit:
    """What happened while a page loaded: console errors and the requests that tried to leave the site."""

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)


def new_context(browser: Any, base_url: str, view: View) -> tuple[Any, Visit]:
    """A browser context with the window of ``view`` in which every request off the site is blocked."""
    context = browser.new_context(
        viewport={"width": view.width, "height": 900}, color_scheme="dark" if view.dark else "light"
    )
    visit = Visit()

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith((base_url, "data:", "blob:")):
            route.continue_()
        else:
            visit.external.append(url)
            route.abort()

    context.route("**/*", route)
    return context, visit


# The measurements, in the page. Each problem is one line of text that says where it is.
_CHECK_PAGE_JS = r"""
async (laptop) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  // The animation player sets its first frame in a timeout.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const problems = [];
  const say = (el) =>
    (el.textContent || el.getAttribute("src") || "").replace(/\s+/g, " ").trim().slice(0, 70);
  const article =
    document.querySelector("article.bd-article") || document.querySelector("main") || document.body;
  const style = getComputedStyle(article);
  const right = article.getBoundingClientRect().right - parseFloat(style.paddingRight) + 1;
  const overflows = (el) => el.scrollWidth > el.clientWidth + 1;

  for (const el of document.querySelectorAll(".math")) {
    if (!el.querySelector("mjx-container")) problems.push(`raw TeX (not typeset): ${say(el)}`);
  }
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const commands = "times|frac|mathrm|alpha|beta|eta|theta|lambda|nabla|sum|sqrt|partial|left|right";
  const tex = new RegExp(`\\$[^$\\s][^$]*\\$|\\\\(${commands})\\b`);
  const verbatim = "pre, code, script, style, mjx-container, .math, .highlight";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement.closest(verbatim)) continue;
    if (tex.test(node.textContent)) {
      problems.push(`raw TeX in the text: ${node.textContent.trim().slice(0, 70)}`);
    }
  }
  for (const el of document.querySelectorAll("mjx-merror")) {
    problems.push(`MathJax error: ${el.getAttribute("data-mjx-error") || say(el)}`);
  }
  if (laptop) {
    for (const el of article.querySelectorAll('mjx-container[display="true"]')) {
      if (overflows(el) || el.getBoundingClientRect().right > right) {
        const what = say(el.querySelector("mjx-assistive-mml") || el);
        const size = `${el.scrollWidth} px in ${el.clientWidth} px`;
        problems.push(`display equation cut off at the column edge (${size}): ${what}`);
      }
    }
    for (const el of article.querySelectorAll("table")) {
      const box = el.getBoundingClientRect();
      if (box.right > right || overflows(el.parentElement)) {
        const what = say(el.querySelector("tr") || el);
        problems.push(`table wider than the column (${Math.round(box.width)} px): ${what}`);
      }
    }
    for (const el of article.querySelectorAll("pre")) {
      if (overflows(el)) {
        const lines = el.textContent.split("\n");
        const line = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
        const size = `${el.scrollWidth} px in ${el.clientWidth} px`;
        problems.push(
          `code or output wider than the column (${size}), longest line ` +
            `(${line.length} characters): ${line.trim().slice(0, 70)}`,
        );
      }
    }
  }
  const pageWidth = document.documentElement.scrollWidth;
  if (pageWidth > window.innerWidth + 1) {
    const culprits = [...article.querySelectorAll("*")]
      .filter((el) => el.children.length === 0)
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 1)
      .slice(0, 3)
      .map((el) => `<${el.tagName.toLowerCase()}> ${say(el)}`);
    const size = `${pageWidth} px in a ${window.innerWidth} px window`;
    problems.push(`the page pans sideways (${size}): ${culprits.join(" | ")}`);
  }
  for (const img of document.images) {
    if (!img.complete || img.naturalWidth === 0) problems.push(`image not loaded: ${say(img)}`);
  }
  for (const img of article.querySelectorAll("img")) {
    const alt = (img.getAttribute("alt") || "").trim();
    if (!alt || /\.(png|jpe?g|svg|gif)$/i.test(alt) || /^[0-9a-f]{16,}/.test(alt)) {
      problems.push(`image without a description (alt="${alt.slice(0, 40)}"): ${say(img)}`);
    }
    if (!img.closest(".cell_output")) continue;
    const figure = img.closest("figure");
    if (!figure || !figure.querySelector("figcaption .caption-number")) {
      problems.push(`figure without a number and caption (alt: ${alt.slice(0, 50)})`);
    }
    if (laptop) {
      const intended =
        parseFloat(img.style.width) || parseFloat(img.getAttribute("width")) || img.naturalWidth;
      const shown = img.getBoundingClientRect().width;
      if (shown < 0.97 * intended) {
        const size = `${Math.round(intended)} px wide in a column of ${Math.round(shown)} px`;
        problems.push(
          `figure shrunk to ${Math.round((100 * shown) / intended)} % of its size (${size}), ` +
            `so its text is smaller than drawn (alt: ${alt.slice(0, 50)})`,
        );
      }
    }
  }
  const reprs = new RegExp(
    [
      "<[\\w.]+ (object )?at 0x[0-9a-f]+>",
      "\\bnp\\.(float|int)\\d+\\(",
      "^\\[?<?Text\\(",
      "<matplotlib\\.",
      "<Figure size",
      "^\\[<[\\w.]+",
    ].join("|"),
    "m",
  );
  for (const el of article.querySelectorAll(".cell_output, div.output")) {
    const text = el.textContent;
    const match = text.match(reprs);
    if (match) {
      const around = text.slice(Math.max(0, match.index - 10), match.index + 60).trim();
      problems.push(`object repr in an output: ${around}`);
    }
  }
  const weight = (el) => parseInt(getComputedStyle(el).fontWeight, 10);
  for (const el of article.querySelectorAll("span.pasted-text")) {
    if (weight(el) >= 600 && weight(el.parentElement) < 600) {
      problems.push(`glued number in bold: ${say(el)}`);
    }
  }
  return problems;
}
"""


def check_page(context: Any, visit: Visit, url: str, view: View, screenshot: Path | None = None) -> list[str]:
    """Open ``url`` in ``context`` and return the problems a reader would meet there (empty: none).

    When there are problems and ``screenshot`` is given, a full-page screenshot is saved there.
    """
    page = context.new_page()
    visit.errors.clear()
    visit.external.clear()
    page.on("console", lambda message: visit.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: visit.errors.append(str(error)))
    try:
        page.goto(url, wait_until="load")
        problems: list[str] = page.evaluate(_CHECK_PAGE_JS, view.laptop)
        problems += [f"request off the site (blocked): {address}" for address in visit.external]
        problems += [f"console error: {text}" for text in visit.errors if "net::ERR_FAILED" not in text]
        if problems and screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        return problems
    finally:
        page.close()


def search_results(context: Any, base_url: str, query: str) -> list[str]:
    """The titles that the book's own search page lists for ``query``."""
    page = context.new_page()
    try:
        page.goto(f"{base_url}search.html?q={query}", wait_until="load")
        page.wait_for_selector("#search-results ul.search li, #search-results p", timeout=15_000)
        page.wait_for_function(
            "() => !document.querySelector('#search-results .search-summary') || "
            "document.querySelector('#search-results .search-summary').textContent.trim()"
        )
        return [
            item.inner_text().split("\n")[0]
            for item in page.query_selector_all("#search-results ul.search li")
        ]
    finally:
        page.close()


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright (whose own browser download is not reachable here)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_path(folder: Path, page: str, view: View) -> Path:
    return folder / f"{re.sub(r'[^A-Za-z0-9]+', '-', page.removesuffix('.html')).strip('-')}-{view.name}.png"


# --- command line ------------------------------------------------------------------------------------------


def _check_site(html_root: Path, screenshots: Path) -> int:
    pages = page_files(html_root)
    failures = 0
    with serve(html_root) as base_url, chromium() as browser:
        for view in VIEWS:
            context, visit = new_context(browser, base_url, view)
            for page in pages:
                shot = screenshot_path(screenshots, page, view)
                problems = check_page(context, visit, base_url + page, view, shot)
                failures += bool(problems)
                for problem in problems:
                    print(f"{view.name:11s} {page}: {problem}")
            context.close()
    print(
        f"{len(pages)} pages, {len(VIEWS)} views: {failures} failing page views"
        f" (screenshots in {screenshots})"
    )
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build some pages of the book with the real _config.yml")
    build.add_argument("entries", nargs="+", help="toc paths, e.g. book/02-concepts/optimizers")
    build.add_argument(
        "--out", type=Path, required=True, help="output folder (the site lands in OUT/_build/html)"
    )
    build.add_argument("--lenient", action="store_true", help="do not turn warnings into errors")
    check = commands.add_parser("check", help="check every page of a built site in the browser")
    check.add_argument("html", type=Path, help="a built site, e.g. _build/html")
    check.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "browser-screenshots")
    shot = commands.add_parser("shot", help="a full-page screenshot of one page, as a reader sees it")
    shot.add_argument("html", type=Path, help="a built site, e.g. _build/html")
    shot.add_argument(
        "page", help="the page, relative to the site, e.g. book/intro.html (may end in #anchor)"
    )
    shot.add_argument("--width", type=int, default=1440)
    shot.add_argument("--dark", action="store_true")
    shot.add_argument("--out", type=Path, required=True, help="the PNG file to write")
    shot.add_argument(
        "--viewport-only", action="store_true", help="only the first screen, not the whole page"
    )
    args = parser.parse_args(argv)
    if args.command == "shot":
        view = View(args.width, args.dark)
        with serve(args.html.resolve()) as base_url, chromium() as browser:
            context, _ = new_context(browser, base_url, view)
            page = context.new_page()
            page.goto(base_url + args.page, wait_until="load")
            page.evaluate(
                "async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }"
            )
            page.wait_for_timeout(300)
            page.screenshot(path=str(args.out), full_page=not args.viewport_only)
            context.close()
        print(f"wrote {args.out}")
        return 0
    if args.command == "build":
        html_root = build_book(args.entries, args.out.resolve(), strict=not args.lenient)
        print(f"built {html_root}")
        return 0
    reason = browser_missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    return _check_site(args.html.resolve(), args.screenshots.resolve())


if __name__ == "__main__":
    sys.exit(main())
