"""Publication dates: meta tags, JSON-LD, <time>, the URL, then visible Arabic text and relative times.

Library parsers do the machine formats (``datetime.fromisoformat``, dateparser, htmldate as a last
resort); the Arabic rules they lack (Levantine and dual month names, Eastern digits, Hijri beside
Gregorian, ص/م) are regexes built from the tables in :mod:`crawler.extract.rules`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, UTC

from lxml import etree

from crawler.extract import rules
from crawler.text import to_western_digits

logger = logging.getLogger(__name__)

_AR = "\u0600-\u06ff"


def _alt(names: Iterable[str]) -> str:
    return "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))


_MONTH = rf"(?:{_alt(list(rules.MONTHS) + list(rules.ENGLISH_MONTHS))})(?![{_AR}A-Za-z])"
_MONTH_RE = re.compile(_MONTH, re.IGNORECASE)
# Possessive (*+): a separator is never a space, so giving spaces back never helps a match, and
# "\s*[sep]?\s*" with backtracking splits a run of 20,000 spaces 20,000 ways (37 s on one <time>).
_SEP = r"\s*+[/\-.,،]?\s*+"
_DAY_MONTH_YEAR = re.compile(
    rf"(?<!\d)(?P<d>\d{{1,2}}){_SEP}(?P<m>{_MONTH})(?:\s*+[/(\-–]\s*+{_MONTH}\s*+\)?)?{_SEP}(?P<y>\d{{4}})(?!\d)",
    re.IGNORECASE,
)
_MONTH_DAY_YEAR = re.compile(rf"(?P<m>{_MONTH})\s+(?P<d>\d{{1,2}}),?\s+(?P<y>\d{{4}})(?!\d)", re.IGNORECASE)
_NUMERIC_DMY = re.compile(r"(?<![\d/.\-])(?P<d>\d{1,2})[/.\-](?P<m>\d{1,2})[/.\-](?P<y>\d{4})(?![\d/])")
_NUMERIC_YMD = re.compile(r"(?<![\d/.\-])(?P<y>\d{4})[/.\-](?P<m>\d{1,2})[/.\-](?P<d>\d{1,2})(?![\d/])")
_HIJRI_AFTER = re.compile(r"^\s*(?:هـ|ه\b|هجري|هجرية)")
_AMPM = _alt(rules.PM_WORDS + rules.AM_WORDS)
_TIME = re.compile(rf"(?<!\d)(?P<h>\d{{1,2}}):(?P<mi>\d{{2}})(?::(?P<s>\d{{2}}))?\s*(?P<ap>{_AMPM})?(?![{_AR}A-Za-z])", re.I)
_DIGIT = re.compile(r"\d")
_GREG_SUFFIX = re.compile(r"^\s*م(?![" + _AR + r"])")
_RELATIVE = re.compile(
    rf"منذ\s+(?:(?P<n>\d+)\s+)?(?P<u>{_alt(rules.RELATIVE_UNITS)})(?![{_AR}])|(?<!\d)(?P<ago>\d+)\s+(?P<eu>minute|hour|day)s?\s+ago",
    re.IGNORECASE,
)
_URL_DATE = (
    re.compile(r"/(?P<y>(?:19|20)\d\d)/(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/|$|[-_])"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)[-_](?P<m>\d\d)[-_](?P<d>\d\d)(?!\d)"),
    re.compile(r"/(?:[a-z_]*)?(?P<y>20\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)\d*(?:[-/_.]|$)"),
)


def _valid(y: int, m: int, d: int, latest: int) -> date | None:
    if not 1995 <= y <= latest:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _fmt(value: date | datetime) -> str:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    return value.isoformat()


#: A machine date (an attribute, a JSON-LD value) longer than this is not a date.
MAX_MACHINE_DATE_CHARS = 200
_SPACES = re.compile(r"\s+")
_ISO_SPACE = re.compile(r"\d{4}-\d\d-\d\d \d")
_YMD_START = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_YMD_COMPACT = re.compile(r"(\d{4})(\d\d)(\d\d)(?!\d)")


def collapse_spaces(text: str) -> str:
    """Every run of whitespace as one space (a date is read from this form: rules then meet short runs)."""
    return _SPACES.sub(" ", text)


def parse_machine_date(value: str, latest: int) -> str | None:
    """ISO 8601 and friends (meta / JSON-LD / datetime attributes) -> ISO string, else ``None``."""
    value = to_western_digits(collapse_spaces(value).strip())
    if len(value) > MAX_MACHINE_DATE_CHARS:
        return None
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace(" ", "T", 1) if _ISO_SPACE.match(value) else value)
        if _valid(dt.year, dt.month, dt.day, latest):
            return _fmt(dt)
        return None
    except ValueError:
        pass
    m = _YMD_START.match(value) or _YMD_COMPACT.match(value)
    if m:
        d = _valid(int(m.group(1)), int(m.group(2)), int(m.group(3)), latest)
        return _fmt(d) if d else None
    text = text_date(value, latest)
    if text:
        return text
    try:
        import dateparser

        dt = dateparser.parse(value, languages=["ar", "en"], settings={"STRICT_PARSING": True})
    except Exception:  # noqa: BLE001 - third-party parser, best effort
        return None
    return _fmt(dt) if dt and _valid(dt.year, dt.month, dt.day, latest) else None


def _month_number(name: str) -> int:
    key = name.strip()
    return rules.MONTHS.get(key) or rules.ENGLISH_MONTHS.get(key.lower(), 0)


def text_date(text: str, latest: int) -> str | None:
    """First Gregorian date written in *text* (words or digits), with its time when one is beside it."""
    if not _DIGIT.search(text):  # every date rule needs digits (of any script: \d), most lines have none
        return None
    text = to_western_digits(collapse_spaces(text))
    found: list[tuple[int, int, date]] = []
    for pat, named in ((_DAY_MONTH_YEAR, True), (_MONTH_DAY_YEAR, True), (_NUMERIC_YMD, False), (_NUMERIC_DMY, False)):
        for m in pat.finditer(text):
            if _HIJRI_AFTER.match(text[m.end():]):
                continue
            month = _month_number(m.group("m")) if named else int(m.group("m"))
            d = _valid(int(m.group("y")), month, int(m.group("d")), latest)
            if d:
                found.append((m.start(), m.end(), d))
    if not found:
        return None
    start, end, day = min(found)
    after = text[end:end + 30]
    g = _GREG_SUFFIX.match(after)
    if g:
        after = after[g.end():]
    tm = _TIME.search(after) or _TIME.search(text[max(0, start - 30):start])
    if not tm:
        return _fmt(day)
    hour, minute = int(tm.group("h")), int(tm.group("mi"))
    ap = (tm.group("ap") or "").lower()
    if ap in rules.PM_WORDS and hour < 12:
        hour += 12
    elif ap in rules.AM_WORDS and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return _fmt(day)
    return _fmt(datetime(day.year, day.month, day.day, hour, minute))


def relative_date(text: str, fetched_at: datetime | None) -> str | None:
    """"منذ ساعتين" / "منذ 3 أيام" / "2 hours ago" resolved against the fetch time."""
    if fetched_at is None or "منذ" not in text and not _DIGIT.search(text):  # what each branch needs
        return None
    m = _RELATIVE.search(to_western_digits(collapse_spaces(text)))
    if not m:
        return None
    if m.group("ago"):
        seconds = int(m.group("ago")) * {"minute": 60, "hour": 3600, "day": 86400}[m.group("eu").lower()]
    else:
        unit = m.group("u")
        count = int(m.group("n")) if m.group("n") else (2 if unit in rules.DUAL_UNITS else 1)
        seconds = count * rules.RELATIVE_UNITS[unit]
    return _fmt(fetched_at - timedelta(seconds=seconds))


def url_date(url: str | None, latest: int) -> str | None:
    if not url:
        return None
    for pat in _URL_DATE:
        m = pat.search(url)
        if m:
            d = _valid(int(m.group("y")), int(m.group("m")), int(m.group("d")), latest)
            if d:
                return _fmt(d)
    return None


def time_elements(root: etree._Element, latest: int) -> str | None:
    """A <time> element's datetime (one marked pubdate/published first), else its text."""
    times = list(root.iter("time"))
    times.sort(key=lambda t: not (t.get("pubdate") is not None or "publish" in (t.get("class") or "").lower()
                                  or (t.get("itemprop") or "").lower() == "datepublished"))
    for t in times:
        if "modif" in (t.get("class") or "").lower() or "update" in (t.get("class") or "").lower():
            continue
        value = parse_machine_date(t.get("datetime") or "", latest) if t.get("datetime") else None
        value = value or text_date(t.text_content()[:5000], latest)
        if value:
            return value
    return None


