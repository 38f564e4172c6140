"""Screenshots of `serve` for docs/: the overview and a story's page, from the demo's database.

Usage: python scripts/serve_screenshots.py [--db sqlite:///data/demo/demo.db] [--out docs]
Run `make demo` first. Uses the system's Chromium (apt-get install chromium) through Playwright.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from crawler.web.app import create_app  # noqa: E402
from crawler.web.db import open_readonly  # noqa: E402
from tests.support.browser import browser, chromium_path, live_server  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="sqlite:///data/demo/demo.db", help="(relative paths: from the repository root)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs")
    args = ap.parse_args()
    os.chdir(ROOT)
    executable = chromium_path()
    if executable is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    db = open_readonly(args.db)
    with db.session() as s:
        cluster = s.execute(text(
            "SELECT cluster_id FROM articles GROUP BY cluster_id ORDER BY count(*) DESC, min(id) LIMIT 1")).scalar()
    shots = [("serve-overview.png", "/", 1280), ("serve-cluster.png", f"/clusters/{cluster}", 1280),
             ("serve-search-phone.png", "/articles?q=" + "الوزارة", 390)]
    with live_server(create_app(db)) as base, browser(executable) as b:
        for name, path, width in shots:
            context = b.new_context(viewport={"width": width, "height": 900}, device_scale_factor=1, locale="ar")
            page = context.new_page()
            page.goto(base + path)
            if "cluster" in name:
                page.locator("details").first.evaluate("d => d.open = true")
            page.screenshot(path=str(args.out / name), full_page=True)
            context.close()
            print(args.out / name)
    db.close()


if __name__ == "__main__":
    main()
