"""The bundled demo web and the test web: required elements, feeds, sitemaps, manifests."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import urllib.robotparser
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import yaml
from lxml import etree, html

from crawler.demo.server import SiteServer, WebServer
from crawler.demo.site import build_demo_site, demo_sources
from crawler.text import is_arabic, normalize_for_matching, word_tokens
from tests.support.fixture_web import build_fixture_web, fixture_sources_yaml
from tests.test_server import fetch

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BASE = "http://127.0.0.9:1"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    dest = tmp_path_factory.mktemp("demo")
    return dest, build_demo_site(dest)


@pytest.fixture(scope="module")
def fixture_web(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    dest = tmp_path_factory.mktemp("fixture")
    return dest, build_fixture_web(dest)


def site_manifest(web: Path, name: str) -> dict[str, Any]:
    return json.loads((web / name / "_manifest.json").read_text(encoding="utf-8"))


def read(web: Path, name: str, path: str, encoding: str = "utf-8") -> str:
    """The text of a page as the server would send it (placeholder filled with BASE)."""
    file = SiteServer(web / name).resolve(*(unquote(path).split("?", 1) + [""])[:2])
    assert file is not None, f"{name}:{path} has no file"
    data = file.read_bytes()
    if file.suffix == ".gz":
        data = gzip.decompress(data)
    return data.replace(b"__BASE_URL__", BASE.encode()).decode(encoding)


def shingles(text: str) -> set[tuple[str, ...]]:
    toks = word_tokens(normalize_for_matching(text))
    return set(zip(toks, toks[1:], toks[2:]))


# -- the demo web -----------------------------------------------------------------------------
def test_demo_has_three_sites_with_three_templates(demo: tuple[Path, dict[str, Any]]) -> None:
    web, man = demo
    assert man["sites"] == ["waha", "sahil", "mirsad"]
    assert set(man["templates"].values()) == {"aggregator", "wordpress", "modern"}
    assert 25 <= man["distinct_stories"] <= 40
    assert man["expected_articles"] == sum(site_manifest(web, s)["expected_articles"] for s in man["sites"])


def test_manifests_are_consistent(demo: tuple[Path, dict[str, Any]]) -> None:
    web, man = demo
    for name in man["sites"]:
        sm = site_manifest(web, name)
        assert sm["expected_articles"] == len(sm["articles"]) == len(sm["article_paths"])
        for rec in sm["articles"]:
            page = read(web, name, rec["path"])
            assert rec["title"] in page
            assert 4 <= len(rec["paragraphs"]) <= 10
            for p in rec["paragraphs"]:
                assert 12 <= len(p.split()) <= 45, p
                assert is_arabic(p)
            for variant in rec["variants"]:
                assert SiteServer(web / name).resolve(*(variant.split("#")[0].split("?", 1) + [""])[:2])
        for page in sm["non_articles"]:
            read(web, name, page["path"])
        kinds = {p["kind"] for p in sm["non_articles"]}
        assert {"home", "section", "tag", "author", "about", "video", "english"} <= kinds
        for path, origin in sm["syndicated"].items():
            oname, opath = origin.split(":", 1)
            assert opath in site_manifest(web, oname)["article_paths"] and path in sm["article_paths"]


def test_aggregator_page_has_every_seed_block(demo: tuple[Path, dict[str, Any]]) -> None:
    web, _ = demo
    sm = site_manifest(web, "waha")
    rec = sm["articles"][0]
    page = read(web, "waha", rec["path"])
    doc = html.fromstring(page)
    assert doc.xpath("string(//h1)") == rec["title"]
    body = [p.text_content() for p in doc.xpath('//div[@class="news-body"]/p[not(@class)]')]
    assert body == rec["paragraphs"]
    assert "Your browser does not support audio tag." in doc.xpath("string(//audio)")
    assert doc.xpath('string(//p[@class="source"])') == f"المصدر: {rec['attribution']}"
    assert doc.xpath('string(//div[@class="tags"]/span)') == "كلمات دلالية:"
    assert [a.text for a in doc.xpath('//div[@class="tags"]/a')] == rec["tags"]
    also = doc.xpath('//section[@class="read-also"]')[0]
    assert also.xpath("string(h3)") == "إقرأ أيضاً:"
    read_also = next(a for a in sm["articles"] if a["path"] == rec["read_also"]["path"])
    assert [p.text_content() for p in also.xpath("p")] == read_also["paragraphs"]
    related = doc.xpath('//section[@class="related"]')[0]
    assert related.xpath("string(h3)") == "مقالات مشابهة"
    headlines = [a.text for a in related.xpath(".//a")]
    assert read_also["title"] in headlines  # a related headline repeats the embedded article's
    assert headlines == rec["related_headlines"]
    assert doc.xpath('string(//aside[@class="sidebar"]/h3)') == "الأكثر قراءة"
    assert 'article:published_time' in page and "أكتوبر" in doc.xpath('string(//span[@class="date"])')


def test_wordpress_and_modern_templates(demo: tuple[Path, dict[str, Any]]) -> None:
    web, _ = demo
    rec = site_manifest(web, "sahil")["articles"][1]
    doc = html.fromstring(read(web, "sahil", rec["path"]))
    assert doc.xpath('string(//h1[@class="entry-title"])') == rec["title"]
    assert "بقلم" in doc.xpath('string(//span[@class="byline"])')
    content = [p.text_content() for p in doc.xpath('//div[@class="entry-content"]/p[not(@class)]')]
    assert content == rec["paragraphs"]
    assert doc.xpath('//div[@id="comments"]//li[@class="comment"]')
    assert doc.xpath('//div[@class="sharedaddy"]') and doc.xpath('//div[@class="newsletter-box"]')
    assert "اقرأ أيضاً" in doc.xpath('string(//p[@class="read-more"])')

    rec = site_manifest(web, "mirsad")["articles"][2]
    page = read(web, "mirsad", rec["path"])
    doc = html.fromstring(page)
    ld = json.loads(doc.xpath('string(//script[@type="application/ld+json"])'))
    assert ld["@type"] == "NewsArticle" and ld["headline"] == rec["title"]
    assert ld["datePublished"] == rec["published_at"] and ld["author"][0]["name"] == rec["authors"][0]
    assert "اقرأ أيضا" in doc.xpath('string(//aside[@class="inline-related"])')
    assert [p.text_content() for p in doc.xpath('//div[@class="story-body"]/p[not(@class)]')] == rec["paragraphs"]
    amp = html.fromstring(read(web, "mirsad", "/amp" + rec["path"]))
    assert amp.xpath("string(//link[@rel='canonical']/@href)") == BASE + rec["path"]


def test_feeds_parse(demo: tuple[Path, dict[str, Any]]) -> None:
    web, _ = demo
    rss = etree.fromstring(read(web, "waha", "/rss.xml").encode())
    links = rss.xpath("//item/link/text()")
    assert len(links) == site_manifest(web, "waha")["expected_articles"]
    assert all(link.startswith(BASE) for link in links)
    assert rss.xpath("//item/pubDate/text()")
    wp = etree.fromstring(read(web, "sahil", "/feed/").encode())
    assert len(wp.xpath("//item")) == site_manifest(web, "sahil")["expected_articles"]
    ns = {"a": "http://www.w3.org/2005/Atom"}
    atom = etree.fromstring(read(web, "mirsad", "/atom.xml").encode())
    assert len(atom.xpath("//a:entry", namespaces=ns)) == site_manifest(web, "mirsad")["expected_articles"]
    assert atom.xpath("//a:entry/a:published/text()", namespaces=ns)


def test_sitemaps_and_robots(demo: tuple[Path, dict[str, Any]]) -> None:
    web, _ = demo
    sm = site_manifest(web, "mirsad")
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "n": "http://www.google.com/schemas/sitemap-news/0.9"}
    index = etree.fromstring(read(web, "mirsad", "/sitemap.xml").encode())
    locs = index.xpath("//s:sitemap/s:loc/text()", namespaces=ns)
    assert any(loc.endswith(".xml.gz") for loc in locs)
    gz = etree.fromstring(read(web, "mirsad", "/sitemaps/articles.xml.gz").encode())
    assert {u[len(BASE):] for u in gz.xpath("//s:url/s:loc/text()", namespaces=ns)} == set(sm["article_paths"])
    news = etree.fromstring(read(web, "mirsad", "/sitemaps/news.xml").encode())
    assert news.xpath("//n:publication_date/text()", namespaces=ns)
    titles = news.xpath("//n:title/text()", namespaces=ns)
    assert titles and set(titles) <= {a["title"] for a in sm["articles"]}
    robots = read(web, "mirsad", "/robots.txt")
    assert f"Sitemap: {BASE}/sitemap.xml" in robots
    for name in ("waha", "sahil", "mirsad"):
        man = site_manifest(web, name)
        parser = urllib.robotparser.RobotFileParser()
        parser.parse(read(web, name, "/robots.txt").splitlines())
        private = man["disallowed_articles"][0]
        assert not parser.can_fetch("*", BASE + private)
        assert parser.can_fetch("*", BASE + man["article_paths"][0])
        assert f'href="{private}"' in read(web, name, man["article_paths"][0])  # linked from pages


def test_paginated_sections(demo: tuple[Path, dict[str, Any]]) -> None:
    web, _ = demo
    assert "/section/latest?page=2" in {p["path"] for p in site_manifest(web, "waha")["non_articles"]}
    assert "/category/latest/page/2/" in {p["path"] for p in site_manifest(web, "sahil")["non_articles"]}
    first = html.fromstring(read(web, "waha", "/section/latest"))
    assert len(first.xpath('//article[@class="card"]')) == 10
    assert first.xpath('//a[@href="/section/latest?page=2"]')
    about = html.fromstring(read(web, "waha", "/about/"))
    assert not about.xpath("//article") and len(about.xpath("string(//main)").split()) > 100


def test_syndicated_copies_are_near_duplicates_and_stories_are_not(demo: tuple[Path, dict[str, Any]]) -> None:
    web, man = demo
    texts = {}
    for name in man["sites"]:
        for rec in site_manifest(web, name)["articles"]:
            texts[f"{name}:{rec['path']}"] = (rec["story"], shingles("\n".join(rec["paragraphs"])), rec)
    for group in man["duplicate_groups"]:
        assert len(group) >= 2
        titles = {texts[k][2]["title"] for k in group}
        assert len(titles) >= 2  # reworded titles
        for a, b in itertools.combinations(group, 2):
            sa, sb = texts[a][1], texts[b][1]
            assert len(sa & sb) / len(sa | sb) > 0.6
    for (ka, (sa, a, _)), (kb, (sb, b, _)) in itertools.combinations(texts.items(), 2):
        if sa != sb:
            assert len(a & b) / len(a | b) < 0.4, (ka, kb)
    copy = next(texts[k][2] for g in man["duplicate_groups"] for k in g if texts[k][2]["copy"] == 1)
    joined = "".join(copy["paragraphs"])
    assert "ـ" in joined and any(d in joined for d in "٠١٢٣٤٥٦٧٨٩")  # tatweel, Eastern digits


def test_build_is_deterministic(tmp_path: Path, demo: tuple[Path, dict[str, Any]]) -> None:
    def digest(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    build_demo_site(tmp_path)
    assert digest(tmp_path) == digest(demo[0])


def test_no_text_copied_from_shared(demo: tuple[Path, dict[str, Any]]) -> None:
    seed = SHARED / "seed" / "000_fc50b942f10c832c.txt"
    if not seed.is_file():
        pytest.skip("../shared/seed is absent")
    lines = [ln.strip() for ln in seed.read_text(encoding="utf-8").splitlines()
             if len(ln.split()) > 6 and is_arabic(ln)]  # the English audio notice is required boilerplate
    pages = "".join(p.read_text(encoding="utf-8") for p in demo[0].rglob("*.html"))
    assert not [ln for ln in lines if ln in pages]


def test_demo_served_and_sources(demo: tuple[Path, dict[str, Any]]) -> None:
    web_root, man = demo
    with WebServer(web_root) as web:
        data = yaml.safe_load(demo_sources(web))
        names = [s["name"] for s in data["sources"]]
        assert sorted(names) == sorted(man["sites"])
        for src in data["sources"]:
            for url in src["start_urls"] + src.get("feeds", []) + src.get("sitemaps", []):
                assert fetch(url)[0] == 200
            assert src["allowed_domains"] == [web.sites[src["name"]].host]
        for a in man["articles"][:10]:
            status, headers, body = fetch(web.url(a["site"], a["path"]))
            assert status == 200 and a["title"] in body.decode("utf-8")


# -- the test web -----------------------------------------------------------------------------
def test_fixture_web_shape(fixture_web: tuple[Path, dict[str, Any]]) -> None:
    web, man = fixture_web
    assert len(man["sites"]) >= 5
    assert 60 <= man["expected_articles"] <= 120
    assert len(set(man["templates"].values())) == 4
    assert man["traps"] == {"nahar": "/calendar/"}
    assert all(man["disallowed_articles"][s] for s in man["sites"])
    assert len(man["duplicate_groups"]) == 3
    nahar_home = read(web, "nahar", "/")
    assert 'href="/calendar/2025/10/15/"' in nahar_home
    assert "utm_source=facebook" in nahar_home and "#comments" in nahar_home
    assert "/amp/article/" in read(web, "sahil", "/")
    waha = site_manifest(web, "waha")
    assert "utm_source=rss" in read(web, "waha", "/rss.xml")
    assert not waha["sitemaps"]
    mirsad = site_manifest(web, "mirsad")
    assert mirsad["robots_sitemaps"] and "Sitemap:" in read(web, "mirsad", "/robots.txt")
    nahar = site_manifest(web, "nahar")
    assert not nahar["feeds"] and not nahar["sitemaps"]
    assert "/category/latest/page/2/" in {p["path"] for p in nahar["non_articles"]}


def test_fixture_legacy_charsets(fixture_web: tuple[Path, dict[str, Any]]) -> None:
    web, _ = fixture_web
    sm = site_manifest(web, "qadima")
    cases = {r["charset_case"]: r for r in sm["articles"] if r["charset_case"]}
    assert set(cases) >= {"header", "meta", "none", "iso-8859-6", "wrong-header"}
    with SiteServer(web / "qadima") as srv:
        for case, rec in cases.items():
            status, headers, body = fetch(srv.url(rec["path"]))
            assert status == 200
            text = body.decode(rec["encoding"])
            assert rec["paragraphs"][0] in text or rec["paragraphs"][0] in html.fromstring(text).text_content()
            declared_meta = b"<meta charset=" in body
            ctype = headers["Content-Type"]
            if case == "header":
                assert ctype.endswith("windows-1256") and not declared_meta
            elif case == "meta":
                assert ctype == "text/html" and declared_meta
            elif case == "none":
                assert ctype == "text/html" and not declared_meta
            elif case == "iso-8859-6":
                assert ctype.endswith("iso-8859-6")
            elif case == "wrong-header":
                assert ctype.endswith("iso-8859-1") and not declared_meta
                assert not is_arabic(body.decode("iso-8859-1"))  # mojibake when trusting the header


def test_fixture_sources(fixture_web: tuple[Path, dict[str, Any]]) -> None:
    web_root, man = fixture_web
    with WebServer(web_root) as web:
        data = {s["name"]: s for s in yaml.safe_load(fixture_sources_yaml(web))["sources"]}
        assert set(data) == set(man["sites"])
        assert "start_urls" not in data["waha"] and data["waha"]["feeds"]
        assert "sitemaps" not in data["mirsad"] and "feeds" not in data["mirsad"]
        assert "feeds" not in data["nahar"]
        assert data["sahil"]["feeds"][0].endswith("/atom.xml")
        status, _, body = fetch(data["waha"]["feeds"][0])
        assert status == 200 and web.base_url("waha").encode() in body
