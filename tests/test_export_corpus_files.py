"""Corpus files people can trust: typed Parquet, the dataset card, WARC of the stored pages.

Parquet is read back with pyarrow and compared with the JSON lines of the same
export; the WARC is read back with warcio (an independent reader) and compared
with the stored pages; the card's numbers are checked against the file.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

import crawler.storage.export as export_mod
from crawler.commands.cli import main
from crawler.items import ArticleItem
from crawler.sources import parse_sources
from crawler.stats import CounterStats
from crawler.storage.database import stored_page
from crawler.storage.export import ARTICLE_FIELDS, HEADLINE_FIELDS, export_corpus
from crawler.storage.models import RawPage
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.support.settings import project_settings
from tests.test_dedup import OTHER, PARA

HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Server", "test/1.0"),
           ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Length", "99999")]
# url, paragraphs, published_at, fetched day, headers kept?
ROWS = [
    ("https://b.example/1", PARA, "2025-01-02", 5, True),               # bare date
    ("https://a.example/1", PARA[:4], "2025-01-01T10:00:00+03:00", 5, True),  # with a zone
    ("https://c.example/1", PARA, None, 6, False),                      # undated, stored before headers were kept
    ("https://d.example/1", OTHER, "2025-01-03T08:30:00", 7, True),     # naive date-time
    ("https://e.example/1", OTHER[:3] + PARA[:1], "2025-01-04T23:00:00Z", 8, True),
]
SOURCES = """
sources:
  - name: a
    start_urls: [https://a.example/]
    disallows_training: true
    licence: "© a.example, all rights reserved"
  - name: b
    start_urls: [https://b.example/]
    licence: CC BY 4.0
"""


def page(url: str) -> bytes:
    return f"<html><head><title>{url}</title></head><body><p>صفحة {url}</p></body></html>".encode()


@pytest.fixture
def corpus(db):
    stats = CounterStats()
    dedup, store = DedupPipeline.build(project_settings(), stats, db), StorePipeline.build(project_settings(), stats, db)
    dedup.open_spider()
    for url, paras, pub, day, kept in ROWS:
        it = ArticleItem(url=url, site=url.split("/")[2].split(".")[0], fetched_at=datetime(2025, 1, day, 9, 15, 30, 123456, tzinfo=UTC),
                         raw_html=page(url), encoding="utf-8", http_status=200, http_headers=HEADERS if kept else None,
                         title="عنوان " + url[-3:], text="\n".join(paras), published_at=pub, tags=["وسم", "آخر"],
                         authors=["كاتب"], related_headlines=[{"headline": "خبر ذو صلة مكرر هنا", "url": "https://x.example/r"}])
        store.process_item(dedup.process_item(it))
    store.close_spider()
    if True:  # the page of c was stored before migration 0003: no status, no headers
        with db.begin() as s:
            s.execute(RawPage.__table__.update().where(RawPage.article_id == select(
                export_mod.Article.id).where(export_mod.Article.url == "https://c.example/1").scalar_subquery())
                .values(http_status=None, http_headers=None))
    return db


def jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("all_copies", [False, True])
def test_typed_parquet_has_one_row_per_record_with_the_same_values(corpus, tmp_path: Path, all_copies: bool,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export_mod, "_ROW_GROUP", 1)  # streamed: several row groups
    export_corpus(corpus, tmp_path / "c.jsonl", "jsonl", all_copies=all_copies)
    n = export_corpus(corpus, tmp_path / "c.parquet", "parquet", all_copies=all_copies)
    records = jsonl(tmp_path / "c.jsonl")
    pf = pq.ParquetFile(tmp_path / "c.parquet")
    assert pf.metadata.num_row_groups > 1
    table = pf.read()
    schema = table.schema
    assert table.column_names == ARTICLE_FIELDS + ["published_at_original"]
    for f in ("published_at", "fetched_at"):
        assert schema.field(f).type == pa.timestamp("us", tz="UTC")
    for f in ("authors", "tags", "duplicate_urls"):
        assert schema.field(f).type == pa.list_(pa.string())
    for f in ("url", "site", "title", "text", "attribution", "cluster_id", "published_at_original"):
        assert schema.field(f).type == pa.string()
    rows = table.to_pylist()
    assert n == len(rows) == len(records) == pf.metadata.num_row_groups
    assert n == 5 if all_copies else 2 <= n < 5
    expected = {
        "2025-01-02": (datetime(2025, 1, 2, tzinfo=UTC), "2025-01-02"),
        "2025-01-01T10:00:00+03:00": (datetime(2025, 1, 1, 7, tzinfo=UTC), "2025-01-01T10:00:00+03:00"),
        None: (None, None),
        "2025-01-03T08:30:00": (datetime(2025, 1, 3, 8, 30, tzinfo=UTC), None),
        "2025-01-04T23:00:00Z": (datetime(2025, 1, 4, 23, tzinfo=UTC), "2025-01-04T23:00:00Z"),
    }
    for row, rec in zip(rows, records, strict=True):
        for f in ARTICLE_FIELDS:
            if f not in ("published_at", "fetched_at"):
                assert row[f] == rec[f], f
        assert (row["published_at"], row["published_at_original"]) == expected[rec["published_at"]]
        assert row["fetched_at"] == datetime.fromisoformat(rec["fetched_at"])
        assert row["fetched_at"].microsecond == 123456


def test_headline_parquet_is_typed(corpus, tmp_path: Path) -> None:
    export_corpus(corpus, tmp_path / "h.jsonl", "jsonl", what="headlines")
    export_corpus(corpus, tmp_path / "h.parquet", "parquet", what="headlines")
    table = pq.read_table(tmp_path / "h.parquet")
    assert table.column_names == HEADLINE_FIELDS
    assert table.schema.field("count").type == pa.int64()
    assert table.schema.field("variants").type == pa.list_(pa.string())
    assert table.schema.field("urls").type == pa.list_(pa.string())
    assert table.to_pylist() == jsonl(tmp_path / "h.jsonl")


@pytest.mark.parametrize(("fmt", "kwargs"), [
    ("jsonl", {}), ("parquet", {"all_copies": True}), ("csv", {"site": "a"}), ("jsonl", {"since": "2025-01-02"}),
    ("warc", {"all_copies": True}),
])
def test_card_tells_the_truth_about_its_file(corpus, tmp_path: Path, fmt: str, kwargs: dict[str, Any]) -> None:
    out = tmp_path / f"corpus.{fmt}"
    n = export_corpus(corpus, out, fmt, sources=parse_sources(SOURCES), sources_file="s.yaml", **kwargs)
    export_corpus(corpus, tmp_path / "same.jsonl", "jsonl", **kwargs)
    records = jsonl(tmp_path / "same.jsonl")
    card = json.loads((tmp_path / f"corpus.{fmt}.card.json").read_text(encoding="utf-8"))
    md = (tmp_path / f"corpus.{fmt}.card.md").read_text(encoding="utf-8")
    assert card["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert card["bytes"] == out.stat().st_size and card["file"] == out.name
    assert card["record_count"] == n == len(records)
    assert sum(card["counts_per_site"].values()) == n
    per_site: dict[str, int] = {}
    for r in records:
        per_site[r["site"]] = per_site.get(r["site"], 0) + 1
    assert card["counts_per_site"] == per_site
    dates = [export_mod.parse_published(r["published_at"])[0] for r in records if r["published_at"]]
    assert card["published_at_range"]["min"] == min(dates).isoformat()
    assert card["published_at_range"]["max"] == max(dates).isoformat()
    assert card["published_at_range"]["records_without_date"] == sum(1 for r in records if not r["published_at"])
    copies = n if kwargs.get("all_copies") else n + sum(len(r["duplicate_urls"]) for r in records)
    assert card["copies_stored"] == copies
    clusters = len({r["cluster_id"] for r in records})
    assert card["duplicates_merged"] == copies - clusters
    assert card["dedup_config"]["articles"].startswith("minhash-")
    assert card["crawl_runs"]["copies_from_no_run"] == copies and card["crawl_runs"]["runs"] == []
    assert card["project"]["version"] and card["command"].startswith("python -m crawler export --format " + fmt)
    assert card["filters"] == {"all_copies": bool(kwargs.get("all_copies")), "since": kwargs.get("since"),
                               "site": kwargs.get("site")}
    notes = {x["site"]: x for x in card["licences"]}
    assert set(notes) == set(per_site)
    if "a" in notes:
        assert notes["a"]["disallows_training"] is True and notes["a"]["licence"].startswith("©")
    if "b" in notes:
        assert notes["b"] == {"site": "b", "in_sources_file": True, "disallows_training": False, "licence": "CC BY 4.0"}
    if "d" in notes:
        assert notes["d"]["in_sources_file"] is False
    # The Markdown card shows the same numbers.
    assert card["sha256"] in md and f"| {out.name} | {fmt} | {n} | {card['bytes']} |" in md
    for site, count in per_site.items():
        assert f"| {site} | {count} |" in md
    assert card["published_at_range"]["min"] in md and card["published_at_range"]["max"] in md
    assert f"| {card['copies_stored']} | {card['duplicates_merged']} | {card['clusters']} |" in md
    assert card["dedup_config"]["articles"] in md
    if "a" in notes:
        assert "disallow use as machine-learning training data: `a`" in md


def test_card_of_headlines_and_without_sources(corpus, tmp_path: Path) -> None:
    n = export_corpus(corpus, tmp_path / "h.csv", "csv", what="headlines")
    card = json.loads((tmp_path / "h.csv.card.json").read_text(encoding="utf-8"))
    assert card["record_count"] == n and card["counts_per_site"] == {} and card["sources_file"] is None
    assert {x["site"] for x in card["licences"]} == {"a", "b", "c", "d", "e"}
    assert "no licence notes" in (tmp_path / "h.csv.card.md").read_text(encoding="utf-8")


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


@pytest.mark.parametrize(("name", "all_copies"), [("pages.warc.gz", True), ("pages.warc", False)])
def test_warc_reads_back_with_warcio(corpus, tmp_path: Path, name: str, all_copies: bool) -> None:
    out = tmp_path / name
    n = export_corpus(corpus, out, "warc", all_copies=all_copies)
    export_corpus(corpus, tmp_path / "same.jsonl", "jsonl", all_copies=all_copies)
    records = jsonl(tmp_path / "same.jsonl")
    assert (out.read_bytes()[:2] == b"\x1f\x8b") == name.endswith(".gz")
    with out.open("rb") as fh:
        seen = []
        for rec in ArchiveIterator(fh, check_digests="raise"):
            body = rec.content_stream().read()
            seen.append((rec, body, rec.http_headers))
    assert seen[0][0].rec_type == "warcinfo" and seen[0][0].rec_headers.protocol == "WARC/1.1"
    assert b"arabic-news-crawler" in seen[0][1]
    responses = seen[1:]
    assert all(r.rec_type == "response" for r, _, _ in responses)
    assert n == len(responses) == len(records)
    assert [r.rec_headers.get_header("WARC-Target-URI") for r, _, _ in responses] == [x["url"] for x in records]
    info_id = seen[0][0].rec_headers.get_header("WARC-Record-ID")
    for (r, body, http), x in zip(responses, records, strict=True):
        assert r.rec_headers.protocol == "WARC/1.1"
        assert r.rec_headers.get_header("WARC-Warcinfo-ID") == info_id
        assert body == stored_page(corpus, x["url"]).html == page(x["url"])
        assert r.rec_headers.get_header("WARC-Payload-Digest") == sha1_b32(body)
        fetched = datetime.fromisoformat(x["fetched_at"])
        assert r.rec_headers.get_header("WARC-Date") == fetched.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        assert http.get_statuscode() == "200" and http.get_header("Content-Length") == str(len(body))
        if x["url"] == "https://c.example/1":
            assert r.rec_headers.get_header("X-Crawler-Http-Headers") == "reconstructed"
            assert http.get_header("Content-Type") == "text/html; charset=utf-8"
        else:
            assert r.rec_headers.get_header("X-Crawler-Http-Headers") is None
            assert http.get_header("Server") == "test/1.0"
            assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
            assert http.get_header("X-Crawler-Original-Content-Length") == "99999"


def test_warc_filters_and_refusals(corpus, tmp_path: Path) -> None:
    assert export_corpus(corpus, tmp_path / "a.warc.gz", "warc", site="a") == 1
    assert export_corpus(corpus, tmp_path / "s.warc.gz", "warc", all_copies=True, since="2025-01-02") == 4
    with pytest.raises(ValueError):
        export_corpus(corpus, tmp_path / "h.warc.gz", "warc", what="headlines")
    assert not (tmp_path / "h.warc.gz").exists() and not (tmp_path / "h.warc.gz.card.json").exists()


def test_failed_export_leaves_no_card(corpus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_a: Any, **_k: Any) -> Any:
        yield {"url": "x", "site": "a"}
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(export_mod, "articles", boom)
    out = tmp_path / "out"
    for fmt in ("parquet", "warc"):
        with pytest.raises(RuntimeError):
            export_corpus(corpus, out / f"c.{fmt}", fmt)
    assert sorted(p.name for p in out.iterdir()) == []


def test_export_command_warc_and_sources(sqlite_db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = sqlite_db.url
    monkeypatch.chdir(tmp_path)  # no sources.yaml here: no licence notes, no error
    r = CliRunner().invoke(main, ["export", "--format", "warc", "--out", "p.warc.gz", "--db", url])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "p.warc.gz.card.json").exists() and (tmp_path / "p.warc.gz.card.md").exists()
    (tmp_path / "s.yaml").write_text(SOURCES, encoding="utf-8")
    r = CliRunner().invoke(main, ["export", "--format", "parquet", "--out", "c.parquet", "--db", url, "--sources", "s.yaml"])
    assert r.exit_code == 0, r.output
    card = json.loads((tmp_path / "c.parquet.card.json").read_text(encoding="utf-8"))
    assert card["sources_file"] == "s.yaml" and card["command"].endswith("--sources s.yaml")
    (tmp_path / "bad.yaml").write_text("sources: 3\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["export", "--format", "jsonl", "--out", "c.jsonl", "--db", url, "--sources", "bad.yaml"])
    assert r.exit_code == 2
    r = CliRunner().invoke(main, ["export", "--format", "warc", "--out", "h.warc", "--db", url, "--what", "headlines"])
    assert r.exit_code == 2 and "headlines" in r.output
