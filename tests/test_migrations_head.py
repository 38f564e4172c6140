"""A database at the latest revision is opened without Alembic (start-up of every command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from crawler.storage.database import Database
from crawler.storage.migrations import alembic_config, at_head, head_revisions, upgrade

ROOT = Path(__file__).resolve().parents[1]


def test_head_revisions_read_from_the_files_are_alembics() -> None:
    assert head_revisions() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_at_head_only_after_the_upgrade(tmp_path: Path) -> None:
    db = Database.open(f"sqlite:///{tmp_path / 'new.db'}", migrate=False)
    try:
        assert not at_head(db.engine)  # no alembic_version table
        upgrade(db.engine, "0001")
        assert not at_head(db.engine)
        db.migrate()  # an old database is still upgraded
        assert at_head(db.engine)
        assert db.has_table("article_search")
    finally:
        db.close()


def test_a_database_at_head_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Database.open(url).close()
    code = (f"import sys; from crawler.storage.database import Database; Database.open({url!r}).close(); "
            "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
