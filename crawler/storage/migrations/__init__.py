"""Alembic migrations of the crawler's schema, run programmatically.

``upgrade(engine)`` brings any database to the latest revision; it is what
``Database.open`` calls, so users never run Alembic by hand. Developers add a
revision with ``alembic -c crawler/storage/migrations/alembic.ini revision -m "..."``.

A database already at the latest revision (every run after the first) is recognised with one
query against ``alembic_version`` and the revision ids read from the ``versions/`` files, without
importing Alembic (and Mako and Pygments with it): a few hundred milliseconds of every start.
A new, empty SQLite database (a first run, every run of the crawl benchmark) is given the head
schema from ``sqlite_head.py``, the SQL SQLite keeps for a database the migrations built, also
without Alembic; tests/test_migrations_fast.py holds that file to the migrations, and
``python -m crawler.storage.migrations`` writes it again after a new revision (until then, a new
database is handed to Alembic as before).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
_REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*['"]?([^'"\s]*)['"]?\s*$""", re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


@cache
def head_revisions() -> frozenset[str]:
    """The head revision ids of ``versions/``, read from the files' ``revision`` / ``down_revision`` lines.

    Empty when a file does not read plainly (a merge revision's tuple, say): the caller then asks Alembic.
    """
    revisions, parents = set(), set()
    for path in (HERE / "versions").glob("*.py"):
        found = dict(m.groups() for m in _REVISION.finditer(path.read_text(encoding="utf-8")))
        if "revision" not in found or "down_revision" not in found or "(" in found["down_revision"]:
            return frozenset()
        revisions.add(found["revision"])
        if found["down_revision"] not in ("None", ""):
            parents.add(found["down_revision"])
    return frozenset(revisions - parents)


def is_current(engine: Engine) -> bool:
    """True when the database behind *engine* is at the single head revision already (one query)."""
    heads = head_revisions()
    if len(heads) != 1:
        return False
    try:
        with engine.connect() as conn:
            rows = {r[0] for r in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    except SQLAlchemyError:  # a new database: no alembic_version table yet
        return False
    return rows == heads


def sqlite_schema(connection: Any) -> list[str]:
    """The SQL of the schema objects of *connection*'s SQLite database, in creation order.

    Less what SQLite makes by itself: automatic indexes (no SQL), ``sqlite_*`` tables and the
    shadow tables of virtual tables (FTS5's ``article_search_data`` and the like).
    *connection*: a DB-API ``sqlite3`` connection or a SQLAlchemy one.
    """
    run = getattr(connection, "exec_driver_sql", None) or connection.execute
    shadow = {r[1] for r in run("PRAGMA table_list") if r[0] == "main" and r[2] == "shadow"}
    rows = run("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
    return [sql for name, sql in rows if name not in shadow and not name.startswith("sqlite_")]


def create_new_sqlite(engine: Engine) -> bool:
    """Give a new, empty SQLite database the head schema without Alembic; False when that does not apply.

    It applies when the database has no schema object at all and ``sqlite_head.py`` is at the single
    head revision; all in one ``BEGIN IMMEDIATE`` transaction, so a database another process is creating
    at the same moment is either left to it or made whole here. Any SQLite error: False (Alembic then).
    """
    if engine.dialect.name != "sqlite":
        return False
    from crawler.storage.migrations import sqlite_head

    if head_revisions() != {sqlite_head.REVISION}:
        return False
    import sqlite3

    raw = engine.raw_connection()
    try:
        con = raw.driver_connection
        con.execute("BEGIN IMMEDIATE")
        try:
            if con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                con.rollback()
                return False
            for ddl in sqlite_head.STATEMENTS:
                con.execute(ddl)
            con.execute("INSERT INTO alembic_version (version_num) VALUES (?)", (sqlite_head.REVISION,))
            con.commit()
        except BaseException:
            con.rollback()
            raise
    except sqlite3.Error:
        return False
    finally:
        raw.close()
    return True


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind *engine* to *revision*."""
    if revision == "head" and (is_current(engine) or create_new_sqlite(engine)):
        return
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)


def render_sqlite_head(url: str) -> str:
    """The source of ``sqlite_head.py`` for a new SQLite database at *url*, built here through Alembic."""
    from alembic import command
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    cfg = alembic_config()
    (head,) = ScriptDirectory.from_config(cfg).get_heads()
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "head")
        with engine.connect() as connection:
            statements = sqlite_schema(connection)
    finally:
        engine.dispose()
    body = "".join(f"    {sql!r},\n" for sql in statements)
    return (
        '"""The head schema of a new SQLite database: generated by ``python -m crawler.storage.migrations``.\n\n'
        "Do not edit: the SQL SQLite keeps for a database the migrations built (see ``create_new_sqlite``).\n"
        '"""\n\n'
        f"REVISION = {head!r}\n"
        f"STATEMENTS = (\n{body})\n"
    )
