"""The start-up fast path of the migrations: a database at the head revision is not handed to Alembic."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from crawler.storage.database import Database
from crawler.storage.migrations import (
    alembic_config,
    create_new_sqlite,
    head_revisions,
    is_current,
    sqlite_schema,
    upgrade,
)

ROOT = Path(__file__).resolve().parents[1]


def test_head_revisions_are_alembics() -> None:
    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_a_current_database_is_not_handed_to_alembic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert not is_current(engine)  # new: no alembic_version table
    upgrade(engine, "0003")
    assert not is_current(engine)  # behind the head
    calls: list[str] = []
    real = command.upgrade
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: (calls.append(rev), real(cfg, rev)))
    upgrade(engine)
    assert calls == ["head"] and is_current(engine)
    upgrade(engine)  # at the head: one query, no Alembic
    assert calls == ["head"]
    engine.dispose()


def _schema_and_rows(path: Path) -> tuple[list[str], dict[str, list], dict[str, object]]:
    """The schema SQL, every table's rows (shadow tables included) and the pragmas a migration could set."""
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE "
                                            "'CREATE VIRTUAL%' ORDER BY name")]
        rows = {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables}
        master = sorted(con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(), key=repr)
        pragmas = {p: con.execute(f"PRAGMA {p}").fetchone()[0] for p in ("user_version", "application_id",
                                                                          "auto_vacuum", "encoding")}
        return sqlite_schema(con) + [repr(m) for m in master], rows, pragmas
    finally:
        con.close()


def _by_alembic(path: Path, revision: str = "head") -> None:
    engine = create_engine(f"sqlite:///{path}")
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    engine.dispose()


def test_sqlite_head_is_the_schema_the_migrations_build(tmp_path: Path) -> None:
    from crawler.storage.migrations import sqlite_head

    assert head_revisions() == {sqlite_head.REVISION}, "a new revision: run python -m crawler.storage.migrations"
    _by_alembic(tmp_path / "a.db")
    con = sqlite3.connect(tmp_path / "a.db")
    assert tuple(sqlite_schema(con)) == sqlite_head.STATEMENTS, "run python -m crawler.storage.migrations"
    con.close()


def test_a_new_sqlite_database_is_created_without_alembic_and_identical(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _by_alembic(tmp_path / "alembic.db")
    calls: list[str] = []
    real = command.upgrade
    monkeypatch.setattr(command, "upgrade", lambda cfg, rev: (calls.append(rev), real(cfg, rev)))
    db = Database.open(f"sqlite:///{tmp_path / 'fast.db'}")  # the crawl's way in (WAL and the other pragmas)
    assert calls == [] and is_current(db.engine)
    db.engine.dispose()
    assert _schema_and_rows(tmp_path / "fast.db") == _schema_and_rows(tmp_path / "alembic.db")
    # SQLAlchemy's own view of both: tables, columns, keys and indexes
    views = []
    for name in ("fast.db", "alembic.db"):
        engine = create_engine(f"sqlite:///{tmp_path / name}")
        insp = inspect(engine)
        views.append({t: (insp.get_columns(t), insp.get_pk_constraint(t), insp.get_foreign_keys(t),
                          insp.get_indexes(t), insp.get_unique_constraints(t)) for t in insp.get_table_names()})
        engine.dispose()
    assert repr(views[0]) == repr(views[1])


def test_alembic_still_migrates_a_database_created_without_it(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert create_new_sqlite(engine)
    cfg = alembic_config()
    with engine.begin() as connection:  # back one revision, then the head again: the last migration applies
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "-1")
    assert not is_current(engine)
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()
    _by_alembic(tmp_path / "y.db")
    assert _schema_and_rows(tmp_path / "x.db") == _schema_and_rows(tmp_path / "y.db")


def test_only_an_empty_sqlite_database_is_created_without_alembic(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine, "0003")
    assert not create_new_sqlite(engine)  # not empty: Alembic's
    engine.dispose()
    engine = create_engine(f"sqlite:///{tmp_path / 'y.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE other (x INTEGER)")
    assert not create_new_sqlite(engine)
    engine.dispose()


def test_a_database_at_head_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Database.open(url).close()
    code = (f"import sys; from crawler.storage.database import Database; Database.open({url!r}).close(); "
            "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
