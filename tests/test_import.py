"""`import`: records through cleaning, dedup and storage; bad lines are counted, never fatal."""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path

import pytest

from crawler.storage.export import export_corpus
from crawler.storage.importer import import_jsonl
from tests.test_dedup import OTHER, PARA
from tests.support.settings import project_settings


def _write(path: Path) -> Path:
    lines = [
        json.dumps({"url": "https://a.example/1", "title": "خبر أ", "text": "\n".join(PARA), "site": "a",
                    "published_at": "2025-01-01"}, ensure_ascii=False),
        json.dumps({"url": "https://b.example/1", "title": "خبر ب", "paragraphs": PARA[:4] + ["المصدر: واس"]},
                   ensure_ascii=False),
        json.dumps({"url": "https://d.example/1", "title": "خبر د", "text": "\n".join(OTHER), "outlet": "d"},
                   ensure_ascii=False),
        "this is not json",
        json.dumps({"url": "https://e.example/1", "text": "لا عنوان"}),
        "",
        json.dumps({"url": "https://f.example/1", "title": "قصير", "text": "نص قصير"}, ensure_ascii=False),
        json.dumps({"url": "https://g.example/1", "title": "English", "text": "An English brief, not Arabic."}),
        json.dumps({"url": "https://h.example/1", "title": "فارغ", "text": "المصدر: واس"}, ensure_ascii=False),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_import_counts_and_merges(db, tmp_path: Path) -> None:
    src = _write(tmp_path / "in.jsonl")
    counts = import_jsonl(src, db, site="fallback", settings=project_settings(), workers=0)
    assert counts["stored"] == 4 and counts["duplicates"] == 1  # the two-line brief is an article
    assert counts["bad_lines"] == 2 and counts["bad_reasons"] == {"missing_title": 1, "not_json": 1}
    assert counts["dropped"] == 2 and counts["dropped_reasons"] == {"empty": 1, "not_arabic": 1}
    export_corpus(db, tmp_path / "out.jsonl", "jsonl", all_copies=True)
    recs = {r["url"]: r for r in map(json.loads, (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines())}
    assert recs["https://b.example/1"]["site"] == "fallback"
    assert recs["https://b.example/1"]["cluster_id"] == recs["https://a.example/1"]["cluster_id"]
    assert "المصدر" not in recs["https://b.example/1"]["text"]  # cleaned like a crawled page
    again = import_jsonl(src, db, site="fallback", settings=project_settings(), workers=0)
    assert again["stored"] == 0 and again["already_stored"] == 4


def test_import_with_worker_processes(sqlite_db, tmp_path: Path) -> None:
    counts = import_jsonl(_write(tmp_path / "in.jsonl"), sqlite_db, site=None,
                          settings=project_settings({"IMPORT_BATCH_SIZE": 2}), workers=1)
    assert counts["stored"] == 4 and counts["duplicates"] == 1 and counts["bad_lines"] == 2


def test_line_rule_set_answers_as_searching_every_rule() -> None:
    """LineRuleSet (combined anchored rules, literal prefilters) gives the plain answer on every line."""
    from crawler.extract import rules
    from crawler.extract.line_rules import LineRuleSet

    fast = LineRuleSet(rules.BOILERPLATE_LINES)

    lines = [*PARA, *OTHER, "المصدر: واس", "Your browser does not support audio tag.", "جميع الحقوق محفوظة 2025",
             "اقرأ أيضا: خبر آخر", "شارك الخبر على فيسبوك", "تابعونا على تويتر", "إعلان", "© 2025", "  الصفحة 2 من 5",
             "هذا المقال يعبر عن رأي كاتبه", "https://example.com/x", PARA[0] * 3 + " جميع الحقوق محفوظة"]
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "saudinewsnet-2015-07-21_23.jsonl"
    if corpus.exists():
        with corpus.open(encoding="utf-8") as fh:
            for _, line in zip(range(300), fh):
                lines += json.loads(line).get("paragraphs") or []
    lines += ["YOUR BROWSER DOES NOT SUPPORT audio", "ALL RIGHTS RESERVED", "All Rıghts Reserved", "ſhare",
              "Views expressed here", "هذه المقالات تعبر عن رأي كتابها"]
    for line in lines:
        assert fast.matches(line) == any(p.search(line) for p in rules.BOILERPLATE_LINES), line


def test_import_command_takes_settings(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from crawler.commands.cli import main

    src, url = _write(tmp_path / "in.jsonl"), f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(main, ["import", str(src), "--db", url, "-s", "IMPORT_WORKERS=0"])
    assert result.exit_code == 0, result.output
    assert "stored: 4" in result.output and "bad_lines: 2" in result.output
    bad = CliRunner().invoke(main, ["import", str(src), "--db", url, "-s", "IMPORT_WORKERS"])
    assert bad.exit_code == 2 and "-s expects NAME=VALUE" in bad.output


def test_workers_yield_the_cpu_to_the_importing_process() -> None:
    import os
    from concurrent.futures import ProcessPoolExecutor

    from crawler.dedup.minhash import DedupConfig
    from crawler.storage.importer import _init_pool_worker

    settings = project_settings({"IMPORT_WORKER_NICE": 5})
    with ProcessPoolExecutor(1, initializer=_init_pool_worker, initargs=(settings, DedupConfig(), None)) as pool:
        assert pool.submit(os.nice, 0).result() == min(19, os.nice(0) + 5)


def test_search_body_from_the_matching_forms_of_title_and_text() -> None:
    """The importer joins the matching forms it has (search_body_of): the same string as search_body."""
    import random

    from crawler.storage.search import search_body, search_body_of
    from crawler.text import matching_codepoints

    rng = random.Random(11)
    body = "\n".join(PARA)
    pieces = ["", " ", "\n", "ΟΔΟΣ", "Σ", "ـ", "\u200f", "إِلى", "١٢", "«عاجل»", "word.", "ﻻ", "\t", "𝐀", "İ", "ّ", body[:40]]
    cases = [(body[:30], body), ("", body), (body[:30], ""), ("", ""), ("  ", "\n\n")]
    cases += [("".join(rng.choices(pieces, k=rng.randint(0, 6))), "".join(rng.choices(pieces, k=rng.randint(0, 8))))
              for _ in range(2000)]
    for title, text in cases:
        assert search_body_of(matching_codepoints(title)[0], matching_codepoints(text)[0]) == search_body(title, text), \
            (title, text)


def test_prepared_chunk_pickles_to_the_same_plain_list(tmp_path: Path) -> None:
    """A worker's chunk (records, dedup prep, headlines) comes out of pickle as the plain list it was."""
    import pickle

    import numpy as np

    from crawler.dedup.headlines import HeadlineConfig
    from crawler.dedup.minhash import DedupConfig
    from crawler.storage.importer import _chunks, _init_worker, _prepare_chunk

    path = _write(tmp_path / "in.jsonl")
    odd = {"url": "https://s.example/1", "title": "نص غريب 12", "text": "\n".join(PARA) + " \ud800 𝟏𝟐 😀"}
    with path.open("a", encoding="utf-8", errors="surrogatepass") as fh:
        fh.write(json.dumps(odd) + "\n")
    settings = project_settings()
    _init_worker(settings, DedupConfig.from_settings(settings), HeadlineConfig.from_settings(settings))
    (lines, _done), = _chunks(path, 100)
    prepared, _stats = _prepare_chunk(lines, None)
    back = pickle.loads(pickle.dumps(prepared, protocol=pickle.HIGHEST_PROTOCOL))
    assert type(back) is list and len(back) == len(prepared)
    assert sum(1 for p in back if p[2] is not None) == 5 and any(p[1] for p in back)
    for (lineno, reason, payload), (lineno2, reason2, payload2) in zip(prepared, back):
        assert (lineno, reason) == (lineno2, reason2) and (payload is None) == (payload2 is None)
        if payload is None:
            continue
        (record, (h, sh, facts, sig, keys), head), (record2, (h2, sh2, facts2, sig2, keys2), head2) = payload, payload2
        assert list(record2.items()) == list(record.items()) and head2 == head
        assert (h2, sig2, keys2) == (h, sig, keys) and np.array_equal(sh2, sh) and sh2.dtype == sh.dtype
        assert list(facts2.numbers.items()) == list(facts.numbers.items())
        assert np.array_equal(facts2.words, facts.words) and np.array_equal(facts2.terms, facts.terms)
    # the lone surrogate is removed (cleaned like an invisible mark); characters beyond the BMP survive
    odd_texts = [p[2][0]["text"] for p in back if p[2] is not None and "😀" in p[2][0]["text"]]
    assert len(odd_texts) == 1 and "𝟏𝟐 😀" in odd_texts[0] and "\ud800" not in odd_texts[0]


def _stored_rows(db) -> dict[str, object]:  # noqa: ANN001
    """What an import stored, without ids and times (they depend on how the batches were written)."""
    from sqlalchemy import text

    queries = {
        "articles": "SELECT a.url, a.cluster_id, a.content_hash, a.title, a.text, d.url FROM articles a "
                    "LEFT JOIN articles d ON d.id = a.dup_of",
        "merges": "SELECT kind, member, matched, cluster_id, method, score FROM merges",
        "docs": "SELECT url, content_hash, cluster_id FROM dedup_docs",
        "bands": "SELECT b.key, d.url FROM dedup_bands b JOIN dedup_docs d ON d.doc = b.doc",
        "variants": "SELECT variant, key_id, cluster_id, text, key FROM headline_variants",
        "headline_bands": "SELECT key, variant FROM headline_bands",
        "occurrences": "SELECT page_url, kind, pos, variant, url FROM headline_occurrences",
    }
    with db.session() as s:
        out: dict[str, object] = {name: sorted(map(tuple, s.execute(text(sql)))) for name, sql in queries.items()}
        out["search"] = s.execute(text("SELECT count(*) FROM article_search")).scalar()
    return out


def test_overlapped_writes_store_what_one_process_stores(db_url: str, tmp_path: Path) -> None:
    """Worker processes and the writer thread (a batch's articles written while the next batch is
    de-duplicated, IMPORT_OVERLAP_WRITES) store the same clusters, index and headline rows as the
    sequential in-process import, on 1,200 real articles in batches of 200 (near-copies across
    batches, repeated titles)."""
    from crawler.storage.database import Database
    from tests.support.corpora import CORPORA
    from tests.support.pg import pg_database

    corpus = [p for p in CORPORA if p.name.startswith("saudinewsnet")]
    if not corpus:
        pytest.skip("../shared/corpus is absent")
    src = tmp_path / "in.jsonl"
    with corpus[0].open(encoding="utf-8") as fh:
        src.write_text("".join(line for _, line in zip(range(1200), fh)), encoding="utf-8")
    settings = project_settings({"IMPORT_BATCH_SIZE": 200, "IMPORT_CHUNK_SIZE": 50})
    results = []
    for workers in (0, 2):  # 0: in-process and sequential; 2: worker processes and the writer thread
        with ExitStack() as stack:
            url = (f"sqlite:///{tmp_path / f'w{workers}.db'}" if db_url.startswith("sqlite")
                   else stack.enter_context(pg_database()))
            database = Database.open(url)
            stack.callback(database.close)
            counts = import_jsonl(src, database, site=None, settings=settings, workers=workers)
            results.append((counts, _stored_rows(database)))
    (counts0, rows0), (counts2, rows2) = results
    assert counts0 == counts2 and counts0["stored"] > 1100 and counts0["duplicates"] > 50, counts0
    for name in rows0:
        assert rows0[name] == rows2[name], name
