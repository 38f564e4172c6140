"""The clean pipeline: drops non-articles by reason, applies per-source rules, learns and stores templates."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scrapy.exceptions import DropItem
from sqlalchemy import select

from crawler.stats import CounterStats
from crawler.items import ArticleItem
from crawler.storage.database import Database
from crawler.storage.models import SiteTemplateRow
from pipelines.clean import CleanPipeline
from tests.support.settings import project_settings

PARAS = [
    "أعلنت وزارة الزراعة يوم الخميس بدء موسم حصاد القمح في المحافظات الشمالية وسط توقعات بإنتاج وفير هذا العام.",
    "وقال المتحدث باسم الوزارة إن الأمطار الغزيرة التي هطلت خلال الشتاء ساعدت على تحسين المحاصيل في معظم المناطق.",
    "وأضاف أن الوزارة وفرت الحصادات والشاحنات اللازمة لنقل المحصول إلى الصوامع الحكومية في الوقت المحدد.",
    "ويأمل المزارعون أن تساعد الأسعار الجديدة التي أقرتها الحكومة على تعويض ارتفاع تكاليف الإنتاج والأسمدة.",
]


def page(i: int, promo: str) -> bytes:
    body = "".join(f"<p>{p} ({i})</p>" for p in PARAS)
    return (f"<html lang='ar'><head><title>موسم الحصاد رقم {i}</title></head><body><article>"
            f"<h1>موسم الحصاد رقم {i}</h1><div class='content'>{body}<p>{promo}</p></div></article>"
            "</body></html>").encode()


def item(url: str, html: bytes = b"", **kw: object) -> ArticleItem:
    return ArticleItem(url=url, site="farm", fetched_at=datetime(2025, 10, 15, tzinfo=UTC), raw_html=html, **kw)


def build(db: Database | None, patterns: tuple[str, ...] = ()) -> tuple[CleanPipeline, CounterStats]:
    stats = CounterStats()
    pipeline = CleanPipeline.build(project_settings({"CLEAN_LEARN_TEMPLATE": True}), stats, db, {"farm": patterns})
    pipeline.open_spider()
    return pipeline, stats


def test_per_source_pattern_strips_a_line(sqlite_db: Database) -> None:
    pipeline, _ = build(sqlite_db, ("^حمّل تطبيق المزرعة",))
    out = pipeline.process_item(item("https://farm.example/n/1", page(1, "حمّل تطبيق المزرعة الآن مجانا")))
    assert "حمّل تطبيق" not in out.text
    assert PARAS[0][:30] in out.text


def test_learned_template_is_stored_and_reloaded(sqlite_db: Database) -> None:
    promo = "تابعوا بوابة المزرعة على قناتها الجديدة لمتابعة أسعار المحاصيل والأسمدة لحظة بلحظة"
    pipeline, _ = build(sqlite_db)
    for i in range(8):
        pipeline.process_item(item(f"https://farm.example/n/{i}", page(i, promo)))
    pipeline.close_spider()
    with sqlite_db.session() as s:
        assert s.scalar(select(SiteTemplateRow.site)) == "farm"
    again, _ = build(sqlite_db)
    out = again.process_item(item("https://farm.example/n/99", page(99, promo)))
    assert "تابعوا بوابة المزرعة" not in out.text


def test_non_articles_dropped_by_reason() -> None:
    pipeline, stats = build(None)
    with pytest.raises(DropItem):
        pipeline.process_item(item("https://farm.example/x", b"<html><body><p>short</p></body></html>"))
    english = ("<html><body><article><h1>Harvest</h1>" + "<p>The harvest season started in the north today with"
               " high hopes for a large crop after a wet winter across the region.</p>" * 5 + "</article></body></html>")
    with pytest.raises(DropItem):
        pipeline.process_item(item("https://farm.example/en", english.encode()))
    dropped = stats.prefixed("clean/dropped/")
    assert sum(dropped.values()) == 2 and stats.get_value("source/farm/dropped") == 2


def test_imported_record_is_cleaned_like_a_page() -> None:
    pipeline, _ = build(None)
    text = "\n".join([*PARAS, "Your browser does not support audio tag.", "المصدر: وكالة الأنباء",
                      "كلمات دلالية: زراعة، قمح، حصاد", "اقرأ أيضا:", "عنوان خبر آخر", "نص خبر آخر طويل"])
    out = pipeline.process_item(item("https://farm.example/n/5?utm_source=x", title=" موسم الحصاد ", text=text))
    assert out.text.split("\n") == PARAS
    assert out.attribution == "وكالة الأنباء"
    assert out.tags == ["زراعة", "قمح", "حصاد"]
    assert out.url == "https://farm.example/n/5"
    assert out.title == "موسم الحصاد"
