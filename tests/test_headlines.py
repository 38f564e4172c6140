"""Headline keys, verification and clustering (the seed page's repeated headline)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.stats import CounterStats
from crawler.storage.export import headlines
from crawler.dedup.headlines import HeadlineConfig, headline_key, match_score
from crawler.items import ArticleItem
from crawler.storage.writer import AlreadyStored
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.support.settings import project_settings

SEED = Path(__file__).resolve().parents[2] / "shared" / "seed" / "article.expected.json"
CFG = HeadlineConfig()
H = "الرئيس السوري في موسكو.. محادثات مع «بوتين» لتعزيز التعاون السياسي والاقتصادي"


@pytest.mark.parametrize(
    ("variant", "same"),
    [
        ("عاجل | " + H, True),
        ("فيديو: " + H, True),
        (H + " (فيديو)", True),
        ("[صور] " + H, True),
        (H.replace("..", ":").replace("«", '"').replace("»", '"'), True),
        (H + " اليوم", True),
        (H.replace("السوري", "السورى"), True),
        ("الرئيس السوري في موسكو.. محادثات مع «بوتين» لتعزيز التعاون العسكري والاقتصادي", False),
        ("الكرملين يوضح تفاصيل لقاء بوتين والشرع في موسكو", False),
    ],
)
def test_match(variant: str, same: bool) -> None:
    assert (match_score(headline_key(H), headline_key(variant), CFG) is not None) is same


def test_numbers_and_tags() -> None:
    assert headline_key("عاجل | مقتل 5 في حادث") == headline_key("مقتل ٥ في حادث")
    assert match_score(headline_key("مقتل 5 أشخاص في حادث سير"), headline_key("مقتل 7 أشخاص في حادث سير"), CFG) is None
    assert headline_key("فيديو") == "فيديو"  # a tag alone stays a headline
    with pytest.raises(ValueError):
        HeadlineConfig(threshold=0)


def test_prepared_headlines_have_each_headline_s_own_key() -> None:
    """prepare_headlines (a batch's keys put in matching form at once) gives headline_key and the ids of each."""
    import random

    from crawler.dedup.headlines import prepare_headlines, variant_id
    from crawler.text import clean_text

    rnd = random.Random(4)
    bits = ["عاجل", "فيديو", "بالصور", "[صور]", "(فيديو)", "«عاجل»", "|", ":", " - ", "–", "/", "»", "...", "…", "خبر",
            "الرئيس", "موسكو", "12", "١٢", "\u200f", "ـ", "Σ", "ς", "İ", " ", "\n", "video", "(", ")", "[", "𝟏", ""]

    def headline() -> str:
        return "".join(rnd.choice(bits) + rnd.choice(["", " "]) for _ in range(rnd.randint(0, 9)))

    pages = [{"url": f"https://p.example/{i}", "title": headline(),
              "related_headlines": [headline() if rnd.random() < 0.5 else {"headline": headline(), "url": None}
                                    for _ in range(rnd.randint(0, 3))]} for i in range(600)]
    for page, prepared in zip(pages, prepare_headlines(None, pages), strict=True):
        raws = [page["title"]] if page["title"] else []
        raws += [r if isinstance(r, str) else r["headline"] for r in page["related_headlines"]]
        want = [(t, headline_key(t)) for t in (clean_text(r).replace("\n", " ") for r in raws)]
        want = [(t, key, variant_id(t), variant_id(key)) for t, key in want if key]
        assert [h[:4] for h in prepared] == want


def _run(database, items):
    stats = CounterStats()
    dedup, store = DedupPipeline.build(project_settings(), stats, database), StorePipeline.build(project_settings(), stats, database)
    dedup.open_spider()
    for it in items:
        with contextlib.suppress(AlreadyStored):  # as the crawl does: an expected drop
            store.process_item(dedup.process_item(it))
    store.close_spider()
    return stats


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed/article.expected.json is absent")
def test_seed_repeated_headline_has_its_count(db) -> None:
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    related = [{"headline": seed["read_also"]["title"], "url": "https://site.example/read-also"}]
    related += [{"headline": h, "url": f"https://site.example/r{i}"} for i, h in enumerate(seed["related_headlines"])]
    page = ArticleItem(url="https://site.example/seed", site="site", fetched_at=datetime(2025, 10, 15, tzinfo=UTC),
                       title=seed["title"], text="\n".join(seed["paragraphs"]) * 3, related_headlines=related)
    other = ArticleItem(url="https://other.example/x", site="other", fetched_at=datetime(2025, 10, 15, tzinfo=UTC),
                        title="عاجل | " + seed["read_also"]["title"], text="نص مختلف تماما عن الخبر " * 30)
    stats = _run(db, [page, other])
    recs = {r["headline"]: r for r in headlines(db)}
    assert len(recs) == 1 + len(set(seed["related_headlines"]))  # title + distinct related headlines
    rep = recs[seed["read_also"]["title"]]
    assert rep["count"] == 3 and rep["variants"] == ["عاجل | " + seed["read_also"]["title"]]
    assert "https://other.example/x" in rep["urls"] and "https://site.example/read-also" in rep["urls"]
    assert all(r["count"] == 1 for h, r in recs.items() if h != seed["read_also"]["title"])
    assert stats.get_value("dedup/headlines_seen") == 13
    # Processing the same pages again adds nothing (occurrences are keyed by page and position).
    _run(db, [page, other])
    assert {r["headline"]: r["count"] for r in headlines(db)} == {h: r["count"] for h, r in recs.items()}
