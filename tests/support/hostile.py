"""A hostile local news site: what a crawl must survive and still end by itself.

:class:`HostileSite` serves, on 127.0.0.1, a home page and a sitemap linking a few real
articles and these traps, each at an article-like URL (``/news/<name>.html``):

===============  ================================================================================
``bomb``         a gzip bomb: 1 MiB on the wire (``Content-Encoding: gzip``), 1 GiB of zeros inflated
``big``          a 64 MiB HTML page (``Content-Length`` announced, streamed)
``loop``         a redirect loop (``/news/loop.html`` -> ``/news/loop-1.html`` -> ... -> back)
``tarpit``       headers at once, then one byte a second for ever
``binary``       random bytes served as ``text/html``
``deep``         200,000 nested ``<div>`` around an Arabic paragraph
``offsite``      a redirect to another host
``links``        a page of malformed links (bad ports, brackets, spaces, schemes, ``%zz``)
===============  ================================================================================

Used by ``tests/test_hostile_site.py`` (the crawl ends, exit 0, the real articles stored) and
``benchmarks/bench_crawl.py --part hostile`` (how long it takes and its peak memory).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.demo.texts import make_stories

TRAPS = ("bomb", "big", "loop", "tarpit", "binary", "deep", "offsite", "links")
ARTICLES = 6
BIG = 64 * 1024 * 1024
DEPTH = 200_000


def _gzip_bomb(mib: int = 1024) -> bytes:
    """A gzip stream of *mib* MiB of zeros (about 1/1000 of that on the wire).

    One deflate block of a MiB of zeros coded after a window of zeros decodes the same
    wherever it stands, so it is repeated instead of compressing a GiB (the trailer's
    check value is not that of the whole: a client stops long before it).
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    head = comp.compress(chunk) + comp.flush(zlib.Z_SYNC_FLUSH)
    block = comp.compress(chunk) + comp.flush(zlib.Z_SYNC_FLUSH)
    return head + block * (mib - 1) + comp.flush()


def _article(i: int) -> bytes:
    story = make_stories()[i]
    body = "".join(f"<p>{p}</p>" for p in story.paragraphs(dt.datetime(2025, 10, 1)))
    return (f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8"><title>{story.title}</title>'
            '<meta property="article:published_time" content="2025-10-01T08:00:00+00:00"></head><body>'
            f"<article><h1>{story.title}</h1>{body}</article></body></html>").encode()


class HostileSite:
    """The server (``with HostileSite() as site:``); :attr:`base_url`, :meth:`sources_yaml`."""

    def __init__(self) -> None:
        self.bomb = _gzip_bomb()
        self.deep = ("<html lang='ar'><head><meta charset='utf-8'><title>صفحة عميقة جدا</title></head><body>"
                     + "<div>" * DEPTH + "<p>" + "هذا نص عربي في أعماق الصفحة " * 20 + "</p>"
                     + "</div>" * DEPTH + "</body></html>").encode()
        self.binary = os.urandom(300_000)
        self.stop = threading.Event()
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def sources_yaml(self, dest: Path) -> Path:
        path = Path(dest) / "hostile-sources.yaml"
        path.write_text(f"sources:\n  - name: hostile\n    start_urls: [{self.base_url}/]\n"
                        f"    sitemaps: [{self.base_url}/sitemap.xml]\n", encoding="utf-8")
        return path

    def __enter__(self) -> HostileSite:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
                      **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                site.requests.append(self.path)
                try:
                    self._answer(self.path.split("?")[0])
                except (BrokenPipeError, ConnectionResetError, TimeoutError):
                    pass

            def _answer(self, path: str) -> None:
                base = site.base_url
                pages = [f"/news/{i}.html" for i in range(ARTICLES)] + [f"/news/{t}.html" for t in TRAPS]
                if path == "/robots.txt":
                    self._send(200, b"User-agent: *\nAllow: /\n", "text/plain")
                elif path == "/sitemap.xml":
                    urls = "".join(f"<url><loc>{base}{p}</loc></url>" for p in pages)
                    self._send(200, ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/'
                                     f'sitemap/0.9">{urls}</urlset>').encode(), "application/xml")
                elif path == "/":
                    links = "".join(f'<li><a href="{p}">خبر في الصفحة الرئيسية للموقع {p}</a></li>' for p in pages)
                    self._send(200, f'<html lang="ar"><body><ul>{links}</ul></body></html>'.encode())
                elif path.startswith("/news/") and path[6:-5].isdigit():
                    self._send(200, _article(int(path[6:-5])))
                elif path == "/news/bomb.html":
                    self._send(200, site.bomb, Content_Encoding="gzip")
                elif path == "/news/big.html":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(BIG))
                    self.end_headers()
                    chunk = b"<p>" + "نص طويل جدا ".encode() * 5000 + b"</p>\n"
                    sent = 0
                    while sent < BIG and not site.stop.is_set():
                        part = chunk[:BIG - sent]
                        self.wfile.write(part)
                        sent += len(part)
                elif path == "/news/loop.html" or path.startswith("/news/loop-"):
                    n = int(path[len("/news/loop-"):-5]) if path.startswith("/news/loop-") else 0
                    self._send(302, b"", Location=f"{base}/news/loop-{(n + 1) % 3}.html")
                elif path == "/news/tarpit.html":
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    while not site.stop.is_set():
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(1)
                elif path == "/news/binary.html":
                    self._send(200, site.binary)
                elif path == "/news/deep.html":
                    self._send(200, site.deep)
                elif path == "/news/offsite.html":
                    self._send(301, b"", Location="http://offsite.invalid/news/1.html")
                elif path == "/news/links.html":
                    bad = ["http://[::1", "http://127.0.0.1:99999/news/x.html", "http://exa mple.com/ x",
                           "javascript:alert(1)", "//", "http://%zz/", ":::", "http://127.0.0.1:0/news/y.html",
                           "mailto:a@b", "http://" + "a" * 300 + ".com/news/1.html", "/news/\x00.html",
                           "data:text/html,<p>x</p>", "http://user:pa ss@127.0.0.1/news/1.html"]
                    links = "".join(f'<a href="{u}">رابط معطوب يبدو كأنه خبر مهم للغاية رقم {i}</a>'
                                    for i, u in enumerate(bad))
                    self._send(200, f'<html lang="ar"><body>{links}</body></html>'.encode())
                else:
                    self._send(404)

        return Handler
