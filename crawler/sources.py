"""The sources file: which sites to crawl and how to find their articles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from crawler.urls import invalid_reason, split_url

__all__ = ["Source", "SourcesError", "load_sources", "parse_sources"]

_NAME = re.compile(r"^[a-z0-9_]+$")
_URL_LISTS = ("start_urls", "feeds", "sitemaps")
_KNOWN_KEYS = {
    "name", "start_urls", "feeds", "sitemaps", "allowed_domains",
    # Optional per-source overrides.
    "encoding", "boilerplate_patterns", "article_url_pattern", "selectors",
    "max_requests", "disallows_training", "licence", "country", "language", "notes",
}


class SourcesError(ValueError):
    """A sources file that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Source:
    """One site to crawl.

    Args:
        name: unique ``[a-z0-9_]+`` id, the ``site`` of every record from it.
        start_urls: home or section pages; article links are discovered there.
        feeds: RSS / Atom feed URLs.
        sitemaps: sitemap, sitemap index or news sitemap URLs (``.gz`` too).
        allowed_domains: hosts the crawl may visit (default: hosts of the URLs).
        encoding: forced page encoding, for sites that declare it wrongly.
        boilerplate_patterns: extra regexes of lines to strip from bodies.
        article_url_pattern: regex an article URL must match (optional hint).
        selectors: optional CSS/XPath overrides (``title``, ``body``, ``date``).
        max_requests: per-source request budget (overrides the setting).
        disallows_training: the publisher forbids use as ML training data.
        licence: free-text licence or terms-of-use note (copied into dataset cards).
    """

    name: str
    start_urls: tuple[str, ...] = ()
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    allowed_domains: tuple[str, ...] = ()
    encoding: str | None = None
    boilerplate_patterns: tuple[str, ...] = ()
    article_url_pattern: str | None = None
    selectors: dict[str, str] = field(default_factory=dict)
    max_requests: int | None = None
    disallows_training: bool = False
    licence: str | None = None

    def all_urls(self) -> tuple[str, ...]:
        return self.start_urls + self.feeds + self.sitemaps


def _fail(path: str, where: str, problem: str) -> SourcesError:
    return SourcesError(f"{path}: {where}: {problem}")


def _url_list(path: str, where: str, key: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _fail(path, where, f"'{key}' must be a list of URLs")
    urls = []
    for url in value:
        if reason := invalid_reason(url):
            raise _fail(path, where, f"'{key}' has an invalid URL {str(url)[:200]!r} ({reason.replace('_', ' ')})")
        urls.append(url.strip())
    return tuple(urls)


#: Largest per-source request budget accepted (a typo such as 1e9 is refused, not obeyed).
MAX_REQUESTS_LIMIT = 10_000_000


def _str_list(path: str, where: str, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(path, where, f"'{key}' must be a list of strings")
    return value


def _parse_entry(path: str, index: int, entry: Any, seen: set[str]) -> Source:
    where = f"entry {index + 1}"
    if not isinstance(entry, dict):
        raise _fail(path, where, "must be a mapping with at least 'name'")
    name = entry.get("name")
    if name is not None:
        where = f"entry {index + 1} ({name})"
    if not isinstance(name, str) or not _NAME.match(name):
        raise _fail(path, where, "'name' must match [a-z0-9_]+")
    if name in seen:
        raise _fail(path, where, f"duplicate name {name!r}")
    unknown = sorted(set(entry) - _KNOWN_KEYS)
    if unknown:
        raise _fail(path, where, f"unknown key {unknown[0]!r}")
    lists = {key: _url_list(path, where, key, entry.get(key)) for key in _URL_LISTS}
    if not any(lists.values()):
        raise _fail(path, where, "needs at least one of start_urls, feeds, sitemaps")
    domains = entry.get("allowed_domains") or sorted(
        {p.hostname or "" for urls in lists.values() for u in urls if (p := split_url(u))}
    )
    if not isinstance(domains, list) or not all(isinstance(d, str) and d.strip() for d in domains):
        raise _fail(path, where, "'allowed_domains' must be a list of host names")
    patterns = _str_list(path, where, "boilerplate_patterns", entry.get("boilerplate_patterns"))
    url_pattern = entry.get("article_url_pattern")
    if url_pattern is not None and not isinstance(url_pattern, str):
        raise _fail(path, where, "'article_url_pattern' must be a string (a regular expression)")
    for pattern in [*patterns, url_pattern or ""]:
        try:
            re.compile(pattern)
        except (re.error, RecursionError, OverflowError) as exc:
            raise _fail(path, where, f"bad regular expression {pattern[:200]!r}: {exc}") from None
    max_requests = entry.get("max_requests")
    if max_requests is not None and (
        isinstance(max_requests, bool) or not isinstance(max_requests, int)
        or not 1 <= max_requests <= MAX_REQUESTS_LIMIT
    ):
        raise _fail(path, where, f"'max_requests' must be an integer from 1 to {MAX_REQUESTS_LIMIT:,}")
    encoding = entry.get("encoding")
    if encoding is not None and not isinstance(encoding, str):
        raise _fail(path, where, "'encoding' must be a string (a codec name)")
    training = entry.get("disallows_training", False)
    if not isinstance(training, bool):
        raise _fail(path, where, "'disallows_training' must be true or false")
    selectors = entry.get("selectors") or {}
    if not isinstance(selectors, dict) or not all(isinstance(v, str) for v in selectors.values()):
        raise _fail(path, where, "'selectors' must be a mapping of strings")
    licence = entry.get("licence")
    if licence is not None and not isinstance(licence, str):
        raise _fail(path, where, "'licence' must be text")
    seen.add(name)
    return Source(
        name=name,
        start_urls=lists["start_urls"],
        feeds=lists["feeds"],
        sitemaps=lists["sitemaps"],
        allowed_domains=tuple(domains),
        encoding=encoding,
        boilerplate_patterns=tuple(patterns),
        article_url_pattern=url_pattern,
        selectors=dict(selectors),
        max_requests=max_requests,
        disallows_training=training,
        licence=licence,
    )


def parse_sources(text: str, path: str = "<sources>") -> list[Source]:
    """Parse and validate the YAML text of a sources file.

    Raises:
        SourcesError: with one line naming the file, the entry and the problem.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else "YAML"
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise SourcesError(f"{path}: {line}: {problem}") from None
    if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
        raise SourcesError(f"{path}: top level: expected a 'sources:' list")
    seen: set[str] = set()
    sources = [_parse_entry(path, i, entry, seen) for i, entry in enumerate(data["sources"])]
    if not sources:
        raise SourcesError(f"{path}: top level: 'sources' is empty")
    return sources


def load_sources(path: str | Path) -> list[Source]:
    """Read and validate a sources file (see :func:`parse_sources`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourcesError(f"{path}: cannot read: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourcesError(f"{path}: cannot read: {exc}") from None
    return parse_sources(text, str(path))
