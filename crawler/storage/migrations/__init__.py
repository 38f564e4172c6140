"""Alembic migrations of the crawler's schema, run programmatically.

``upgrade(engine)`` brings any database to the latest revision; it is what
``Database.open`` calls, so users never run Alembic by hand. Developers add a
revision with ``alembic -c crawler/storage/migrations/alembic.ini revision -m "..."``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database behind *engine* to *revision*."""
    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
