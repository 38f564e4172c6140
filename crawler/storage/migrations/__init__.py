"""Alembic migrations of the crawler's schema, run programmatically.

``upgrade(engine)`` brings any database to the latest revision; it is what
``Database.open`` calls, so users never run Alembic by hand. Developers add a
revision with ``alembic -c crawler/storage/migrations/alembic.ini revision -m "..."``.

Every command opens its database this way, so a database already at the latest
revision is recognised without Alembic: its ``alembic_version`` row is compared
with the revisions named in the version files (:func:`head_revisions`), and
Alembic is imported and run only when they differ (a new database, an upgrade).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
# ``revision = '0004'`` / ``down_revision: str | None = "0003"`` in a version file. Anything
# else (a merge's tuple) is not read: the heads then look different and Alembic decides.
_REVISION = re.compile(r"""^(down_)?revision\s*(?::[^=\n]*)?=\s*['"]?(\w+)""", re.MULTILINE)


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def head_revisions() -> set[str]:
    """The latest revision(s): those of the version files that no other file names as its parent."""
    revisions, parents = set(), set()
    for path in (HERE / "versions").glob("*.py"):
        for down, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            (parents if down else revisions).add(value)
    return revisions - parents


def at_head(engine: Engine) -> bool:
    """Whether the database behind *engine* is at the latest revision (one query, no Alembic)."""
    try:
        with engine.connect() as conn:
            stored = {row[0] for row in conn.exec_driver_sql("SELECT version_num FROM alembic_version")}
    except SQLAlchemyError:  # no alembic_version table yet: a new database
        return False
    return bool(stored) and stored == head_revisions()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind *engine* to *revision*."""
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
