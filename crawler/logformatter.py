"""The crawl's Scrapy log formatter: dropped and failed items named by URL, not dumped whole.

Scrapy's default writes the whole item under a drop or an item error, here the
fetched page (``raw_html``) with every drop of a non-article page: megabytes of
log per run. The message already names the URL and the reason. Enabled as
``LOG_FORMATTER`` (``crawler/settings.py``).
"""

from __future__ import annotations

from typing import Any

from itemadapter import ItemAdapter, is_item
from scrapy.logformatter import LogFormatter

_MAX_REPR = 200


def short_item(item: Any) -> str:
    """``ArticleItem(url='...')``: the item's class and URL (else a repr cut to 200 characters)."""
    if is_item(item):
        adapter = ItemAdapter(item)
        if adapter.get("url"):
            return f"{type(item).__name__}(url={adapter['url']!r})"
    text = repr(item)
    return text if len(text) <= _MAX_REPR else text[:_MAX_REPR] + "..."


class ShortItemLogFormatter(LogFormatter):
    """:class:`scrapy.logformatter.LogFormatter`, with dropped and failed items shortened (:func:`short_item`)."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        return self._shorten(super().dropped(item, exception, response, spider))

    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> Any:
        return self._shorten(super().item_error(item, exception, response, spider))

    @staticmethod
    def _shorten(entry: Any) -> Any:
        if entry and isinstance(entry.get("args"), dict) and "item" in entry["args"]:
            entry["args"] = {**entry["args"], "item": short_item(entry["args"]["item"])}
        return entry
