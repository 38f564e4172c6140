"""The loopback site server: placeholders, gzip, headers, 304, trap, request log, per-IP sites."""

from __future__ import annotations

import gzip
import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.demo.server import SiteServer, WebServer, trap_page


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request without proxies: (status, headers, body)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    conn.request(method, target or "/", headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k: v for k, v in resp.getheaders()}, body


@pytest.fixture()
def site_root(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    (root / "section" / "world").mkdir(parents=True)
    (root / "news").mkdir()
    (root / "index.html").write_text('<a href="__BASE_URL__/news/1.html">خبر</a>', encoding="utf-8")
    (root / "news" / "1.html").write_text("<p>مقال</p>", encoding="utf-8")
    (root / "section" / "world.html").write_text("<p>page 1</p>", encoding="utf-8")
    (root / "section" / "world" / "page-2.html").write_text("<p>page 2</p>", encoding="utf-8")
    (root / "legacy.html").write_bytes("<p>عربي</p>".encode("windows-1256"))
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /private/\nSitemap: __BASE_URL__/s.xml.gz\n")
    (root / "s.xml.gz").write_bytes(gzip.compress(b"<urlset><url><loc>__BASE_URL__/news/1.html</loc></url></urlset>"))
    (root / "feed").mkdir()
    (root / "feed" / "index.html").write_text("<rss><channel><link>__BASE_URL__/</link></channel></rss>")
    (root / "_headers.json").write_text(json.dumps({
        "/legacy.html": {"Content-Type": "text/html", "Last-Modified": "Wed, 15 Oct 2025 07:00:00 GMT"},
        "/feed/": {"Content-Type": "application/rss+xml; charset=UTF-8"},
        "/old": {"Status": 301, "Location": "/news/1.html"},
    }), encoding="utf-8")
    (root / "_trap.json").write_text(json.dumps({"prefix": "/calendar/"}), encoding="utf-8")
    return root


@pytest.fixture()
def server(site_root: Path):
    with SiteServer(site_root) as srv:
        yield srv


def test_placeholder_replaced_in_text_files(server: SiteServer) -> None:
    status, headers, body = fetch(server.url("/"))
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert f'href="{server.base_url}/news/1.html"'.encode() in body
    assert b"__BASE_URL__" not in fetch(server.url("/robots.txt"))[2]


def test_gzip_served_as_bytes_with_placeholder_replaced(server: SiteServer) -> None:
    status, headers, body = fetch(server.url("/s.xml.gz"))
    assert status == 200 and headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in headers
    inner = gzip.decompress(body)
    assert f"<loc>{server.base_url}/news/1.html</loc>".encode() in inner
    assert fetch(server.url("/s.xml.gz"))[2] == body  # cached and deterministic


def test_headers_file_overrides_content_type_and_date(server: SiteServer) -> None:
    status, headers, body = fetch(server.url("/legacy.html"))
    assert headers["Content-Type"] == "text/html"  # no charset: the client must sniff
    assert headers["Last-Modified"] == "Wed, 15 Oct 2025 07:00:00 GMT"
    assert body.decode("windows-1256") == "<p>عربي</p>"
    status, headers, body = fetch(server.url("/feed/"))
    assert headers["Content-Type"].startswith("application/rss+xml")
    assert server.base_url.encode() in body


def test_url_mapping(server: SiteServer) -> None:
    assert fetch(server.url("/section/world"))[2] == b"<p>page 1</p>"
    assert fetch(server.url("/section/world?page=2"))[2] == b"<p>page 2</p>"
    # tracking parameters and unknown queries fall back to the page itself
    assert fetch(server.url("/section/world?page=2&utm_source=x"))[2] == b"<p>page 2</p>"
    assert fetch(server.url("/news/1.html?utm_source=fb&utm_medium=social"))[2] == "<p>مقال</p>".encode()
    assert fetch(server.url("/news/1"))[0] == 200  # extension-less
    assert fetch(server.url("/nope.html"))[0] == 404
    assert fetch(server.url("/_headers.json"))[0] == 404  # internal files are hidden
    assert fetch(server.url("/../../etc/passwd"))[0] == 404
    status, headers, _ = fetch(server.url("/old"))
    assert status == 301 and headers["Location"] == "/news/1.html"


def test_head_has_no_body(server: SiteServer) -> None:
    status, headers, body = fetch(server.url("/news/1.html"), method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["Content-Length"]) == len("<p>مقال</p>".encode())


def test_conditional_requests(server: SiteServer) -> None:
    status, headers, _ = fetch(server.url("/legacy.html"))
    etag, last_modified = headers["ETag"], headers["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert fetch(server.url("/legacy.html"), {"If-None-Match": etag})[0] == 304
    assert fetch(server.url("/legacy.html"), {"If-None-Match": '"other"'})[0] == 200
    assert fetch(server.url("/legacy.html"), {"If-Modified-Since": last_modified})[0] == 304
    assert fetch(server.url("/legacy.html"), {"If-Modified-Since": "Tue, 14 Oct 2025 07:00:00 GMT"})[0] == 200
    # If-None-Match wins over If-Modified-Since
    assert fetch(server.url("/legacy.html"), {"If-None-Match": '"x"', "If-Modified-Since": last_modified})[0] == 200


def test_etag_depends_on_served_bytes(site_root: Path) -> None:
    with SiteServer(site_root) as a, SiteServer(site_root) as b:
        # same file, different base URL -> different bytes -> different ETag
        assert fetch(a.url("/"))[1]["ETag"] != fetch(b.url("/"))[1]["ETag"]
        assert fetch(a.url("/news/1.html"))[1]["ETag"] == fetch(b.url("/news/1.html"))[1]["ETag"]


def test_calendar_trap_is_endless(server: SiteServer) -> None:
    url = server.url("/calendar/2025/10/15/")
    seen = set()
    for _ in range(15):
        status, headers, body = fetch(url)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        html = body.decode("utf-8")
        assert "sort=" in html and "view=" in html
        nxt = html.split('<a href="')[2].split('"')[0]  # the "next day" link
        assert nxt not in seen
        seen.add(nxt)
        url = server.url(nxt)
    assert fetch(server.url("/calendar/2025/10/15/?sort=oldest&view=grid"))[0] == 200
    assert fetch(server.url("/calendar/garbage"))[0] == 200
    assert "الشهر التالي" in trap_page("/calendar/", "/calendar/2025/12/").decode()


def test_request_log(server: SiteServer) -> None:
    server.reset_requests()
    fetch(server.url("/section/world?page=2"), {"User-Agent": "test-agent/1", "If-None-Match": '"abc"'})
    fetch(server.url("/missing"), method="HEAD")
    log = server.requests
    assert [(r.method, r.path, r.status) for r in log] == [("GET", "/section/world?page=2", 200),
                                                          ("HEAD", "/missing", 404)]
    assert log[0].user_agent == "test-agent/1"
    assert log[0].headers["If-None-Match"] == '"abc"'
    assert log[0].host == server.base_url
    server.reset_requests()
    assert server.requests == []


def test_web_server_gives_each_site_its_own_loopback_ip(tmp_path: Path) -> None:
    for name in ("alpha", "beta", "gamma"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "index.html").write_text(f"<p>{name} __BASE_URL__</p>")
    with WebServer(tmp_path) as web:
        hosts = {name: urlsplit(web.base_url(name)).hostname for name in web.sites}
        assert len(set(hosts.values())) == 3
        assert hosts["alpha"] == "127.0.0.1"
        for name in web.sites:
            status, _, body = fetch(web.url(name, "/"))
            assert status == 200 and body == f"<p>{name} {web.base_url(name)}</p>".encode()
        assert len(web.requests) == 3
        web.reset_requests()
        assert web.requests == []
