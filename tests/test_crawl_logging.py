"""`python -m crawler crawl` logs as the LOG_* settings say, with or without --log-file; `--version`."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from scrapy.settings import Settings

from crawler import __version__
from crawler.commands.cli import main
from crawler.demo.server import SiteServer
from crawler.items import ArticleItem
from crawler.logformatter import ShortItemLogFormatter, short_item
from crawler.scheduling.cron import rotating_handler
from crawler.storage.writer import AlreadyStored
from tests.support.incsite import IncSite, run_crawl

#: the start of a line in Scrapy's default LOG_FORMAT / LOG_DATEFORMAT
DEFAULT_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[[\w.]+\] [A-Z]+: ")
CUSTOM = "FMT|%(levelname)s|%(name)s|%(message)s"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("logsite")
    site = IncSite(root / "site", 2)
    with SiteServer(site.root) as server:
        yield site.sources(server.base_url), root


def crawl(site: Any, tmp_path: Path, *extra: str) -> Any:
    sources, _root = site
    # run_crawl passes -s LOG_LEVEL=INFO first: a later -s wins, as with scrapy crawl -s.
    return run_crawl(sources, f"sqlite:///{tmp_path / 'log.db'}", *extra)


def test_log_level_applies_to_the_log_file(site: Any, tmp_path: Path) -> None:
    log = tmp_path / "logs" / "crawl.log"
    proc = crawl(site, tmp_path, "-s", "LOG_LEVEL=warning", "--log-file", str(log))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == ""
    text = log.read_text(encoding="utf-8") if log.exists() else ""
    assert " INFO: " not in text and " DEBUG: " not in text and "Crawl finished" not in text, text[:2000]


def test_log_format_applies_to_the_log_file(site: Any, tmp_path: Path) -> None:
    log = tmp_path / "crawl.log"
    proc = crawl(site, tmp_path, "-s", f"LOG_FORMAT={CUSTOM}", "--log-file", str(log))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == ""
    text = log.read_text(encoding="utf-8")
    assert "FMT|INFO|crawler.commands.cli|Crawl finished" in text
    assert "FMT|INFO|scrapy.core.engine|Spider opened" in text
    assert not [ln for ln in text.splitlines() if DEFAULT_LINE.match(ln)]


def test_log_file_setting_without_the_option(site: Any, tmp_path: Path) -> None:
    log = tmp_path / "scrapy.log"
    proc = crawl(site, tmp_path, "-s", f"LOG_FILE={log}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Crawl finished" in proc.stdout  # the summary is printed, as without LOG_FILE
    assert not [ln for ln in proc.stderr.splitlines() if DEFAULT_LINE.match(ln)], proc.stderr[-2000:]
    text = log.read_text(encoding="utf-8")
    assert "[scrapy.core.engine] INFO: Spider opened" in text and "Closing spider (finished)" in text
    # Drops are logged by URL, without the fetched page.
    assert "Dropped: not an article" in text and "raw_html" not in text


@pytest.mark.parametrize(("setting", "message"), [
    ("LOG_LEVEL=LOUD", "LOG_LEVEL must be one of"),
    ("LOG_FORMAT=%(message", "LOG_FORMAT"),
])
def test_bad_log_settings_are_usage_errors(tmp_path: Path, setting: str, message: str) -> None:
    result = CliRunner().invoke(main, ["crawl", "--db", f"sqlite:///{tmp_path / 'x.db'}", "-s", setting,
                                       "--log-file", str(tmp_path / "x.log")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr and len(result.stderr.splitlines()) == 1


def test_rotating_handler_follows_the_settings(tmp_path: Path) -> None:
    settings = Settings({"LOG_LEVEL": "ERROR", "LOG_FORMAT": "%(levelname)s %(message)s", "LOG_DATEFORMAT": "%H"})
    handler = rotating_handler(tmp_path / "a" / "x.log", settings=settings)
    try:
        assert handler.level == logging.ERROR
        assert handler.formatter is not None and handler.formatter._fmt == "%(levelname)s %(message)s"
        assert handler.formatter.datefmt == "%H"
    finally:
        handler.close()
    plain = rotating_handler(tmp_path / "b.log")  # the cron defaults, as before
    try:
        assert plain.level == logging.NOTSET and plain.formatter._fmt == "%(asctime)s [%(name)s] %(levelname)s: %(message)s"
    finally:
        plain.close()


def test_dropped_items_are_logged_by_url() -> None:
    from datetime import UTC, datetime

    item = ArticleItem(url="https://a.example/1", site="a", fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
                       raw_html=b"<html>" + b"x" * 10_000 + b"</html>")
    entry = ShortItemLogFormatter().dropped(item, AlreadyStored(item.url), None, None)
    assert entry["level"] == logging.INFO
    assert entry["args"]["item"] == "ArticleItem(url='https://a.example/1')"
    assert "raw_html" not in entry["msg"] % entry["args"]
    assert short_item({"a": 1}) == "{'a': 1}" and len(short_item("y" * 1000)) == 203


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"arabic-news-crawler {__version__}\n"
