"""One cleaning path: a crawled page's body and an imported record's text go through the same line rules.

``clean_lines`` is what the extractor runs on a page's body lines and what the
cleaner runs on a record's text lines; per-source ``boilerplate_patterns``
reach both, and ``import --sources`` hands them to the import's workers.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.commands.cli import main
from crawler.extract import extract_article
from crawler.extract.cleaner import ArticleCleaner
from crawler.extract.lines import Line
from crawler.extract.paragraphs import CleanedLines, clean_lines
from crawler.items import ArticleItem
from crawler.stats import CounterStats
from crawler.storage.export import export_corpus
from crawler.storage.importer import import_jsonl
from crawler.text import clean_text
from tests.support import corpora
from tests.support.settings import project_settings
from tests.test_clean_pipeline import PARAS

EXTRACTION = Path(__file__).resolve().parent / "extraction"
PROMO = "حمّل تطبيق المزرعة الآن مجانا"
PATTERN = "^حمّل تطبيق المزرعة"
TITLE = "بدء موسم حصاد القمح في المحافظات الشمالية"


def cleaner(patterns: dict[str, tuple[str, ...]] | None = None) -> ArticleCleaner:
    return ArticleCleaner.build(project_settings({"CLEAN_LEARN_TEMPLATE": False}), CounterStats(), None, patterns or {})


def page_of(lines: list[str], title: str = TITLE) -> bytes:
    body = "".join(f"<p>{line}</p>" for line in lines)
    return (f"<html lang='ar'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
            f"<div class='content'>{body}</div></article></body></html>").encode()


def crawled(lines: list[str], site: str = "farm", patterns: dict[str, tuple[str, ...]] | None = None) -> ArticleItem:
    item = ArticleItem(url=f"https://{site}.example/n/1", site=site, fetched_at=datetime(2025, 10, 15, tzinfo=UTC),
                       raw_html=page_of(lines))
    return cleaner(patterns).process(item)


def imported(lines: list[str], site: str = "farm", patterns: dict[str, tuple[str, ...]] | None = None,
             title: str = TITLE) -> ArticleItem:
    item = ArticleItem(url=f"https://{site}.example/r/1", site=site, fetched_at=datetime(2025, 10, 15, tzinfo=UTC),
                       title=title, text="\n".join(lines))
    return cleaner(patterns).process(item)


# -- per-source patterns ---------------------------------------------------------------


def test_a_source_pattern_strips_the_line_from_its_pages_and_its_records() -> None:
    lines = [*PARAS[:2], PROMO, *PARAS[2:]]
    patterns = {"farm": (PATTERN,)}
    page, record = crawled(lines, patterns=patterns), imported(lines, patterns=patterns)
    assert page.text.split("\n") == record.text.split("\n") == PARAS
    assert page.boilerplate_removed >= 1 and record.boilerplate_removed == 1


def test_records_of_other_sources_keep_the_line() -> None:
    lines = [*PARAS[:2], PROMO, *PARAS[2:]]
    patterns = {"farm": (PATTERN,)}
    assert PROMO in crawled(lines, site="town", patterns=patterns).text
    assert PROMO in imported(lines, site="town", patterns=patterns).text


# -- the drift: lines the extractor strips and the old record cleaner kept ---------------

DRIFT = [
    # (extra lines put after the first paragraph, field expected to receive them, its value)
    pytest.param(["المصدر", "وكالات"], "attribution", "وكالات", id="source-label-on-its-own-line"),
    pytest.param(["نشر في: 12 مايو 2024 | آخر تحديث: 10:30"], None, None, id="dateline"),
    pytest.param(["10:30 ص"], None, None, id="clock-only"),
    pytest.param(["بقلم: منى الشريف"], "authors", ["منى الشريف"], id="by-line"),
    pytest.param([TITLE], None, None, id="headline-repeated"),
    pytest.param(["(رويترز)"], "attribution", "رويترز", id="agency-credit"),
    pytest.param(["عن الكاتب"], None, None, id="about-the-author-label"),
    pytest.param(["12 مايو 2024"], None, None, id="date-line"),
]


@pytest.mark.parametrize(("extra", "field", "value"), DRIFT)
def test_drift_cases_are_cleaned_as_on_a_page(extra: list[str], field: str | None, value: object) -> None:
    lines = [PARAS[0], *extra, *PARAS[1:]]
    page, record = crawled(lines), imported(lines)
    assert page.text.split("\n") == PARAS  # what the extractor has always done
    assert record.text.split("\n") == PARAS  # and now the record too
    if field:
        assert getattr(record, field) == value == getattr(page, field)


def test_short_lead_lines_go_as_on_a_page() -> None:
    lines = ["اقتصاد", "الرياض - واس", *PARAS]
    assert crawled(lines).text.split("\n") == imported(lines).text.split("\n") == PARAS
    assert imported(lines).attribution == "واس"


def test_a_records_own_fields_win_over_what_its_lines_say() -> None:
    item = ArticleItem(url="https://farm.example/r/2", site="farm", fetched_at=datetime(2025, 10, 15, tzinfo=UTC),
                       title=TITLE, text="\n".join([*PARAS, "المصدر: وكالة الأنباء", "كلمات دلالية: زراعة، قمح"]),
                       attribution="واس", tags=["حصاد"], authors=["منى الشريف"])
    out = cleaner().process(item)
    assert out.text.split("\n") == PARAS
    assert (out.attribution, out.tags, out.authors) == ("واس", ["حصاد"], ["منى الشريف"])


@pytest.mark.parametrize("lines", [["ارتفاع أسعار النفط"], ["عاجل", "12 مايو 2024"], [TITLE]],
                         ids=["one-short-line", "short-lines", "the-headline"])
def test_a_brief_made_only_of_short_lines_is_kept(lines: list[str]) -> None:
    """import keeps every record with a non-empty text: rules that judge a line by its shape alone
    (short lead lines, dates, the headline again) leave a record that is nothing else as it is."""
    stats = CounterStats()
    item = ArticleItem(url="https://farm.example/r/3", site="farm", fetched_at=datetime(2025, 10, 15, tzinfo=UTC),
                       title=TITLE, text="\n".join([*lines, "Your browser does not support audio tag."]))
    out = ArticleCleaner.build(project_settings(), stats, None).process(item)
    assert out.text.split("\n") == lines and out.boilerplate_removed == 1
    assert stats.get_value("clean/boilerplate_removed") == 1


def test_an_extracted_page_imported_again_is_unchanged() -> None:
    """Every regression page's extracted text, as a record, comes through the record cleaner as it is."""
    pages = sorted(EXTRACTION.glob("*.html"))
    assert pages
    checked = 0
    for path in pages:
        ext = extract_article(path.read_bytes(), "https://example.com/a/1")
        if not ext.is_article:
            continue
        res = clean_lines(ext.paragraphs, title=ext.title)
        assert res.paragraphs == ext.paragraphs, path.name
        checked += 1
    assert checked >= 40


