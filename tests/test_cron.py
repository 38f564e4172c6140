"""`cron`: the printed line, idempotent --install / --remove (fake crontab), and the line runs a real crawl."""

from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from crawler.commands.cli import main
from crawler.scheduling.cron import SCHEDULES, CronJob
from crawler.demo.server import SiteServer
from crawler.storage.database import Database
from crawler.storage.models import Article
from tests.support.incsite import REPO, IncSite, crawl_env

FAKE_CRONTAB = """#!/bin/sh
# A stand-in for crontab(1): the table lives in $FAKE_CRONTAB_FILE.
if [ "$1" = "-l" ]; then
  if [ -f "$FAKE_CRONTAB_FILE" ]; then cat "$FAKE_CRONTAB_FILE"; exit 0; fi
  echo "no crontab for $(id -un)" >&2; exit 1
fi
if [ "$1" = "-" ]; then cat > "$FAKE_CRONTAB_FILE"; exit 0; fi
echo "usage" >&2; exit 2
"""


@pytest.fixture
def fake_crontab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    exe = bindir / "crontab"
    exe.write_text(FAKE_CRONTAB)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    table = tmp_path / "crontab.txt"
    table.write_text("MAILTO=''\n0 5 * * * echo unrelated\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CRONTAB_FILE", str(table))
    return table


def _sources(tmp_path: Path, base: str = "http://127.0.0.1:9") -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(f"sources:\n  - name: inc\n    start_urls: [{base}/]\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("every", list(SCHEDULES))
def test_every_accepted_values(every: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cron", "--every", every, "--sources", str(_sources(tmp_path)),
                                       "--db", "sqlite:///data/x.db"])
    assert result.exit_code == 0, result.output
    line = result.output.strip()
    assert line.startswith(SCHEDULES[every] + " ")
    assert f"cd {REPO} && mkdir -p data/logs && .venv/bin/python -m crawler crawl" in line
    assert f"--db sqlite:///{Path.cwd() / 'data/x.db'}" in line  # relative SQLite made absolute
    assert "--log-file data/logs/crawl.log >> data/logs/crawl.log 2>&1" in line
    assert re.search(r"# arabic-news-crawler:[0-9a-f]{10}$", line)


@pytest.mark.parametrize("every", ["45m", "1w", "", "30"])
def test_other_intervals_exit_2(every: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cron", "--every", every, "--sources", str(_sources(tmp_path))])
    assert result.exit_code == 2
    assert "--every" in result.output


def test_bad_sources_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["cron", "--every", "1h", "--sources", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2


def test_percent_is_escaped_for_cron() -> None:
    job = CronJob("1h", Path("/repo"), "/s.yaml", "postgresql://u:p%40ss@h/db")
    assert "p\\%40ss" in job.line()


def test_install_twice_leaves_one_line_and_remove_takes_it_out(fake_crontab: Path, tmp_path: Path) -> None:
    args = ["cron", "--every", "30m", "--sources", str(_sources(tmp_path)), "--db", f"sqlite:///{tmp_path}/n.db"]
    runner = CliRunner()
    assert runner.invoke(main, [*args, "--install"]).exit_code == 0
    again = runner.invoke(main, [*args, "--install"])
    assert again.exit_code == 0 and "already installed" in again.output
    every_15 = runner.invoke(main, ["cron", "--every", "15m", *args[3:], "--install"])  # replaces, not adds
    assert every_15.exit_code == 0
    lines = fake_crontab.read_text().splitlines()
    ours = [ln for ln in lines if "python -m crawler crawl" in ln]
    assert len(ours) == 1 and ours[0].startswith("*/15 ")
    assert "0 5 * * * echo unrelated" in lines and "MAILTO=''" in lines
    removed = runner.invoke(main, [*args, "--remove"])
    assert removed.exit_code == 0 and "removed" in removed.output
    assert fake_crontab.read_text().splitlines() == ["MAILTO=''", "0 5 * * * echo unrelated"]
    assert "nothing to remove" in runner.invoke(main, [*args, "--remove"]).output


def test_the_installed_line_runs_a_real_crawl(fake_crontab: Path, tmp_path: Path) -> None:
    site = IncSite(tmp_path / "site", 4)
    db = f"sqlite:///{tmp_path / 'cron.db'}"
    log = tmp_path / "logs" / "crawl.log"
    with SiteServer(site.root) as server:
        sources = site.sources(server.base_url)
        result = CliRunner().invoke(main, ["cron", "--every", "1h", "--sources", str(sources), "--db", db,
                                           "--log-file", str(log), "--install"])
        assert result.exit_code == 0, result.output
        line = next(ln for ln in fake_crontab.read_text().splitlines() if "crawler crawl" in ln)
        command = line.split(" ", 5)[5].replace("\\%", "%")  # what cron hands to sh
        env = crawl_env()
        # the test site needs no politeness delay
        command = command.replace(" --log-file", " -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False --log-file", 1)
        proc = subprocess.run(["sh", "-c", command], cwd="/", env=env, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr + (log.read_text() if log.exists() else "")
    assert proc.stdout == ""
    text = log.read_text()
    assert "Crawl finished" in text and "articles stored:    4" in text
    database = Database.open(db)
    try:
        with database.session() as s:
            assert s.scalar(select(func.count(Article.id))) == 4
    finally:
        database.close()
