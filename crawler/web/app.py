"""The Starlette application of `serve`: five read-only pages over one database.

Every stored string came from a stranger's page: templates are autoescaped
(and never mark stored content safe), links go out only to http(s) URLs, and
every response carries a Content-Security-Policy that allows no inline script
and nothing from another origin.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crawler.commands.report import corpus_stats
from crawler.dedup.minhash import DedupConfig
from crawler.storage.database import Database
from crawler.web import queries

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

HERE = Path(__file__).resolve().parent

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in message.get("headers", [])}
                message["headers"] = list(message.get("headers", [])) + [
                    (k, v) for k, v in SECURITY_HEADERS if k not in names]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class TTLCache:
    """The last value of a costly call, kept *seconds* (the overview's full counts over a large corpus)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: str, make: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        value = make()
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value


def http_url(url: str | None) -> str | None:
    """*url* when it is an http(s) URL (safe to link to), else None (shown as text only)."""
    if not url:
        return None
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _when(value: Any) -> str:
    if value is None:
        return "-"
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    env.filters["http_url"] = http_url
    env.filters["when"] = _when
    env.filters["num"] = lambda n: f"{int(n or 0):,}"
    env.globals["query"] = lambda **kw: urlencode({k: v for k, v in kw.items() if v not in (None, "")})
    return env


def create_app(db: Database, settings: BaseSettings | None = None, *, cache_seconds: float = 30.0) -> Starlette:
    """The application over *db* (opened read-only by the caller: :func:`crawler.web.db.open_readonly`).

    Args:
        settings: the project's settings (default: :func:`crawler.commands.runner.project_settings`):
            the DEDUP_* configuration the ``why`` explanations use, and the RUNS_HEALTH_* settings
            of the sources' health, as ``stats`` reads them.
        cache_seconds: how long the overview's and /api/stats' counts (whole-table aggregates) are kept.

    Raises:
        ValueError: invalid DEDUP_* settings.
    """
    if settings is None:
        from crawler.commands.runner import project_settings

        settings = project_settings()
    config = DedupConfig.from_settings(settings)
    explain_options = {"member_threshold": settings.getfloat("DEDUP_MEMBER_THRESHOLD"),
                       "max_members": settings.getint("DEDUP_MAX_MEMBERS_CHECKED")}
    health = {"health_runs": settings.getint("RUNS_HEALTH_RUNS"), "min_pages": settings.getint("RUNS_HEALTH_MIN_PAGES")}
    env = templates()
    cache = TTLCache(cache_seconds)

    def render(name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status)

    def sites() -> list[str]:
        return cache.get("sites", lambda: queries.site_names(db))

    def stats() -> dict[str, Any]:
        return cache.get("stats", lambda: corpus_stats(db, **health))

    def home(request: Request) -> Response:
        data = cache.get("overview", lambda: queries.overview(db, stats=stats()))
        return render("overview.html", page="home", data=data, sites=list(data["sites"]))

    def articles(request: Request) -> Response:
        q = request.query_params.get("q", "")[:500]
        site = request.query_params.get("site", "")[:64] or None
        before_raw = request.query_params.get("before", "")
        try:
            before = int(before_raw) if before_raw else None
        except ValueError:
            raise HTTPException(400, "before must be a number") from None
        result = queries.search(db, q, site, before)
        return render("articles.html", page="search", result=result, sites=sites(), q=q, site=site or "")

    def cluster(request: Request) -> Response:
        cid = request.path_params["cluster_id"][:64]
        result = queries.cluster(db, cid, config, explain_options)
        if result is None:
            raise HTTPException(404, f"no stored story has the cluster id {cid}")
        return render("cluster.html", page="cluster", c=result)

    def headline_page(request: Request) -> Response:
        raw = request.query_params.get("days", "30")
        # A window of at most MAX_HEADLINE_DAYS: a range of the occurrences' created_at index
        # (all time, every occurrence grouped, is `export --what headlines`).
        days = int(raw) if raw.isdigit() and 0 < int(raw) <= queries.MAX_HEADLINE_DAYS else 30
        return render("headlines.html", page="headlines", rows=queries.headlines(db, days), days=days)

    def api_stats(request: Request) -> Response:
        return Response(json.dumps(stats(), ensure_ascii=False, indent=2), media_type="application/json")

    async def error(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 500)
        detail = getattr(exc, "detail", "") or "error"
        return render("error.html", status=status, page="error", status_code=status, detail=detail)

    routes = [
        Route("/", home),
        Route("/articles", articles),
        Route("/clusters/{cluster_id}", cluster),
        Route("/headlines", headline_page),
        Route("/api/stats", api_stats),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    return Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)],
                     exception_handlers={HTTPException: error})
