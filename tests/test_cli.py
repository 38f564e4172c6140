"""The command line's contract: exit codes and one-line errors (crawler/commands/cli.py)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.commands.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEED = SHARED / "seed"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_extract_seed_page() -> None:
    if not SEED.is_dir():
        pytest.skip("../shared/seed is absent")
    code, out, _ = run("extract", str(SEED / "article.html"))
    assert code == 0
    record = json.loads(out)
    expected = json.loads((SEED / "article.expected.json").read_text(encoding="utf-8"))
    assert record["title"] == expected["title"]
    assert record["text"].split("\n") == expected["paragraphs"]
    assert record["attribution"] == expected["attribution"]
    assert record["tags"] == expected["tags"]
    assert record["published_at"].startswith(expected["published_date"])
    assert [h["headline"] for h in record["related_headlines"]] == expected["related_headlines"]
    for needle in expected["must_not_contain"]:
        assert needle not in record["text"] and needle not in record["title"]


def test_extract_unreadable_file(tmp_path: Path) -> None:
    code, _, err = run("extract", str(tmp_path / "missing.html"))
    assert code == 2
    assert err.count("\n") == 1 and "missing.html" in err


def test_extract_not_html(tmp_path: Path) -> None:
    path = tmp_path / "x.bin"
    path.write_bytes(b"\x00\x01\x02" * 100)
    code, out, _ = run("extract", str(path))
    assert code == 0
    record = json.loads(out)
    assert record["is_article"] is False and record["reason"]


def test_crawl_bad_sources_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - name: ok\n    feeds: [https://a.example/rss]\n  - name: Bad Name\n")
    code, out, err = run("crawl", "--sources", str(path), "--db", f"sqlite:///{tmp_path}/x.db")
    assert code == 2
    assert err.strip().count("\n") == 0
    assert str(path) in err and "entry 2" in err and "'name'" in err
    assert not (tmp_path / "x.db").exists()


def test_crawl_missing_sources_file(tmp_path: Path) -> None:
    code, _, err = run("crawl", "--sources", str(tmp_path / "none.yaml"))
    assert code == 2 and "none.yaml" in err and "no such file" in err


def test_crawl_unreachable_database(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - name: ok\n    feeds: [https://a.example/rss]\n")
    code, _, err = run("crawl", "--sources", str(path), "--db", "postgresql://nobody@127.0.0.1:1/none")
    assert code == 2
    assert err.strip().count("\n") == 0 and "unreachable" in err


def test_bad_database_url(tmp_path: Path) -> None:
    code, _, err = run("stats", "--db", "not a url")
    assert code == 2 and "not a valid" in err


def test_unknown_option_is_usage_error() -> None:
    code, _, _ = run("crawl", "--no-such-option")
    assert code == 2


def test_bad_setting_pair(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - name: ok\n    feeds: [https://a.example/rss]\n")
    code, _, err = run("crawl", "--sources", str(path), "--db", f"sqlite:///{tmp_path}/x.db", "-s", "NOEQUALS")
    assert code == 2 and "NAME=VALUE" in err


def test_changed_dedup_settings_exit_2_before_any_fetch(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    path = tmp_path / "s.yaml"
    path.write_text("sources:\n  - name: ok\n    start_urls: [http://127.0.0.1:9/]\n")
    db = f"sqlite:///{tmp_path}/x.db"
    base = [sys.executable, "-m", "crawler", "crawl", "--sources", str(path), "--db", db, "-s", "RETRY_TIMES=0"]
    first = subprocess.run(base, cwd=root, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    second = subprocess.run([*base, "-s", "DEDUP_SEED=7"], cwd=root, capture_output=True, text=True, timeout=120)
    assert second.returncode == 2
    assert second.stderr.strip().count("\n") == 0 and "dedup index" in second.stderr
    bad = subprocess.run([*base, "-s", "DEDUP_BANDS=7"], cwd=root, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0
