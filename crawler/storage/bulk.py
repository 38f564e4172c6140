"""Idempotent bulk writes: the one insert path of every table (SQLite and PostgreSQL).

Rows are grouped by shape and executed as one cached statement with many
parameter sets (``executemany``); conflicts on the key are skipped
(``insert_ignore``) or update chosen columns (``upsert``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crawler.storage.models import Base


def _uniform(rows: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """*rows* grouped by their set of keys (an ``executemany`` needs one shape)."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(row), []).append(row)
    return list(groups.values())


def _dialect_insert(dialect: str) -> Any:
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        from sqlalchemy.dialects.postgresql import insert
    return insert


def insert_ignore(session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: list[str]) -> Any:
    """Insert *rows*, silently skipping those whose *keys* already exist.

    Idempotent on SQLite and PostgreSQL (``ON CONFLICT DO NOTHING``), as one
    cached statement executed with many parameter sets (``executemany``): no
    per-batch SQL compilation. Other dialects fall back to a check-then-insert.
    """
    if not rows:
        return None
    dialect = session.get_bind().dialect.name
    table = model.__table__
    if dialect not in ("sqlite", "postgresql"):
        for row in rows:
            cond = [table.c[k] == row[k] for k in keys]
            if session.execute(select(table.c[keys[0]]).where(*cond)).first() is None:
                session.execute(table.insert().values(**row))
        return None
    stmt = _dialect_insert(dialect)(table).on_conflict_do_nothing(index_elements=keys)
    result = None
    for group in _uniform(rows):
        result = session.execute(stmt, group)
    return result


def upsert(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: list[str], update: Iterable[str]
) -> None:
    """Insert *rows*, updating the *update* columns where *keys* already exist."""
    if not rows:
        return
    update = list(update)
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        stmt = _dialect_insert(dialect)(model.__table__)
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_={c: stmt.excluded[c] for c in update})
        for group in _uniform(rows):
            session.execute(stmt, group)
        return
    for row in rows:
        session.merge(model(**row))
