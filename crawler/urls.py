"""URL canonicalisation and classification: one article, one URL, one row."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

__all__ = ["canonical_url", "is_probably_not_html", "looks_like_non_article", "url_host"]

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
    """
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
    query = urlencode(_strip(parse_qsl(parts.query, keep_blank_values=True), strip_params))
    return canonicalize_url(urlunsplit((scheme, netloc, path, query, "")))


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def is_probably_not_html(url: str) -> bool:
    """True for links to images, media, documents and other non-pages."""
    return bool(_NON_HTML_EXT.search(urlsplit(url).path))


def looks_like_non_article(url: str) -> str | None:
    """A reason when the URL's path says it is not an article page, else None."""
    parts = urlsplit(url)
    segments = [s.lower() for s in parts.path.split("/") if s]
    for segment in segments:
        if segment in _NON_ARTICLE_SEGMENTS:
            return f"url_{segment.replace('-', '_').replace('.', '_')}"
    if parts.scheme not in ("http", "https"):
        return "url_scheme"
    return None
