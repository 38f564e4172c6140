"""`import` on hostile records: each bad record is one counted bad line with its line number, every
good record around it is stored (SQLite and PostgreSQL), repairable fields are repaired and counted."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from sqlalchemy import select

from crawler.storage.importer import import_jsonl, record_to_item
from crawler.storage.models import Article
from tests.support.db import query
from tests.support.settings import project_settings
from tests.test_dedup import PARA

TEXT = "\n".join(PARA)


def _rec(n: int, **extra: object) -> str:
    return json.dumps({"url": f"https://a.example/{n}", "title": f"خبر رقم {n}", "text": TEXT, **extra},
                      ensure_ascii=False)


HOSTILE = [
    # (line, expected: "stored" or the bad-line reason)
    (json.dumps({"url": "http://[x/", "title": "خبر", "text": TEXT}, ensure_ascii=False), "invalid_url"),
    (_rec(101, related_headlines=[{"headline": 5}, {"headline": "عنوان خبر مرتبط", "url": "http://[x/"}]), "stored"),
    ("[" * 100_000 + "]" * 100_000, "too_deep"),
    ('{"a":' * 50_000 + "1" + "}" * 50_000, "too_deep"),
    (_rec(102, site="a\u0000b"), "stored"),
    (_rec(103, attribution="وكالة\u0000 الأنباء", published_at="2025-01-01\u0000"), "stored"),
    (_rec(104, published_at="2025-01-01T10:00:00+03:00 and more words than a date"), "stored"),
    (_rec(105, site="s" * 65), "site_too_long"),
    (_rec(106, attribution="م" * 600), "stored"),
    (json.dumps({"url": "https://a.example/" + "x" * 2100, "title": "خبر", "text": TEXT}), "invalid_url"),
    (json.dumps({"url": "https://a.example/" + "خ" * 400, "title": "خبر", "text": TEXT}), "invalid_url"),
    (_rec(107, authors=[1, None, "كاتب"], tags="not a list", author={"x": 1}), "stored"),
    (_rec(108, title_extra=[[[[]]]], related_headlines="x"), "stored"),
    (_rec(109, published_at=True, fetched_at=5), "stored"),
    # lone surrogates (JSON "\ud800" escapes, refused by UTF-8 encoders): removed, the record kept
    (json.dumps({"url": "https://a.example/110", "title": "خبر \ud800 عاجل", "text": TEXT + "\udc00",
                 "authors": ["كاتب\ud800"], "site": "موقع\udfff", "related_headlines": ["عنوان\ud800 آخر"]}),
     "stored"),
    (json.dumps({"url": "https://a.example/\ud800", "title": "خبر", "text": TEXT}), "invalid_url"),
]


def _write(path: Path) -> tuple[Path, int, dict[str, int], list[int]]:
    lines, good, bad, bad_lines = [], 0, {}, []
    for n, (line, expected) in enumerate(HOSTILE):
        lines.append(_rec(n))  # a good record before each hostile one
        good += 1
        lines.append(line)
        if expected == "stored":
            good += 1
        else:
            bad[expected] = bad.get(expected, 0) + 1
            bad_lines.append(len(lines))
    lines.append(_rec(999))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, good + 1, bad, bad_lines


def test_every_good_record_is_stored_and_each_bad_one_counted(db, tmp_path: Path, caplog) -> None:
    src, good, bad, bad_lines = _write(tmp_path / "hostile.jsonl")
    settings = project_settings({"IMPORT_BATCH_SIZE": 1000})
    with caplog.at_level(logging.WARNING, logger="crawler.storage.importer"):
        counts = import_jsonl(src, db, site=None, settings=settings, workers=0)
    assert counts["bad_reasons"] == bad
    assert counts["bad_lines"] == sum(bad.values())
    assert counts["stored"] == good
    for lineno in bad_lines:
        assert f"hostile.jsonl:{lineno}: bad line" in caplog.text
    fixed = counts["fixed"]
    assert fixed["related_headlines_entries_dropped"] >= 1
    assert fixed["published_at_dropped"] == 1 and fixed["attribution_cut"] == 1
    rows = {r[0]: r[1:] for r in query(db.url, select(Article.url, Article.site, Article.attribution,
                                                      Article.published_at, Article.related_headlines))}
    assert rows["https://a.example/102"][0] == "ab"
    assert rows["https://a.example/103"][1:3] == ("وكالة الأنباء", "2025-01-01")
    assert rows["https://a.example/104"][2] is None
    assert len(rows["https://a.example/106"][1]) == 512
    assert rows["https://a.example/101"][3] == [{"headline": "عنوان خبر مرتبط", "url": None}]
    assert rows["https://a.example/110"][0] == "موقع" and rows["https://a.example/110"][3] == ["عنوان آخر"]
    ((title, text, authors),) = query(db.url, select(Article.title, Article.text, Article.authors)
                                      .where(Article.url == "https://a.example/110"))
    assert (title, text, authors) == ("خبر عاجل", TEXT, ["كاتب"])
    # A re-run converges: nothing new, nothing lost, the same bad lines.
    again = import_jsonl(src, db, site=None, settings=settings, workers=0)
    assert again["stored"] == 0 and again["already_stored"] == good and again["bad_reasons"] == bad


def test_worker_processes_count_a_too_deep_line(sqlite_db, tmp_path: Path) -> None:
    src, good, bad, _ = _write(tmp_path / "hostile.jsonl")
    counts = import_jsonl(src, sqlite_db, site=None, settings=project_settings({"IMPORT_CHUNK_SIZE": 4}), workers=2)
    assert counts["stored"] == good and counts["bad_reasons"] == bad


def test_record_validation_is_whole() -> None:
    item = record_to_item({"url": " https://a.example/1 ", "title": "t", "text": "x", "site": "\x00",
                           "related_headlines": [{"headline": "h", "url": 7}, "عنوان", 3]}, "fallback")
    assert item.url == "https://a.example/1" and item.site == "fallback"
    assert item.related_headlines == [{"headline": "h", "url": None}, "عنوان"]
