"""Alembic migrations of the crawler's schema, run programmatically.

``upgrade(engine)`` brings any database to the latest revision; it is what
``Database.open`` calls, so users never run Alembic by hand. Developers add a
revision with ``alembic -c crawler/storage/migrations/alembic.ini revision -m "..."``.

A database already at the latest revision (every run after the first) is recognised with one
query against ``alembic_version`` and the revision ids read from the ``versions/`` files, without
importing Alembic (and Mako and Pygments with it): a few hundred milliseconds of every start.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

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


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind *engine* to *revision*."""
    if revision == "head" and is_current(engine):
        return
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
