"""`serve`: the search index, the pages (through Starlette's test client), safety, read-only, the command."""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from crawler.commands.cli import main
from crawler.commands.report import corpus_stats
from crawler.storage.database import Database, StorageError
from crawler.storage.migrations import upgrade
from crawler.storage.search import article_id, query_words, search_keys
from crawler.web.app import CSP, create_app, http_url
from crawler.web.db import open_readonly
from crawler.web.diff import word_diff
from tests.support import webcorpus
from tests.support.pg import pg_database
from tests.support.settings import project_settings

pytest.importorskip("httpx2", reason="the test client needs httpx2 (requirements.txt)")
from starlette.testclient import TestClient  # noqa: E402

TEMPLATES = Path(__file__).resolve().parents[1] / "crawler" / "web" / "templates"


def _stats(database: Database) -> dict:
    st = project_settings()
    return corpus_stats(database, health_runs=st.getint("RUNS_HEALTH_RUNS"), min_pages=st.getint("RUNS_HEALTH_MIN_PAGES"))


def _ids(database: Database, query: str, **kw: object) -> list[int]:
    with database.session() as s:
        return [article_id(k) for k in search_keys(s, query_words(query), **kw)]


def _id(database: Database, url: str) -> int:
    with database.session() as s:
        return s.execute(text("SELECT id FROM articles WHERE url = :u"), {"u": url}).scalar_one()


@pytest.mark.parametrize("query", [
    "مستشفي جديد",   # alef maqsura written as ya
    "وزاره الصحه",   # ta marbuta written as ha
    "اعلنت",         # hamza on alef dropped
    "أعلنت",         # as stored
    "المستشفي",      # with the article, in the title
    "جدّة",          # with a shadda
])
def test_search_matches_spelling_variants(db, tmp_path: Path, query: str) -> None:
    webcorpus.build(db, tmp_path)
    found = _ids(db, query)
    assert _id(db, webcorpus.A_URL) in found and _id(db, webcorpus.B_URL) in found
    assert _id(db, webcorpus.X_URL) not in found


def test_search_order_site_and_pages(db, tmp_path: Path) -> None:
    webcorpus.build(db, tmp_path)
    a, b, lib = (_id(db, u) for u in (webcorpus.A_URL, webcorpus.B_URL, webcorpus.L_URL))
    assert _ids(db, "افتتاح") == [lib, b, a]  # newest published first
    assert _ids(db, "افتتاح", site="beta") == [b]
    assert _ids(db, "افتتاح مكتبه") == [lib]  # every word must be there
    with db.session() as s:
        first = search_keys(s, query_words("افتتاح"), limit=1)
        rest = search_keys(s, query_words("افتتاح"), before=first[0])
    assert [article_id(k) for k in rest] == [b, a]
    assert _ids(db, "كلمةغيرموجودة") == [] and _ids(db, "  ،،  ") == []


def test_migration_indexes_articles_stored_before_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO articles (url, site, title, text, published_at, authors, tags, related_headlines, fetched_at,"
            " updated_at) VALUES ('https://old.example/1', 'old', 'خبر قديم', 'افتتاح المكتبة الوطنية', '2024-01-01',"
            " '[]', '[]', '[]', '2024-01-01 00:00:00', '2024-01-01 00:00:00')")
    engine.dispose()
    with pytest.raises(StorageError, match="older schema"):
        open_readonly(url)
    database = Database.open(url)  # upgrades: 0004 indexes the stored article
    assert _ids(database, "مكتبه") == [_id(database, "https://old.example/1")]
    database.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def client(request: pytest.FixtureRequest, tmp_path: Path):  # noqa: ANN201
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'web.db'}"
        else:
            url = stack.enter_context(pg_database())
        writer = Database.open(url)
        webcorpus.build(writer, tmp_path)
        writer.close()
        ro = open_readonly(url)
        with TestClient(create_app(ro)) as c:
            c.database = ro
            yield c
        ro.close()


def test_overview_counts_chart_health_runs(client) -> None:  # noqa: ANN001
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    html = r.text
    assert '<html lang="ar" dir="rtl">' in html
    count = {k: re.search(rf'id="count-{k}"><span class="n">([\d,]+)<', html).group(1)
             for k in ("articles", "clusters", "duplicates", "headlines")}
    assert count == {"articles": "4", "clusters": "3", "duplicates": "1", "headlines": "4"}
    assert html.count("<rect class=") == 4  # four days, one source each
    for site in ("alpha", "beta", "gamma", "delta"):
        assert f"<bdi>{site}</bdi>" in html
    assert "status-finished" in html
    assert "<script" not in html.replace("&lt;script", "")  # the page itself has no script


