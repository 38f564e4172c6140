"""URL parsing, canonicalisation and classification: one article, one URL, one row.

Every URL the crawler reads from a page, a feed, a sitemap, robots.txt, an
imported record or the sources file is parsed here and nowhere else. The
standard library raises ``ValueError`` on many malformed URLs (``http://[x/``:
"Invalid IPv6 URL", a port out of range, a host that NFKC folds into a
separator); :func:`split_url` and :func:`join_url` never raise: a malformed URL
is ``None``, one dropped link with a reason (:func:`invalid_reason`), never a
lost page, batch or file.
"""

from __future__ import annotations

from functools import lru_cache

import fnmatch
import re
from collections.abc import Iterable
from urllib.parse import (
    SplitResult, parse_qsl, quote, quote_from_bytes, unquote_to_bytes, urlencode, urljoin, urlsplit, urlunsplit,
)

from w3lib.url import canonicalize_url

__all__ = [
    "MAX_URL_CHARS",
    "InvalidURL",
    "canonical_url",
    "canonical_url_or_none",
    "invalid_reason",
    "is_probably_not_html",
    "join_url",
    "looks_like_non_article",
    "split_url",
    "url_host",
]

#: Longer URLs are refused (the ``url`` column's size; no article URL is longer).
MAX_URL_CHARS = 2048
# Characters no URL may hold: controls (a vertical tab, a NUL) and whitespace other than a space.
_BAD_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class InvalidURL(ValueError):
    """A URL that cannot be parsed; ``reason`` is a short slug (a stat key)."""

    def __init__(self, url: object, reason: str) -> None:
        super().__init__(f"invalid URL ({reason}): {str(url)[:200]!r}")
        self.reason = reason


def invalid_reason(url: object, *, any_scheme: bool = False) -> str | None:
    """Why *url* is not a usable absolute http(s) URL, or ``None`` when it is one. Never raises.

    With *any_scheme*, an absolute URL of another scheme (``ftp:``, ``whatsapp:``) is not refused.
    """
    if not isinstance(url, str):
        return "not_a_string"
    return _invalid_reason(url, any_scheme)


@lru_cache(maxsize=1 << 15)  # the same links recur on every page of a site
def _invalid_reason(url: str, any_scheme: bool) -> str | None:
    url = url.strip()
    if not url:
        return "empty"
    if len(url) > MAX_URL_CHARS:
        return "too_long"
    if _BAD_CHARS.search(url):
        return "control_character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port out of range or not a number
        host = parts.hostname
    except ValueError:
        return "unparsable"
    if parts.scheme.lower() not in ("http", "https"):
        return None if any_scheme and parts.scheme else "scheme"
    if not host:
        return "no_host"
    return None


def split_url(url: object) -> SplitResult | None:
    """``urlsplit(url)`` when *url* is a valid absolute http(s) URL, else ``None``. Never raises."""
    if invalid_reason(url) is not None:
        return None
    return urlsplit(url.strip())  # type: ignore[union-attr]


def join_url(base: str | None, href: object, *, any_scheme: bool = False) -> str | None:
    """*href* made absolute against *base*, or ``None`` when either is malformed. Never raises."""
    if not isinstance(href, str):
        return None
    href = href.strip()
    if not href:
        return None
    try:
        url = urljoin(base, href) if base else href
    except ValueError:
        return None
    return url if invalid_reason(url, any_scheme=any_scheme) is None else None

# Links that never lead to an HTML article page.
_NON_HTML_EXT = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|ico|bmp|tiff?|mp[34]|m4a|m4v|avi|mov|wmv|flv|webm|ogg|wav|"
    r"pdf|docx?|xlsx?|pptx?|zip|rar|7z|gz|tgz|exe|apk|dmg|css|js|json|woff2?|ttf|eot)$",
    re.IGNORECASE,
)
# Path segments of pages that are not articles (counted as skipped, not fetched).
_NON_ARTICLE_SEGMENTS = frozenset(
    """
    tag tags author authors writer writers login logout register signin signup account
    search print share sharer subscribe newsletter contact contact-us about about-us
    privacy terms advertise ads wp-admin wp-login.php cart feed rss comments
    """.split()
)
# AMP variants of a page: /amp/…, …/amp, …/amp/, ….amp.html, ?amp=1, ?outputType=amp.
_AMP_SUFFIX = re.compile(r"/amp/?$|\.amp(?=\.html?$)", re.IGNORECASE)
_AMP_PREFIX = re.compile(r"^/amp(?=/)", re.IGNORECASE)

DEFAULT_STRIP_PARAMS = (
    "utm_*", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "yclid",
    "ref", "ref_src", "ref_url", "cmp", "ocid", "ito", "at_*",
    "sessionid", "session_id", "sid", "phpsessid", "jsessionid", "amp", "outputtype",
    # Faceted views of the same listing: a classic crawler trap.
    "sort", "sortby", "sort_by", "order", "orderby", "view", "display", "layout", "per_page", "limit",
)


def _strip(params: list[tuple[str, str]], patterns: Iterable[str]) -> list[tuple[str, str]]:
    patterns = [p.lower() for p in patterns]
    return [
        (k, v) for k, v in params if not any(fnmatch.fnmatchcase(k.lower(), p) for p in patterns)
    ]


