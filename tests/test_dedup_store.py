"""Bulk index writes (crawler/dedup/index.py): the same rows whichever path the database takes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from crawler.dedup.index import _insert, band_candidates, write_docs
from crawler.storage.models import DedupBand, DedupDoc

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _doc(doc: int, url: str, cid: str) -> dict:
    return {"doc": doc, "url": url, "content_hash": "h" + url, "cluster_id": cid, "created_at": NOW}


def test_upserts_keep_the_last_row_of_a_repeated_key(db) -> None:
    with db.begin() as s:
        _insert(s, DedupDoc, [_doc(1, "https://a/1", "c1"), _doc(2, "https://a/2", "c2"), _doc(1, "https://a/1", "c9")],
                ["doc"], ["url", "content_hash", "cluster_id"])
    with db.begin() as s:
        _insert(s, DedupDoc, [_doc(2, "https://a/2", "c3")], ["doc"])  # DO NOTHING: the stored row stays
    with db.session() as s:
        assert dict(s.execute(select(DedupDoc.doc, DedupDoc.cluster_id)).all()) == {1: "c9", 2: "c2"}


def test_band_rows_written_and_found_in_bulk(db) -> None:
    docs = [_doc(10 + i, f"https://b/{i}", f"c{i}") for i in range(3000)]
    keys = [[(i * 7919 + k) % 5000 - 2500 for k in range(32)] for i in range(3000)]  # shared keys, negatives too
    with db.begin() as s:
        write_docs(s, docs, keys)
        write_docs(s, docs, keys)  # idempotent
    with db.session() as s:
        rows = s.execute(select(DedupBand.key, DedupBand.doc)).all()
        assert len(rows) == len({(k, d["doc"]) for d, ks in zip(docs, keys) for k in ks})
        found = band_candidates(s, [keys[0][0], keys[1][5], 10**15])
        assert "https://b/0" in found[keys[0][0]] and "https://b/1" in found[keys[1][5]] and 10**15 not in found