def test_search_page_links_each_hit_to_its_story(client) -> None:  # noqa: ANN001
    stats = _stats(client.database)
    assert stats["clusters"] == 3
    r = client.get("/articles", params={"q": "وزاره"})
    assert r.status_code == 200
    clusters = re.findall(r'<h2><a href="/clusters/([^"]+)">', r.text)
    assert len(clusters) == 2 and len(set(clusters)) == 1
    assert "<ins>" in r.text  # the matched word is marked in the excerpt
    r = client.get("/articles", params={"q": "وزاره", "site": "alpha"})
    assert len(re.findall(r'<li class="hit">', r.text)) == 1
    assert client.get("/articles", params={"q": "x", "before": "nope"}).status_code == 400


def test_cluster_page_shows_every_copy_the_differences_and_why(client) -> None:  # noqa: ANN001
    r = client.get("/articles", params={"q": "مستشفى"})
    cid = re.search(r'href="/clusters/([^"]+)"', r.text).group(1)
    page = client.get(f"/clusters/{cid}").text
    assert page.count('<article class="copy') == 2
    assert webcorpus.A_URL in page and webcorpus.B_URL in page
    assert re.search(r"<ins>\s*المحلية\s*</ins>", page) and re.search(r"<del>\s*السعودية\s*</del>", page)
    assert "by <strong>" in page and "verified Jaccard" in page  # the merge record and the why explanation
    assert "delta.example/library" in page  # the related headline pointing at the story
    assert client.get("/clusters/none-such").status_code == 404


def test_headlines_and_api_stats(client) -> None:  # noqa: ANN001
    page = client.get("/headlines").text
    assert "افتتاح مستشفى جديد في جدة" in page
    row = re.search(r"افتتاح مستشفى جديد في جدة</a></td>\s*<td>(\d+)</td>", page)
    assert row and row.group(1) == "2"  # its title and the related list that points at it
    r = client.get("/api/stats")
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    expected = json.loads(json.dumps(_stats(client.database), ensure_ascii=False))
    assert data == expected


def test_stored_markup_is_shown_as_text(client) -> None:  # noqa: ANN001
    pages = [client.get("/articles", params={"q": "الاسهم"}).text]
    cid = re.search(r'href="/clusters/([^"]+)"', pages[0]).group(1)
    pages.append(client.get(f"/clusters/{cid}").text)
    for html in pages:
        assert "&lt;script&gt;window.__xss=2&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=" in html
        assert "<script" not in html and "<img" not in html


def test_read_only_and_no_writes_over_http(client) -> None:  # noqa: ANN001
    assert client.post("/").status_code == 405
    with pytest.raises(Exception, match="readonly|read-only"), client.database.begin() as s:  # noqa: PT011
        s.execute(text("DELETE FROM crawl_runs"))


def test_links_out_only_to_http_urls() -> None:
    assert http_url("https://a.example/x") == "https://a.example/x"
    assert http_url("javascript:alert(1)") is None and http_url(" JAVASCRIPT:alert(1)") is None
    assert http_url("data:text/html,x") is None and http_url(None) is None


def test_templates_never_mark_content_safe() -> None:
    for tpl in TEMPLATES.glob("*.html"):
        source = tpl.read_text(encoding="utf-8")
        assert "|safe" not in source.replace(" ", "") and "autoescape false" not in source, tpl.name
        assert "<script" not in source and "style=" not in source, tpl.name


def test_word_diff_marks_changes_not_spelling() -> None:
    segs = word_diff("أعلنت الوزارة افتتاح مستشفى", "اعلنت الوزارة افتتاح مستشفي كبير")
    assert [(s.kind, s.text) for s in segs] == [("same", "اعلنت الوزارة افتتاح مستشفي "), ("added", "كبير")]
    segs = word_diff("قال الوزير اليوم", "قال الرئيس اليوم")
    assert "".join(s.text for s in segs) == "قال الوزير الرئيس اليوم"


def test_serve_command_refuses_bad_databases(tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(main, ["serve", "--db", f"sqlite:///{tmp_path / 'missing.db'}"])
    assert r.exit_code == 2 and "no such file" in r.output
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(create_engine(url), "0003")
    r = runner.invoke(main, ["serve", "--db", url])
    assert r.exit_code == 2 and "older schema" in r.output