def canonical_url(url: str, strip_params: Iterable[str] = DEFAULT_STRIP_PARAMS) -> str:
    """The canonical form of *url*: the key of a stored article.

    Lower-case scheme and host, no default port, no fragment, tracking and
    session parameters removed, remaining query sorted, AMP variant folded into
    the plain page, percent-encoding normalised (w3lib, as scrapy-redis does).

    Raises:
        InvalidURL: *url* cannot be parsed (see :func:`canonical_url_or_none`).
    """
    if not isinstance(url, str) or len(url) > MAX_URL_CHARS or _BAD_CHARS.search(url.strip()):
        raise InvalidURL(url, invalid_reason(url) or "unparsable")
    try:
        return _canonical_cached(url, tuple(strip_params))
    except ValueError as exc:  # urlsplit, .port, IDNA encoding in w3lib
        raise InvalidURL(url, "unparsable") from exc


def canonical_url_or_none(url: object, strip_params: Iterable[str] = DEFAULT_STRIP_PARAMS) -> str | None:
    """:func:`canonical_url`, or ``None`` for a malformed URL. Never raises."""
    try:
        return canonical_url(url, strip_params)  # type: ignore[arg-type]
    except InvalidURL:
        return None


# An imported record's URL is canonicalised twice (validated by the importer, then made
# the key by the cleaner), a crawled link as often as it is found (the same links recur on
# every page of a site): the last answers are kept. Errors are not cached (they propagate).
@lru_cache(maxsize=1 << 15)
def _canonical_cached(url: str, strip_params: tuple[str, ...]) -> str:
    return _canonical(url, strip_params)


def _canonical(url: str, strip_params: Iterable[str]) -> str:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower() or "http"
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, 80 if scheme == "http" else 443) else f"{host}:{port}"
    path = parts.path or "/"
    path = _AMP_PREFIX.sub("", path)
    path = _AMP_SUFFIX.sub("", path) or "/"
    if host.startswith("amp."):
        netloc = netloc[4:]
    query = urlencode(_strip(parse_qsl(parts.query, keep_blank_values=True), strip_params)) if parts.query else ""
    if not query and scheme in ("http", "https") and _PLAIN_NETLOC.fullmatch(netloc) and _PLAIN_PATH.fullmatch(path):
        # What canonicalize_url makes of such a URL, without its per-byte loops (a fifth of the
        # cleaning of an imported record; tests compare the two on every corpus URL and at random).
        encoded = _encoded_path(path)
        if encoded is not None:
            return f"{scheme}://{netloc}{encoded}"
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))


# What the shortcut above takes: a lower-case ASCII host (and port), and a path without what
# canonicalize_url splits or strips (";", "\\", spaces, controls).
_PLAIN_NETLOC = re.compile(r"[a-z0-9._-]+(?::[0-9]+)?")
_PLAIN_PATH = re.compile(r"/[^\x00-\x20\x7f;\\#?\[\]]*")
# What canonicalize_url leaves unencoded in a path besides letters, digits and "-._~", and the
# escapes it keeps as they are (upper-cased) rather than decode.
_PATH_CHARS = "!$&'()*+,;=:@/?[]|%"
_KEPT_ESCAPES = (
    (b"%25", b"%2525"), (b"%2f", b"%252F"), (b"%2F", b"%252F"), (b"%3b", b"%253B"), (b"%3B", b"%253B"),
    (b"%3f", b"%253F"), (b"%3F", b"%253F"),
)


def _encoded_path(path: str) -> str | None:
    """The path as canonicalize_url writes it: each escape decoded (but those it keeps), then every
    byte but a path character percent-encoded, as UTF-8; ``None`` when it then holds dot segments
    (canonicalize_url resolves them)."""
    if "%" in path:
        raw = path.encode("utf-8")
        for escape, kept in _KEPT_ESCAPES:
            raw = raw.replace(escape, kept)
        encoded = quote_from_bytes(unquote_to_bytes(raw), safe=_PATH_CHARS)
    else:
        encoded = quote(path, safe=_PATH_CHARS)
    return None if "/." in encoded else encoded


def _split_lenient(url: object) -> SplitResult | None:
    """``urlsplit`` of any string (a relative or non-http URL too), ``None`` when it raises."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        parts.hostname  # noqa: B018 - may raise on a malformed netloc
    except ValueError:
        return None
    return parts


def url_host(url: str) -> str:
    """The lower-case host of *url*; ``""`` when it has none or is malformed. Never raises."""
    return _url_host(url) if isinstance(url, str) else ""


@lru_cache(maxsize=1 << 15)
def _url_host(url: str) -> str:
    parts = _split_lenient(url)
    return ((parts.hostname if parts else None) or "").lower()


def is_probably_not_html(url: str) -> bool:
    """True for links to images, media, documents and other non-pages."""
    parts = _split_lenient(url)
    return bool(parts and _NON_HTML_EXT.search(parts.path))


def looks_like_non_article(url: str) -> str | None:
    """A reason when the URL's path says it is not an article page (``url_invalid`` when malformed), else None."""
    if invalid_reason(url) is not None and invalid_reason(url) != "scheme":
        return "url_invalid"
    parts = _split_lenient(url)
    if parts is None:
        return "url_invalid"
    segments = [s.lower() for s in parts.path.split("/") if s]
    for segment in segments:
        if segment in _NON_ARTICLE_SEGMENTS:
            return f"url_{segment.replace('-', '_').replace('.', '_')}"
    if parts.scheme not in ("http", "https"):
        return "url_scheme"
    return None
