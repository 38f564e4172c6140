"""Loopback HTTP servers for the sample news sites (``make demo`` and the spider tests).

:class:`SiteServer` serves one folder as one web site from a background thread;
:class:`WebServer` serves every sub-folder of a "web" folder as its own site,
each on its own loopback address (127.0.0.1, 127.0.0.2, ...) so that every site
has a distinct host, as Scrapy's offsite filtering expects.

What a site folder may hold, besides the pages themselves:

``_headers.json``
    ``{"/path": {"Content-Type": "...", "Last-Modified": "...", "Status": 301,
    "Location": "/other"}}``. Keys are URL paths (``/a/b.html``), optionally with
    their query (``/news.php?id=3``, looked up first), the served file's path
    (``/news.php/id-3.html``, ``/index.html``), or glob patterns (``/legacy/*``). ``Status``/``Location`` make a redirect without any file;
    ``Last-Modified`` fixes the date (else the file's mtime); every other key is
    sent as a response header, ``Content-Type`` replacing the default.
``_trap.json``
    ``{"prefix": "/calendar/"}``: every URL under the prefix is an endless,
    generated calendar page (200) linking to the previous/next day and month
    and to faceted variants (``?sort=..&view=..``) -- a crawler trap.

Files whose name starts with ``_`` are never served.

URL -> file mapping (documented contract for the site builders):

1. ``/`` and ``/x/`` -> ``index.html`` / ``x/index.html``.
2. ``/x`` -> file ``x``; else directory ``x/index.html``; else ``x.html``.
3. A query string is looked up first as a file inside the path's directory:
   ``/section/world?page=2`` -> ``section/world/page-2.html``;
   ``/news.php?id=7&p=1`` -> ``news.php/id-7_p-1.html`` (``key-value`` pairs in
   request order joined by ``_``). Tracking parameters (``utm_*``, ``fbclid``,
   ``gclid``, ``ref``, ``at_medium``...) are dropped before the lookup, and a
   query that maps to no file is ignored (the page without query is served),
   as real CMSs do.

Every served text file (html, xml, txt, json, rss, atom) has the literal
``__BASE_URL__`` replaced by :attr:`SiteServer.base_url` at request time (a
byte-level replacement, so legacy single-byte encodings are untouched). ``*.gz``
files are decompressed, replaced and recompressed (deterministically, cached).
Responses carry a strong ``ETag`` (hash of the served bytes) and
``Last-Modified``; matching ``If-None-Match`` / ``If-Modified-Since`` get 304.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import fnmatch
import gzip
import hashlib
import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

logger = logging.getLogger(__name__)

__all__ = ["PLACEHOLDER", "RequestRecord", "SiteServer", "WebServer", "trap_page"]

PLACEHOLDER = b"__BASE_URL__"

#: default Content-Type by file suffix
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".gz": "application/gzip",
    ".mp3": "audio/mpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".css": "text/css; charset=utf-8",
}
TEXT_SUFFIXES = frozenset({".html", ".htm", ".xml", ".rss", ".atom", ".txt", ".json"})
#: request headers kept in the request log
LOGGED_HEADERS = ("If-None-Match", "If-Modified-Since", "User-Agent", "Accept-Encoding", "Referer")
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "ref", "at_medium", "at_campaign", "mc_cid", "mc_eid"})


@dataclass(frozen=True)
class RequestRecord:
    """One request as the server saw it.

    Args:
        method: ``GET`` or ``HEAD``.
        path: the request target, query included (``/section/x?page=2``).
        status: the status code answered.
        headers: the :data:`LOGGED_HEADERS` the client sent.
        host: the server's base URL (tells the sites of a :class:`WebServer` apart).
    """

    method: str
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    host: str = ""

    @property
    def user_agent(self) -> str | None:
        """The client's User-Agent, if sent."""
        return self.headers.get("User-Agent")


