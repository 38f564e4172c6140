"""Clusters cannot chain: a copy joins a cluster only when it is close to every member.

A, B and C are three texts from one template, each a near-copy of the one before
(B ~ A, C ~ B) while A and C are different stories (Jaccard under 0.3). Single-link
clustering joined C to A's cluster through B; the complete-link rule keeps it apart,
whether B is still pending in this run or already stored, and `why` shows the rule.
"""

from __future__ import annotations

from itertools import product

import pytest

from crawler.dedup.minhash import DedupConfig, MinHasher, jaccard
from crawler.dedup.why import explain
from crawler.stats import CounterStats
from crawler.text import normalize_for_matching
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.support.settings import project_settings
from tests.test_dedup import item

# 400 distinct two-letter words of letters that matching never folds together.
LETTERS = "بتثجحخدذرزسشصضطظعغفق"
WORDS = ["".join(p) + "ن" for p in product(LETTERS, LETTERS)]


def text(start: int, stop: int) -> list[str]:
    words = WORDS[start:stop]
    return [" ".join(words[i:i + 20]) for i in range(0, len(words), 20)]


A, B, C = text(0, 200), text(50, 250), text(110, 310)
UA, UB, UC = "https://a.example/1", "https://b.example/1", "https://c.example/1"


def similarity(x: list[str], y: list[str]) -> float:
    hasher = MinHasher(DedupConfig())
    return jaccard(*(hasher.shingles(normalize_for_matching("\n".join(t)), normalized=True) for t in (x, y)))


def run(database, batches: list[list], **settings) -> dict[str, str]:
    stats = CounterStats()
    s = project_settings(settings)
    dedup, store = DedupPipeline.build(s, stats, database), StorePipeline.build(s, stats, database)
    dedup.open_spider()
    store.open_spider()
    out = {}
    for batch in batches:
        for it in dedup.process_batch(batch):
            out[it.url] = it.cluster_id
            store.process_item(it)
        store.flush()
    store.close_spider()
    dedup.close_spider()
    return out


def test_the_texts_form_a_chain() -> None:
    assert similarity(A, B) >= 0.4 and similarity(B, C) >= 0.4
    assert similarity(A, C) < 0.3


@pytest.mark.parametrize("stored_between", [False, True], ids=["pending", "stored"])
def test_a_chain_does_not_grow_one_cluster(db, stored_between: bool) -> None:
    items = [item(UA, A), item(UB, B), item(UC, C)]
    batches = [[it] for it in items] if stored_between else [items]
    clusters = run(db, batches)
    assert clusters[UA] == clusters[UB]
    assert clusters[UC] != clusters[UA]


def test_single_link_would_have_chained(sqlite_db) -> None:
    clusters = run(sqlite_db, [[item(UA, A), item(UB, B), item(UC, C)]], DEDUP_MEMBER_THRESHOLD=0.0)
    assert clusters[UA] == clusters[UB] == clusters[UC]


def test_why_shows_the_cluster_rule(sqlite_db) -> None:
    run(sqlite_db, [[item(UA, A), item(UB, B), item(UC, C)]])
    text = explain(sqlite_db, UA, UB)
    assert "the same cluster" in text and "every member 0.3" in text and "complete link" in text
    assert "different clusters" in explain(sqlite_db, UA, UC)


def test_member_threshold_is_validated(sqlite_db) -> None:
    with pytest.raises(ValueError):
        DedupPipeline.build(project_settings({"DEDUP_MEMBER_THRESHOLD": 0.9}), CounterStats(), sqlite_db)


# -- one template, two stories -------------------------------------------------------
CABLE = (
    "بعث خادم الحرمين الشريفين برقية تهنئة لفخامة رئيس جمهورية {c} بمناسبة ذكرى استقلال بلاده\n"
    "أعرب فيها عن أصدق التهاني وأطيب التمنيات بالصحة والسعادة لفخامته ولحكومة وشعب {c} الصديق المزيد من التقدم\n"
    "كما بعث ولي العهد برقية تهنئة مماثلة لرئيس {c} عبر فيها عن تمنياته لشعب {c} بدوام الرخاء"
)


def cable(country: str, prefix: str = "") -> tuple[list[str], str]:
    return (prefix + CABLE.format(c=country)).split("\n"), f"القيادة تهنئ رئيس {country} بذكرى الاستقلال"


def test_one_template_about_two_countries_is_two_stories(db) -> None:
    (colombia, t1), (peru, t2) = cable("كولومبيا"), cable("البيرو")
    (copy, t3) = cable("كولومبيا", prefix="الرياض (واس) - ")
    assert 0.4 <= similarity(colombia, peru) < 0.7  # close enough to be a candidate
    clusters = run(db, [[item("https://a.example/c", colombia, title=t1), item("https://b.example/p", peru, title=t2),
                         item("https://c.example/c", copy, title=t3)]])
    assert clusters["https://a.example/c"] != clusters["https://b.example/p"]
    assert clusters["https://a.example/c"] == clusters["https://c.example/c"]  # the same cable, syndicated


@pytest.mark.parametrize(("title_a", "title_b", "body_b", "conflict"), [
    ("القيادة تهنئ رئيس كولومبيا", "القيادة تهنئ رئيس البيرو", "البيرو", "names"),   # each names its own country
    ("القيادة تهنئ رئيس كولومبيا", "القيادة تهنئ رئيس كولومبيا", "كولومبيا", None),  # the same names
    ("القيادة تهنئ رئيس كولومبيا", "تهنئة من القيادة", "كولومبيا", None),            # B's title names nothing new
    ("ارتفاع الضحايا إلى 12 شخصا", "ارتفاع الضحايا إلى 19 شخصا", "كولومبيا", "numbers"),
    ("أبرز أخبار السبت", "أبرز أحداث الخميس", "كولومبيا", "date"),                 # two days' digests
    ("أبرز أخبار السبت", "أهم أخبار يوم السبت", "كولومبيا", None),                  # the same day
    ("أبرز أخبار الإثنين", "أبرز أخبار الاثنين", "كولومبيا", None),                 # one day, two spellings
    ("أبرز أخبار السبت", "أبرز الأخبار", "كولومبيا", None),                         # B names no day
])
def test_facts_conflict_table(title_a: str, title_b: str, body_b: str, conflict: str | None) -> None:
    from crawler.dedup.minhash import facts_conflict, story_facts, word_spans
    from crawler.text import matching_codepoints

    def facts(body: str, title: str):
        norm, cps = matching_codepoints(body)
        return story_facts(norm, cps, word_spans(cps), title)

    body = "برقية تهنئة لرئيس {c} بذكرى استقلال {c} والقيادة تهنئ الشعب"
    a = facts(body.format(c="كولومبيا"), title_a)
    b = facts(body.format(c=body_b), title_b)
    assert facts_conflict(a, b) == conflict
    assert facts_conflict(a, b, names=False) == (conflict if conflict in ("numbers", "date") else None)
