"""The start-up fast path of the migrations: a database at the head revision is not handed to Alembic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from crawler.storage.database import Database
from crawler.storage.migrations import alembic_config, head_revisions, is_current, upgrade
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


def test_a_database_at_head_is_opened_without_importing_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    Database.open(url).close()
    code = (f"import sys; from crawler.storage.database import Database; Database.open({url!r}).close(); "
            "print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
