"""Decode and parse one page defensively: every failure becomes a reason, never an exception."""

from __future__ import annotations

import codecs
import logging
import re

import lxml.html
from lxml import etree

logger = logging.getLogger(__name__)

#: libxml2 silently stops nesting at 256 levels; a tree that reaches this is pathological.
MAX_DEPTH = 250
#: Pages larger than this are cut before parsing (no news article needs more).
MAX_BYTES = 8_000_000

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_HTML_SIGN = re.compile(r"<\s*(?:!doctype\s+html|html|head|body|div|p|article|title|meta|table|span|h[1-6])\b", re.I)
# The same one to three empty tags (with only spaces between) 32 times or more in a row: 1.6 million empty
# <p> or 2 million <br> cost seconds and a gigabyte as a tree and say nothing; one copy says the same.
# Only empty markup: void or self-closing tags (br, img, an unclosed p...) and empty pairs; runs of
# nesting tags (<div><div>...) are left to the depth check.
_EMPTY_TAG = (
    r"<(?:br|hr|wbr|p|li|dt|dd|td|th|tr|img|option)\b[^<>]{0,200}>"
    r"|<([a-z][a-z0-9]{0,11})\b[^<>]{0,200}>\s*</\2\s*>"
)
_MARKUP_RUN = re.compile(rf"((?:(?:{_EMPTY_TAG})\s*){{1,3}}?)\1{{31,}}", re.IGNORECASE)
# C0 controls other than tab, newline and carriage return: lxml refuses them in a tree edit (a
# vertical tab in a tail lost the whole article); they are never text.
_CONTROLS = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ALIASES = {"windows-1256": "cp1256", "x-windows-1256": "cp1256", "iso-8859-6": "iso8859_6",
            "arabic": "iso8859_6", "x-user-defined": "cp1252", "utf8": "utf-8", "unicode": "utf-8"}


class NotHTML(Exception):
    """Raised internally with a short reason slug; turned into ``is_article=False``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = _ALIASES.get(name.strip().lower(), name.strip().lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _try(data: bytes, enc: str | None) -> str | None:
    if not enc:
        return None
    try:
        return data.decode(enc)
    except (UnicodeDecodeError, LookupError):
        return None


def decode(data: bytes, hint: str | None = None) -> str:
    """Decode page bytes: BOM, caller's hint, declared meta charset, strict UTF-8, then charset-normalizer."""
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace")
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return data.decode("utf-16", errors="replace")
    head = data[:4096]
    if head.count(b"\x00") > 8:
        raise NotHTML("not_html")
    for enc in (_codec(hint), _codec(m.group(1).decode("ascii", "ignore")) if (m := _META_CHARSET.search(head)) else None):
        text = _try(data, enc)
        # A declared single-byte charset on a page that is valid UTF-8 is a common lie.
        if text is not None and not (enc not in ("utf-8",) and _try(data, "utf-8") is not None and re.search(rb"[\xc0-\xff]", data)):
            return text
    text = _try(data, "utf-8")
    if text is not None:
        return text
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000], cp_isolation=["utf_8", "cp1256", "iso8859_6", "cp720", "cp1252"]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, errors="replace")
    except Exception:  # noqa: BLE001 - detection is best effort
        logger.debug("charset detection failed", exc_info=True)
    return data.decode("cp1256", errors="replace")


def to_text(html: str | bytes, encoding: str | None = None) -> str:
    """Return the page as text, or raise :class:`NotHTML` with a reason."""
    if html is None:
        raise NotHTML("empty")
    if isinstance(html, (bytes, bytearray, memoryview)):
        data = bytes(html)[:MAX_BYTES]
        if not data.strip():
            raise NotHTML("empty")
        text = decode(data, encoding)
    elif isinstance(html, str):
        text = html[:MAX_BYTES]
    else:
        raise NotHTML("not_html")
    if not text.strip():
        raise NotHTML("empty")
    if text[:4096].count("\x00") > 8 or not _HTML_SIGN.search(text[:200_000]):
        raise NotHTML("not_html")
    return prune_markup(_XML_DECL.sub("", text, count=1))


def prune_markup(text: str) -> str:
    """*text* without control characters and with long runs of repeated empty markup cut to one."""
    return _MARKUP_RUN.sub(r"\1", _CONTROLS.sub(" ", text.replace("\x00", "")))


def parse(text: str) -> lxml.html.HtmlElement:
    """Parse with lxml's recovering HTML parser; raise :class:`NotHTML` on failure or absurd nesting."""
    parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False, default_doctype=False)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        logger.debug("unparsable page: %s", exc)
        raise NotHTML("not_html") from exc
    if root is None or not isinstance(root.tag, str):
        raise NotHTML("not_html")
    if _TOO_DEEP(root):  # in libxml2, not one Python step per element
        raise NotHTML("too_deep")
    return root


# True when an element sits MAX_DEPTH levels down (the root element is level 1).
_TOO_DEEP = etree.XPath("boolean(" + "/*" * MAX_DEPTH + ")")
