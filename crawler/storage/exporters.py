"""Scrapy item exporters for feed exports (``scrapy crawl news -o FILE``) that write records as ``export`` does.

The crawl's items are the contract's article records
(:class:`crawler.items.ArticleRecord`); JSON, JSON lines and the other formats
need nothing more. CSV writes lists as JSON text, as ``export --format csv``
does (Scrapy's default joins them with commas); XML leaves out a field whose
value is null (Scrapy's default writes ``None``). Enabled in
``FEED_EXPORTERS`` (``crawler/settings.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy.exporters import CsvItemExporter, XmlItemExporter

from crawler.storage.export import csv_cell


class ArticleCsvItemExporter(CsvItemExporter):
    """CSV cells as ``export --format csv`` writes them: lists as JSON text, nulls empty.

    A field's own ``serializer`` (item field metadata) still wins.
    """

    def serialize_field(self, field: Mapping[str, Any], name: str, value: Any) -> Any:
        if "serializer" in field:
            return super().serialize_field(field, name, value)
        return csv_cell(value)


class ArticleXmlItemExporter(XmlItemExporter):
    """XML without the elements of null fields (instead of the text ``None``)."""

    def _export_xml_field(self, name: str, serialized_value: Any, depth: int) -> None:
        if serialized_value is None:
            return
        super()._export_xml_field(name, serialized_value, depth)
