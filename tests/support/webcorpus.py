"""A small stored corpus for the `serve` tests: written by `import` (cleaning, dedup, the article writer).

Two sites carry one story (a near-duplicate pair: one cluster of two copies),
a third an unrelated story whose title is hostile markup, and a fourth page
whose related list points at the story. One finished crawl run is recorded.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from crawler.storage.database import Database
from crawler.storage.importer import import_jsonl
from crawler.storage.models import CrawlRun
from tests.support.settings import project_settings
from tests.test_dedup import OTHER as OTHER_PARA
from tests.test_dedup import PARA

STORY, OTHER = PARA, OTHER_PARA  # the dedup tests' two stories
THIRD = [
    "افتتحت مكتبة عامة جديدة في وسط العاصمة تضم أكثر من مئة ألف كتاب ومخطوطة نادرة للباحثين والطلاب",
    "وقالت إدارة المكتبة إن القاعات ستفتح أبوابها يوميا من الصباح حتى المساء طوال أيام الأسبوع",
    "وتضم المكتبة قسما للأطفال وقاعة للمحاضرات ومعملا لترميم الكتب القديمة والوثائق التاريخية",
]
#: a stored title carrying markup: it must be shown as text and run nothing
HOSTILE_TITLE = '<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> تراجع أسواق الأسهم'

A_URL = "https://alpha.example/news/hospital"
B_URL = "https://beta.example/2025/hospital-jeddah"
X_URL = "https://gamma.example/markets"
L_URL = "https://delta.example/library"


def records() -> list[dict]:
    copy = list(STORY)
    copy[4] = "وتعمل الوزارة على توظيف الكوادر الوطنية المؤهلة في المستشفى الجديد بالتعاون مع الجامعات المحلية"
    return [
        {"url": A_URL, "site": "alpha", "title": "افتتاح مستشفى جديد في جدة", "text": "\n".join(STORY),
         "published_at": "2025-03-01T09:00:00+03:00"},
        {"url": B_URL, "site": "beta", "title": "افتتاح مستشفى جديد بمدينة جدة", "text": "\n".join(copy),
         "published_at": "2025-03-02T10:00:00+03:00"},
        {"url": X_URL, "site": "gamma", "title": HOSTILE_TITLE, "text": "\n".join(OTHER),
         "published_at": "2025-03-03"},
        {"url": L_URL, "site": "delta", "title": "افتتاح مكتبة عامة في العاصمة", "text": "\n".join(THIRD),
         "published_at": "2025-03-04",
         "related_headlines": [{"headline": "افتتاح مستشفى جديد في جدة", "url": A_URL}]},
    ]


def build(db: Database, tmp: Path) -> dict:
    """Import the corpus into *db* and record one run; returns the import counts."""
    src = tmp / "web-corpus.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records()), encoding="utf-8")
    counts = import_jsonl(src, db, site=None, settings=project_settings(), workers=0)
    now = datetime(2025, 3, 5, 8, 0, tzinfo=UTC)
    with db.begin() as s:
        s.add(CrawlRun(started_at=now, finished_at=now, status="finished", finish_reason="finished", pid=1,
                       host="test", pages_fetched=9, articles_stored=4, duplicates_merged=1,
                       per_source={n: {"pages_fetched": 2, "articles_stored": 1} for n in ("alpha", "beta", "gamma", "delta")},
                       errors=[], stats={}))
    return counts