@dataclass
class _Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def _month_shift(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return dt.date(year, month + 1, 1)


_AR_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس",
              "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
_AR_DAYS = ("الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد")


def trap_page(prefix: str, path: str, query: str = "") -> bytes:
    """The generated page of an infinite calendar at ``path`` (under ``prefix``).

    ``prefix/YYYY/MM/DD/`` is a day, ``prefix/YYYY/MM/`` a month; anything else
    shows a fixed day. Every page links to neighbouring days and months and to
    faceted variants of itself, so the link graph never ends.
    """
    parts = [p for p in path[len(prefix):].split("/") if p]
    day = dt.date(2025, 10, 15)
    try:
        if len(parts) >= 3:
            day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
        elif len(parts) == 2:
            day = dt.date(int(parts[0]), int(parts[1]), 1)
    except ValueError:
        pass
    base = prefix.rstrip("/")

    def day_url(d: dt.date) -> str:
        return f"{base}/{d.year:04d}/{d.month:02d}/{d.day:02d}/"

    def month_url(d: dt.date) -> str:
        return f"{base}/{d.year:04d}/{d.month:02d}/"

    here = day_url(day)
    facets = [("newest", "list"), ("oldest", "grid"), ("popular", "compact")]
    qs = dict(parse_qsl(query))
    page = int(qs.get("page", "1")) if qs.get("page", "1").isdigit() else 1
    links = [
        (day_url(day - dt.timedelta(days=1)), "اليوم السابق"),
        (day_url(day + dt.timedelta(days=1)), "اليوم التالي"),
        (month_url(_month_shift(day, -1)), "الشهر السابق"),
        (month_url(_month_shift(day, 1)), "الشهر التالي"),
    ]
    links += [(f"{here}?sort={s}&amp;view={v}", f"ترتيب: {s} / عرض: {v}") for s, v in facets]
    links.append((f"{here}?sort={qs.get('sort', 'newest')}&amp;view={qs.get('view', 'list')}&amp;page={page + 1}",
                  "الصفحة التالية"))
    label = f"{_AR_DAYS[day.weekday()]} {day.day} {_AR_MONTHS[day.month - 1]} {day.year}"
    items = "\n".join(f'<li><a href="{href}">{text}</a></li>' for href, text in links)
    html = f"""<!DOCTYPE html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><title>أرشيف الأخبار - {label}</title>
<meta name="robots" content="noarchive"></head>
<body>
<header><a href="/">الرئيسية</a></header>
<main class="calendar">
<h1>أرشيف الأخبار: {label}</h1>
<p>لا توجد أخبار منشورة في هذا اليوم.</p>
<ul class="calendar-nav">
{items}
</ul>
</main>
<footer>جميع الحقوق محفوظة</footer>
</body></html>
"""
    return html.encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DemoNewsServer/1.0"
    server: _SiteHTTPServer

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._answer(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(head=True)

    def _answer(self, head: bool) -> None:
        site = self.server.site
        try:
            resp = site.respond(self.path, {k: v for k, v in self.headers.items()})
        except Exception:  # a bug in the demo server must not kill the thread
            logger.exception("demo server failed on %s", self.path)
            resp = _Response(500, b"internal error", {"Content-Type": "text/plain"})
        site.record(RequestRecord(
            method=self.command,
            path=self.path,
            status=resp.status,
            headers={h: self.headers[h] for h in LOGGED_HEADERS if self.headers.get(h) is not None},
            host=site.base_url,
        ))
        self.send_response(resp.status)
        for name, value in resp.headers.items():
            self.send_header(name, value)
        if resp.status != 304:
            self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if not head and resp.status != 304:
            self.wfile.write(resp.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.address_string(), format % args)


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: SiteServer) -> None:
        self.site = site
        super().__init__(address, _Handler)


class SiteServer:
    """Serve one site folder on ``http://host:port`` from a background thread.

    Args:
        root: the site folder.
        host: loopback address to bind.
        port: 0 picks a free port.

    Use as a context manager, or call :meth:`start` / :meth:`stop`.
    """

    def __init__(self, root: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root).resolve()
        self.host = host
        self._port = port
        self._httpd: _SiteHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._cache: dict[tuple[Path, int], bytes] = {}
        self._headers = self._load_json("_headers.json")
        trap = self._load_json("_trap.json")
        self.trap_prefix: str | None = trap.get("prefix") if trap else None

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> SiteServer:
        """Bind and serve in a daemon thread; returns self."""
        if self._httpd is not None:
            return self
        self._httpd = _SiteHTTPServer((self.host, self._port), self)
        self._port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"demo-site-{self.root.name}", daemon=True)
        self._thread.start()
        logger.debug("serving %s on %s", self.root, self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (after :meth:`start`)."""
        if self._httpd is None and self._port == 0:
            raise RuntimeError("server not started")
        return self._port

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """Absolute URL of ``path`` on this site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- request log --------------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._requests.clear()

    def record(self, rec: RequestRecord) -> None:
        """Append one record to the log (called by the handler)."""
        with self._lock:
            self._requests.append(rec)

    # -- answering ----------------------------------------------------------------------------
    def _load_json(self, name: str) -> dict[str, Any]:
        path = self.root / name
        if not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}

    def _header_entry(self, path: str, query: str, file: Path | None = None) -> dict[str, Any]:
        keys = ([f"{path}?{query}"] if query else []) + [path]
        if file is not None:
            keys.append("/" + file.relative_to(self.root).as_posix())
        for key in keys:
            if key in self._headers:
                return dict(self._headers[key])
        for pattern, entry in self._headers.items():
            if "*" in pattern and fnmatch.fnmatchcase(path, pattern):
                return dict(entry)
        return {}

    def _inside(self, candidate: Path) -> Path | None:
        try:
            resolved = candidate.resolve()
        except OSError:
            return None
        if resolved != self.root and self.root not in resolved.parents:
            return None
        if any(part.startswith("_") for part in resolved.relative_to(self.root).parts):
            return None
        return resolved if resolved.is_file() else None

    def resolve(self, path: str, query: str = "") -> Path | None:
        """The file that answers ``path?query``, or None (see the module docstring)."""
        rel = path.lstrip("/")
        if query:
            pairs = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                     if not k.startswith(TRACKING_PREFIXES) and k not in TRACKING_PARAMS]
            if pairs:
                name = "_".join(f"{k}-{v}" for k, v in pairs) + ".html"
                found = self._inside(self.root / rel.rstrip("/") / name)
                if found is not None:
                    return found
        if rel == "" or rel.endswith("/"):
            return self._inside(self.root / rel / "index.html")
        for candidate in (self.root / rel, self.root / rel / "index.html", self.root / (rel + ".html")):
            found = self._inside(candidate)
            if found is not None:
                return found
        return None

    def _body(self, file: Path) -> bytes:
        stat = file.stat()
        key = (file, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        raw = file.read_bytes()
        base = self.base_url.encode("ascii")
        if file.suffix == ".gz":
            inner = gzip.decompress(raw)
            if PLACEHOLDER in inner:
                raw = gzip.compress(inner.replace(PLACEHOLDER, base), mtime=0)
        elif file.suffix in TEXT_SUFFIXES or file.suffix == "":
            raw = raw.replace(PLACEHOLDER, base)
        with self._lock:
            self._cache[key] = raw
        return raw

    def respond(self, target: str, headers: dict[str, str]) -> _Response:
        """Compute the response to a GET of ``target`` with request ``headers``."""
        split = urlsplit(target)
        path = unquote(split.path) or "/"
        query = split.query
        entry = self._header_entry(path, query)
        status = int(entry.pop("Status", 200))
        if status in (301, 302, 303, 307, 308):
            location = str(entry.pop("Location", "/"))
            return _Response(status, b"", {"Location": location.replace("__BASE_URL__", self.base_url)})
        if self.trap_prefix and path.startswith(self.trap_prefix):
            body = trap_page(self.trap_prefix, path, query)
            return _Response(200, body, {"Content-Type": "text/html; charset=utf-8"})
        file = self.resolve(path, query)
        if file is None:
            return _Response(404, "<html><body><h1>404 الصفحة غير موجودة</h1></body></html>".encode(),
                             {"Content-Type": "text/html; charset=utf-8"})
        entry = self._header_entry(path, query, file)
        entry.pop("Status", None)
        body = self._body(file)
        last_modified = str(entry.pop("Last-Modified", "")) or email.utils.formatdate(
            int(file.stat().st_mtime), usegmt=True)
        etag = '"' + hashlib.sha1(body).hexdigest()[:20] + '"'
        out = {
            "Content-Type": str(entry.pop("Content-Type", CONTENT_TYPES.get(file.suffix, "application/octet-stream"))),
            "ETag": etag,
            "Last-Modified": last_modified,
        }
        out.update({k: str(v) for k, v in entry.items()})
        if self._not_modified(headers, etag, last_modified):
            return _Response(304, b"", {"ETag": etag, "Last-Modified": last_modified})
        return _Response(status, body, out)

    @staticmethod
    def _not_modified(headers: dict[str, str], etag: str, last_modified: str) -> bool:
        lowered = {k.lower(): v for k, v in headers.items()}
        inm = lowered.get("if-none-match")
        if inm is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2)
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags
        ims = lowered.get("if-modified-since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
                modified = email.utils.parsedate_to_datetime(last_modified)
            except (TypeError, ValueError):
                return False
            return modified <= since
        return False


class WebServer:
    """Serve every sub-folder of ``web_root`` as its own site on its own loopback IP.

    Sites are taken in name order and bound to ``127.0.0.1``, ``127.0.0.2``, ...
    (Linux routes all of 127.0.0.0/8 to loopback). Where an address cannot be
    bound (e.g. macOS without aliases) the site falls back to ``127.0.0.1`` on
    its own port.

    Args:
        web_root: folder holding one sub-folder per site.
        first_host: address of the first site; following sites increment the last octet.
    """

    def __init__(self, web_root: Path, first_host: str = "127.0.0.1") -> None:
        self.root = Path(web_root)
        octets = first_host.split(".")
        names = sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        self.sites: dict[str, SiteServer] = {}
        for i, name in enumerate(names):
            host = ".".join(octets[:3] + [str(int(octets[3]) + i)])
            self.sites[name] = SiteServer(self.root / name, host=host)

    def start(self) -> WebServer:
        """Start every site; returns self."""
        for site in self.sites.values():
            try:
                site.start()
            except OSError:
                logger.warning("cannot bind %s; serving %s on 127.0.0.1", site.host, site.root.name)
                site.host = "127.0.0.1"
                site.start()
        return self

    def stop(self) -> None:
        """Stop every site."""
        for site in self.sites.values():
            site.stop()

    def __enter__(self) -> WebServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def base_url(self, name: str) -> str:
        """``http://HOST:PORT`` of site ``name``."""
        return self.sites[name].base_url

    def url(self, name: str, path: str = "/") -> str:
        """Absolute URL of ``path`` on site ``name``."""
        return self.sites[name].url(path)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every site's request log, concatenated in site order."""
        return [r for site in self.sites.values() for r in site.requests]

    def reset_requests(self) -> None:
        """Empty every site's request log."""
        for site in self.sites.values():
            site.reset_requests()

    def manifest(self, name: str | None = None) -> dict[str, Any]:
        """The ``_manifest.json`` of site ``name`` (or of the whole web when None)."""
        path = self.root / (name or "") / "_manifest.json"
        return json.loads(path.read_text(encoding="utf-8"))