def find_date(
    meta_get, ld_article: dict, root: etree._Element, url: str | None, header_text: str, page_text: str,
    fetched_at: datetime | None,
) -> tuple[str | None, str | None]:
    """Return ``(iso_date, source)`` trying each source in order of reliability."""
    latest = (fetched_at or datetime.now(UTC)).year + 1
    raw = ld_article.get("datePublished") or ld_article.get("dateCreated")
    ld_value = parse_machine_date(raw, latest) if isinstance(raw, str) else None
    for key in rules.META_DATE_KEYS:
        raw = meta_get(key)
        value = parse_machine_date(raw, latest) if raw else None
        if value:
            # A UTC stamp and a local one for the same instant: the local one carries the publisher's date.
            if ld_value and _is_utc(value) and not _is_utc(ld_value) and _same_instant(value, ld_value):
                return ld_value, "json-ld"
            return value, f"meta:{key}"
    if ld_value:
        return ld_value, "json-ld"
    if value := time_elements(root, latest):
        return value, "time"
    if value := url_date(url, latest):
        return value, "url"
    if header_text and (value := text_date(header_text, latest)):
        return value, "text"
    if value := relative_date(header_text or page_text[:3000], fetched_at):
        return value, "relative"
    if page_text and (value := text_date(page_text, latest)):
        return value, "text"
    for key in rules.META_MODIFIED_KEYS:
        raw = meta_get(key)
        if raw and (value := parse_machine_date(raw, latest)):
            return value, f"meta:{key}"
    return None, None


def _is_utc(value: str) -> bool:
    return value.endswith(("+00:00", "Z"))


def _same_instant(a: str, b: str) -> bool:
    try:
        da, db = datetime.fromisoformat(a), datetime.fromisoformat(b)
        return da.tzinfo is not None and db.tzinfo is not None and abs((da - db).total_seconds()) <= 120
    except ValueError:
        return False


def htmldate_fallback(root: etree._Element, url: str | None) -> str | None:
    """Last resort: htmldate's own heuristics (original date, fast mode)."""
    try:
        from htmldate import find_date as _hd

        return _hd(root, url=url, original_date=True, extensive_search=False)
    except Exception:  # noqa: BLE001 - third-party heuristics, best effort
        logger.debug("htmldate failed", exc_info=True)
        return None
