"""Screenshots of the demo library for the README: docs/img/author.png and docs/img/topic.png.

    python tests/web/make_screenshots.py DEMO_DB [AUTHOR]

DEMO_DB is the library `paperscope demo` wrote (paperscope-demo/library.db); AUTHOR defaults to the author with
the most papers in it. Needs the web and test extras and /usr/bin/chromium.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from web.conftest import LiveServer, busiest_author, open_library  # noqa: E402


def main() -> None:
    from playwright.sync_api import sync_playwright

    from paperscope.web import create_app

    lib = open_library(Path(sys.argv[1]), readonly=True)
    name = sys.argv[2] if len(sys.argv) > 2 else busiest_author(lib)
    out = ROOT / "docs" / "img"
    out.mkdir(parents=True, exist_ok=True)
    with LiveServer(create_app(lib, token="x")) as server, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 1250})
        for path, file in ((f"/author/{quote(name)}", "author.png"), ("/topic/diffusion-models", "topic.png")):
            page.goto(server.url + path)
            page.wait_for_selector("body[data-ready=yes]")
            page.screenshot(path=str(out / file))
            print(out / file)
        browser.close()


if __name__ == "__main__":
    main()
