"""Article extraction for Arabic news pages: body, title, date, authors, tags, attribution, related links.

Public API::

    from crawler.extract import extract_article, Extraction, SiteTemplate

:func:`extract_article` never raises on bad input; a page that is not an article comes back with
``is_article=False`` and a short ``reason``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime

from crawler.extract.boilerplate import compile_extra, compiled_extra
from crawler.extract.html import NotHTML
from crawler.extract.model import Extraction
from crawler.extract.pipeline import run
from crawler.extract.template import SiteTemplate, block_hash

__all__ = ["Extraction", "SiteTemplate", "block_hash", "extract_article"]

logger = logging.getLogger(__name__)


def extract_article(
    html: str | bytes,
    url: str | None = None,
    *,
    fetched_at: datetime | None = None,
    encoding: str | None = None,
    extra_patterns: Sequence[str] = (),
    template: SiteTemplate | None = None,
    time_budget: float | None = None,
) -> Extraction:
    """Extract one article from *html*.

    Args:
        html: the page, as text or as bytes (decoded from *encoding*, the declared charset, or detected).
        url: the page's URL; related links are made absolute against it; dates may be read from it.
        fetched_at: fetch time, the base for relative dates ("منذ ساعتين").
        encoding: a charset hint (e.g. the HTTP header's).
        extra_patterns: per-source boilerplate regexes (lines matching one are dropped).
        template: a learned :class:`SiteTemplate` for the page's site.
        time_budget: seconds the page may take; checked between extraction steps, a page over it
            comes back with ``reason="too_slow"`` (``None``: no limit).
    """
    deadline = time.monotonic() + time_budget if time_budget else None
    try:
        extra = compiled_extra(extra_patterns)  # a source's patterns are compiled once per process
    except TypeError:  # unhashable patterns: compiled for this page alone
        extra = compile_extra(extra_patterns)
    try:
        return run(html, url, fetched_at=fetched_at, encoding=encoding,
                   extra=extra, template=template, deadline=deadline)
    except NotHTML as exc:
        return Extraction.failed(exc.reason)
    except RecursionError:
        return Extraction.failed("too_deep")
    except MemoryError:
        return Extraction.failed("too_big")
    except Exception:  # noqa: BLE001 - one bad page must never stop a crawl
        logger.exception("extraction failed for %s", url)
        return Extraction.failed("error")