def test_clean_lines_takes_plain_strings_and_page_lines_alike() -> None:
    lines = [PARAS[0], "Your browser does not support audio tag.", "المصدر: وكالة الأنباء", PARAS[1]]
    assert clean_lines(lines).paragraphs == clean_lines([Line.plain(t) for t in lines]).paragraphs == PARAS[:2]
    res = clean_lines(lines)
    assert res.attribution == "وكالة الأنباء" and res.removed == 2


def test_a_link_box_in_plain_text_runs_to_the_end() -> None:
    """A page's box ends at its first line without links; a record's lines carry none, so the box runs on."""
    res = clean_lines([*PARAS[:2], "اقرأ أيضا:", "عنوان خبر آخر", PARAS[2]])
    assert res.paragraphs == PARAS[:2] and res.removed == 3


# -- import ------------------------------------------------------------------------------


def _records(path: Path) -> Path:
    text = "\n".join([*PARAS[:2], PROMO, *PARAS[2:]])
    recs = [
        {"url": "https://farm.example/1", "title": "موسم الحصاد", "text": text, "site": "farm"},
        {"url": "https://town.example/1", "title": "سوق المدينة", "text": text.replace("القمح", "الشعير"),
         "site": "town"},
        {"url": "https://nosite.example/1", "title": "خبر بلا موقع", "text": text.replace("القمح", "الذرة")},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def _texts(db, tmp_path: Path) -> dict[str, str]:  # noqa: ANN001
    export_corpus(db, tmp_path / "out.jsonl", "jsonl", all_copies=True)
    return {r["url"]: r["text"] for r in map(json.loads, (tmp_path / "out.jsonl").read_text("utf-8").splitlines())}


@pytest.mark.parametrize("workers", [0, 1], ids=["in-process", "worker-process"])
def test_import_applies_each_sources_patterns_to_its_records(sqlite_db, tmp_path: Path, workers: int) -> None:
    counts = import_jsonl(_records(tmp_path / "in.jsonl"), sqlite_db, site="farm", settings=project_settings(),
                          workers=workers, patterns_by_site={"farm": (PATTERN,)})
    assert counts["stored"] == 3
    texts = _texts(sqlite_db, tmp_path)
    assert PROMO not in texts["https://farm.example/1"]
    assert PROMO not in texts["https://nosite.example/1"]  # --site farm: farm's patterns
    assert PROMO in texts["https://town.example/1"]  # another source keeps it


def _sources(path: Path) -> Path:
    path.write_text("sources:\n  - name: farm\n    start_urls: [https://farm.example/]\n"
                    f"    boilerplate_patterns: ['{PATTERN}']\n", encoding="utf-8")
    return path


def _imported_texts(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    result = CliRunner().invoke(main, ["import", str(_records(tmp_path / "in.jsonl")), "--db", url,
                                       "-s", "IMPORT_WORKERS=0", *args])
    if result.exit_code:
        return result.exit_code, result.output, {}
    from crawler.storage.database import Database

    db = Database.open(url)
    try:
        return 0, result.output, _texts(db, tmp_path)
    finally:
        db.close()


def test_import_command_takes_the_sources_file(tmp_path: Path) -> None:
    code, output, texts = _imported_texts(tmp_path, "--sources", str(_sources(tmp_path / "s.yaml")))
    assert code == 0, output
    assert PROMO not in texts["https://farm.example/1"] and PROMO in texts["https://town.example/1"]
    assert PROMO in texts["https://nosite.example/1"]  # no --site: its site is its host name


def test_import_command_site_names_the_source(tmp_path: Path) -> None:
    code, output, texts = _imported_texts(tmp_path, "--sources", str(_sources(tmp_path / "s.yaml")), "--site", "farm")
    assert code == 0, output
    assert PROMO not in texts["https://nosite.example/1"] and PROMO in texts["https://town.example/1"]


def test_import_command_reads_the_default_sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _sources(tmp_path / "sources.yaml")
    monkeypatch.chdir(tmp_path)
    code, output, texts = _imported_texts(tmp_path)
    assert code == 0, output
    assert PROMO not in texts["https://farm.example/1"]


def test_import_command_without_the_default_sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, output, texts = _imported_texts(tmp_path)
    assert code == 0, output
    assert "stored: 3" in output and PROMO in texts["https://farm.example/1"]


@pytest.mark.parametrize("content", [None, "sources: [", "sources:\n  - name: Bad Name\n    feeds: [https://a/]\n",
                                     "sources:\n  - name: a\n    feeds: [https://a/]\n    boilerplate_patterns: ['(']\n"])
def test_import_command_rejects_a_bad_sources_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  content: str | None) -> None:
    path = tmp_path / "s.yaml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, output, _ = _imported_texts(tmp_path, "--sources", str(path))
    assert code == 2
    assert output.startswith("error: ") and output.count("\n") == 1 and str(path) in output
    if content is not None:  # a bad default file is as bad as a named one
        monkeypatch.chdir(tmp_path)
        path.rename(tmp_path / "sources.yaml")
        assert _imported_texts(tmp_path)[0] == 2


# -- shortcuts: each record of the shared corpora cleaned with and without them ---------------
def the_long_way(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every exact shortcut of the line rules switched off: each rule tried on each line as written."""
    from crawler.extract import boilerplate, dates, paragraphs, rules
    from crawler.text import _clean_text

    def label_kind(text: str) -> str | None:
        if len(text) > 200:
            return None
        for kind, pat in rules.SECTION_LABELS.items():
            if pat.search(text) and (len(text) <= boilerplate.MAX_LABEL_CHARS or kind in ("read_also", "tags")):
                return kind
        return None

    def agency_of(text: str) -> str | None:
        m = rules.AGENCY_CREDIT.search(text[:120]) or rules.AGENCY_CREDIT.search(text[-40:])
        return next(g for g in (m.group("src"), m.group("src2"), m.group("src3")) if g) if m else None

    def is_boilerplate_line(text: str, extra: list[re.Pattern[str]]) -> bool:
        return any(p.search(text) for p in rules.BOILERPLATE_LINES) or any(p.search(text) for p in extra)

    monkeypatch.setattr(paragraphs, "clean_text", _clean_text)
    monkeypatch.setattr(paragraphs, "label_kind", label_kind)
    monkeypatch.setattr(paragraphs, "agency_of", agency_of)
    monkeypatch.setattr(paragraphs, "is_boilerplate_line", is_boilerplate_line)
    monkeypatch.setattr(dates, "_DIGIT", re.compile(""))  # always found: every date rule tried
    monkeypatch.setattr(paragraphs, "lam_mim_nun", lambda text, cap=None: 0)  # every line normalised


@pytest.mark.skipif(not corpora.CORPORA, reason="the shared corpora are absent")
def test_the_shortcuts_change_nothing_on_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    records = [(rec.get("title") or "", corpora.text_of(rec)) for rec in corpora.records()]
    records += [(title, text) for title, text in [  # headlines repeated, dates, agencies, labels
        ("عنوان الخبر هنا", "عنوانُ الخبر هنا\nنص الخبر (رويترز) - قال\n15 مارس 2024\nمنذ ساعتين\nاقرأ أيضا\nرابط"),
        ("", "القاهرة (أ ش أ) - نص\nكلمات دلالية: أ، ب\nالتعليقات\nبعد"),
        ("", "نص أول طويل بما يكفي ليكون فقرة من فقرات الخبر.\nصدر القرار يوم الأربعاء 15 مارس 2024 في مدينة القاهرة\n"
             "منذ ساعتين وصل الوفد الرسمي إلى العاصمة القاهرة لحضور القمة\nنشر في: 10:30 ص\n١٢ أبريل ٢٠٢٣"),
    ]]

    def cleaned() -> list[CleanedLines]:
        return [clean_lines(re.split(r"\r\n|\r|\n", text), title=clean_text(title)) for title, text in records]

    fast = cleaned()
    with monkeypatch.context() as m:
        the_long_way(m)
        slow = cleaned()
    assert fast == slow


def test_agency_credit_marks_are_in_every_credit() -> None:
    """A text without one of AGENCY_CREDIT_MARKS is not searched: the same agencies as searching all."""
    import random

    from crawler.extract import rules
    from crawler.extract.metadata import agency_of

    rnd = random.Random(9)
    pieces = ["(", ")", "-", "–", "—", "‐", ":", " ", "  ", "رويترز", "AFP", "ap", "أ ش أ", "القاهرة", "قال", "\n"]
    for _ in range(20_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 10)))
        m = rules.AGENCY_CREDIT.search(text[:120]) or rules.AGENCY_CREDIT.search(text[-40:])
        expected = next(g for g in (m.group("src"), m.group("src2"), m.group("src3")) if g) if m else None
        assert agency_of(text) == expected, repr(text)


def test_a_printable_nfkc_headline_has_as_many_lam_mim_nun_as_its_matching_form() -> None:
    """Why clean_lines counts them on the headline itself: every printable NFKC character (and every
    corpus headline) keeps its count of the three letters in the matching form."""
    from crawler.text import is_plain_nfkc, lam_mim_nun, normalize_for_matching

    texts = [chr(cp) for cp in range(0x10000)] + [rec.get("title") or "" for rec in corpora.records()]
    for text in texts:
        if is_plain_nfkc(text):
            assert lam_mim_nun(normalize_for_matching(text)) == lam_mim_nun(text), repr(text)
