"""``python -m crawler.storage.migrations``: write ``sqlite_head.py`` again from the migrations.

Builds a new SQLite database through Alembic (every revision to the head) and writes the SQL SQLite
keeps for it, and the head revision, into ``sqlite_head.py``: the schema a new SQLite database is
given without Alembic. Run it after adding a revision (tests/test_migrations_fast.py says when).
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from crawler.storage.migrations import HERE, render_sqlite_head

log = logging.getLogger(__name__)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        source = render_sqlite_head(f"sqlite:///{Path(tmp) / 'head.db'}")
    (HERE / "sqlite_head.py").write_text(source, encoding="utf-8")
    log.info("wrote %s", HERE / "sqlite_head.py")


if __name__ == "__main__":
    main()
