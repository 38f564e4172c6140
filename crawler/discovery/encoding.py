"""Page encodings: detect mojibake and re-decode with the right Arabic codec.

Scrapy decodes a page with the charset of its Content-Type header, then its
``<meta>`` tag, then a guess. Arabic sites still serve windows-1256 and
ISO-8859-6, sometimes declared wrongly (``iso-8859-1``) or not at all; such a
page decodes to Latin-1 mojibake ("ÇáÑÆíÓ") or to replacement characters.
:class:`EncodingFixMiddleware` checks every HTML response and, when the text
looks garbled, re-decodes the body with the codec that yields real Arabic.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import numpy as np
from charset_normalizer import from_bytes
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse, TextResponse

from crawler import meta as m
from crawler import stats as st
from crawler.text import arabic_ratio

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

ARABIC_CODECS = ("utf-8", "cp1256", "iso8859-6")
_SAMPLE = 20000  # characters of text inspected
# What garble_score counts as bad: U+FFFD and the Latin-1 supplement letters.
_BAD_CHAR = re.compile("[\ufffd\u00c0-\u00ff]")


def garble_score(text: str) -> float:
    """How garbled *text* looks: share of replacement and Latin-1 mojibake chars.

    Bad: U+FFFD and the Latin-1 supplement letters U+00C0-U+00FF (what
    windows-1256 Arabic looks like when read as Latin-1); letters: the bad
    ones, Arabic U+0600-U+06FF and ASCII letters. Counted over the code points
    of the first ``_SAMPLE`` characters at once (numpy), not one by one.
    """
    sample = text[:_SAMPLE]
    if not sample or not _BAD_CHAR.search(sample):  # the common case, one C scan: no bad char, score 0
        return 0.0
    cps = np.frombuffer(sample.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    bad = int(np.count_nonzero(cps == 0xFFFD)) + int(np.count_nonzero((cps - 0xC0) < 0x40))
    ascii_letters = int(np.count_nonzero(((cps | 0x20) - 0x61) < 26))  # a-z, A-Z (unsigned wrap-around)
    letters = bad + int(np.count_nonzero((cps - 0x600) < 0x100)) + ascii_letters
    return bad / letters if letters else 0.0


def best_decoding(body: bytes, preferred: str | None = None) -> tuple[str, str] | None:
    """Decode *body* as Arabic text: ``(codec, text)`` of the best codec, or None.

    The preferred codec (from the sources file) is tried first; then the Arabic
    codecs and charset-normalizer's best guess, scored by garbling and by the
    share of Arabic letters.
    """
    candidates = [c for c in (preferred, *ARABIC_CODECS) if c]
    guess = from_bytes(body[:200_000], cp_isolation=list(ARABIC_CODECS)).best()
    if guess is not None and guess.encoding not in candidates:
        candidates.append(guess.encoding)
    best: tuple[float, str, str] | None = None
    for codec in candidates:
        try:
            text = body.decode(codec)
        except (UnicodeDecodeError, LookupError):
            continue
        score = arabic_ratio(text[:_SAMPLE]) - 2 * garble_score(text)
        if codec == preferred:
            score += 0.05  # an explicit override wins ties
        if best is None or score > best[0]:
            best = (score, codec, text)
    return (best[1], best[2]) if best else None


class EncodingFixMiddleware:
    """Downloader middleware that re-decodes garbled Arabic HTML responses.

    Settings:
        ENCODING_FIX_ENABLED: turn the middleware on (default True).
        ENCODING_FIX_THRESHOLD: garble score above which a page is re-decoded.

    A source's ``encoding:`` key (sources file) forces the codec of its pages;
    the spider passes it as ``request.meta[SOURCE_ENCODING]`` (:mod:`crawler.meta`).
    """

    def __init__(self, threshold: float = 0.05, crawler: Crawler | None = None) -> None:
        self.threshold = threshold
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingFixMiddleware:
        if not crawler.settings.getbool("ENCODING_FIX_ENABLED"):
            raise NotConfigured("ENCODING_FIX_ENABLED is off")
        return cls(crawler.settings.getfloat("ENCODING_FIX_THRESHOLD"), crawler)

    def _inc(self, key: str) -> None:
        if self.crawler is not None and self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def process_response(self, request: Request, response: Response) -> Response:
        if not isinstance(response, TextResponse) or not response.body:
            return response
        forced = request.meta.get(m.SOURCE_ENCODING)
        if forced:
            if response.encoding.lower().replace("-", "") == forced.lower().replace("-", ""):
                return response
            self._inc(st.ENCODING_FORCED)
            return response.replace(encoding=forced)
        if garble_score(response.text) <= self.threshold:
            return response
        decoded = best_decoding(response.body)
        if decoded is None or decoded[0] == response.encoding:
            self._inc(st.ENCODING_UNFIXABLE)
            logger.warning("Garbled text, no better codec found: %s", response.url)
            return response
        codec, text = decoded
        if garble_score(text) > self.threshold:
            self._inc(st.ENCODING_UNFIXABLE)
            logger.warning("Garbled text in every codec, keeping %s: %s", response.encoding, response.url)
            return response
        self._inc(st.ENCODING_FIXED)
        logger.info("Re-decoded %s as %s (was %s)", response.url, codec, response.encoding)
        cls = HtmlResponse if isinstance(response, HtmlResponse) else type(response)
        return response.replace(cls=cls, encoding=codec)
