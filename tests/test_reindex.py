"""`reindex`: the de-duplication indexes rebuilt from stored articles after a configuration change."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from crawler.commands.cli import main
from crawler.dedup.minhash import DedupConfig, MinHasher
from crawler.dedup.index import DedupConfigMismatch, REBUILDING
from crawler.storage.models import DedupBand, DedupConfigRow, DedupDoc, HeadlineBand
from crawler.scheduling.lock import crawl_lock
from crawler.dedup.reindex import reindex
from crawler.storage.database import Database
from crawler.storage.models import Article
from tests.test_dedup import OTHER, PARA, item, pipes
from tests.support.settings import project_settings


def _store(database: Database, *items) -> None:
    dedup, store, _stats = pipes(database)
    for it in items:
        store.process_item(dedup.process_item(it))
    store.close_spider()


def _count(database: Database, model) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(model))


def _pretend_built_by(database: Database, fingerprint: str) -> None:
    """What a database made by an earlier release (or other DEDUP_* settings) holds."""
    with database.begin() as s:
        s.execute(update(DedupConfigRow).values(fingerprint=fingerprint))
        s.execute(update(Article).values(signature=b"MH1old-signature"))


def test_reindex_rebuilds_what_a_changed_configuration_refuses(db) -> None:
    _store(db, item("https://a.example/1", PARA), item("https://d.example/1", OTHER, title="الأسهم الخليجية"))
    with db.session() as s:
        before = dict(s.execute(select(Article.url, Article.cluster_id)).all())
    _pretend_built_by(db, "minhash-v1;affine32;xxh32;norm=text.normalize_for_matching;word3;perm=128")
    with pytest.raises(DedupConfigMismatch, match=r"earlier hashing scheme \(minhash-v1, now minhash-v2\).*reindex"):
        pipes(db)

    counts = reindex(db, project_settings())
    assert counts == {"articles": 2, "headlines": 2}
    assert _count(db, DedupDoc) == 2 and _count(db, DedupBand) == 2 * DedupConfig().bands
    assert _count(db, HeadlineBand) > 0
    hasher = MinHasher(DedupConfig())
    with db.session() as s:
        assert dict(s.execute(select(Article.url, Article.cluster_id)).all()) == before  # clusters kept
        for blob in s.scalars(select(Article.signature)):
            assert hasher.decode(blob).size == 128  # re-signed with the current configuration

    # The rebuilt band index works: a later near-copy of the first story joins its cluster.
    dedup, _store_pipe, _stats = pipes(db)
    copy = dedup.process_item(item("https://b.example/1", PARA[:4]))
    assert copy.cluster_id == before["https://a.example/1"] and copy.dup_method == "minhash"


def test_an_interrupted_reindex_is_refused_until_finished(sqlite_db) -> None:
    _store(sqlite_db, item("https://a.example/1", PARA))
    _pretend_built_by(sqlite_db, REBUILDING + DedupConfig().fingerprint)
    with pytest.raises(DedupConfigMismatch, match="interrupted"):
        pipes(sqlite_db)
    reindex(sqlite_db, project_settings())
    pipes(sqlite_db)  # accepted again


def test_reindex_with_other_settings(sqlite_db) -> None:
    _store(sqlite_db, item("https://a.example/1", PARA))
    reindex(sqlite_db, project_settings({"DEDUP_SEED": 7}))
    pipes(sqlite_db, DEDUP_SEED=7)
    with pytest.raises(DedupConfigMismatch):
        pipes(sqlite_db)


def test_reindex_command(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news.db'}"
    database = Database.open(url)
    _store(database, item("https://a.example/1", PARA))
    database.close()
    result = CliRunner().invoke(main, ["reindex", "--db", url])
    assert result.exit_code == 0, result.output
    assert "reindexed 1 articles and 1 headline spellings" in result.output
    with crawl_lock(url):
        locked = CliRunner().invoke(main, ["reindex", "--db", url])
    assert locked.exit_code == 75 and "lock" in locked.output
    bad = CliRunner().invoke(main, ["reindex", "--db", url, "-s", "DEDUP_BANDS=1000"])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")
