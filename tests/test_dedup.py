"""DedupPipeline and crawler.dedup.minhash: signatures, merging, config changes, crash-consistency rules."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import numpy as np
import pytest
from datasketch import MinHash
from sqlalchemy import func, select

from crawler.stats import CounterStats
from crawler.dedup.minhash import (
    DedupConfig, MinHasher, SignatureMismatch, jaccard, number_contexts, word_hashes, word_spans,
)
from crawler.dedup.index import DedupConfigMismatch
from crawler.storage.models import DedupBand, DedupDoc
from crawler.storage.writer import AlreadyStored
from crawler.items import ArticleItem
from crawler.text import matching_codepoints
from pipelines.dedup import DedupPipeline
from pipelines.store import StorePipeline
from tests.support.settings import project_settings

PARA = [
    "أعلنت وزارة الصحة اليوم عن افتتاح مستشفى جديد في مدينة جدة بسعة ثلاثمائة سرير لخدمة سكان المنطقة",
    "وقال المتحدث الرسمي باسم الوزارة إن المستشفى يضم أقساما متخصصة في أمراض القلب والأورام والأطفال",
    "وأضاف أن المشروع يأتي ضمن خطة الوزارة لتطوير الخدمات الصحية في جميع مناطق المملكة خلال الأعوام المقبلة",
    "وأشار إلى أن المستشفى سيبدأ باستقبال المرضى مطلع الشهر المقبل بعد اكتمال تجهيز جميع الأقسام الطبية",
    "وتعمل الوزارة على توظيف الكوادر الوطنية المؤهلة في المستشفى الجديد بالتعاون مع الجامعات السعودية",
]
OTHER = [
    "شهدت أسواق الأسهم الخليجية تراجعا ملحوظا في تعاملات الأسبوع الماضي بسبب انخفاض أسعار النفط عالميا",
    "وتراجع المؤشر العام للسوق السعودية بنسبة طفيفة وسط تداولات ضعيفة شملت معظم القطاعات الرئيسة",
    "ويتوقع المحللون أن تستمر حالة الترقب حتى صدور نتائج الشركات للربع الثاني من العام الجاري",
    "وارتفعت أسهم قطاع البتروكيماويات بعد إعلان عدد من الشركات عن توزيعات نقدية للمساهمين",
]


def item(url: str, paras: list[str], title: str = "افتتاح مستشفى جديد في جدة", **kw) -> ArticleItem:
    return ArticleItem(url=url, site=url.split("/")[2], fetched_at=datetime(2025, 1, 1, tzinfo=UTC),
                       title=title, text="\n".join(paras), **kw)


def pipes(database, **settings):
    stats = CounterStats()
    s = project_settings(settings)
    dedup, store = DedupPipeline.build(s, stats, database), StorePipeline.build(s, stats, database)
    dedup.open_spider()
    store.open_spider()
    return dedup, store, stats


def test_config_validation_and_fingerprint() -> None:
    with pytest.raises(ValueError):
        DedupConfig(num_perm=1)
    with pytest.raises(ValueError):
        DedupConfig(bands=40, rows=4, num_perm=128)
    with pytest.raises(ValueError):
        DedupConfig(threshold=0)
    with pytest.raises(ValueError):
        DedupConfig(shingle="sentence")
    assert DedupConfig().fingerprint != DedupConfig(seed=2).fingerprint
    assert DedupConfig().fingerprint == DedupConfig(threshold=0.9).fingerprint  # verification only


def test_signatures_equal_datasketch_and_roundtrip() -> None:
    hasher = MinHasher(DedupConfig())
    sets = [hasher.shingles(" ".join(PARA)), hasher.shingles(" ".join(OTHER)), np.empty(0, np.uint32)]
    sigs = hasher.signatures(sets)
    for sh, sig in zip(sets[:2], sigs[:2]):
        m = MinHash(num_perm=128, seed=1, hashfunc=int)
        m.update_batch(sh.tolist())
        assert np.array_equal(m.hashvalues, sig)
    assert np.array_equal(hasher.decode(hasher.encode(sigs[0])), sigs[0])
    assert len(hasher.encode(sigs[0])) == 7 + 4 * 128
    with pytest.raises(SignatureMismatch):
        MinHasher(DedupConfig(seed=9)).decode(hasher.encode(sigs[0]))
    assert hasher.to_minhash(sigs[0]).jaccard(hasher.to_minhash(sigs[0])) == 1.0


def test_normalisation_makes_copies_identical() -> None:
    hasher = MinHasher(DedupConfig())
    plain = hasher.shingles("\n".join(PARA))
    styled = hasher.shingles("\n".join(p.replace("المستشفى", "المستشفـــى").replace("أ", "ا") for p in PARA))
    assert jaccard(plain, styled) == 1.0


def test_word_hashes_depend_on_the_word_alone() -> None:
    norm, cps = matching_codepoints("قال الوزير إن الوزير قال 12 و 21 ab ba")
    starts, ends = word_spans(cps)
    words = norm.split(" ")
    assert [norm[s:e] for s, e in zip(starts.tolist(), ends.tolist())] == words
    hashes = word_hashes(cps, starts, ends).tolist()
    by_word: dict[str, set[int]] = {}
    for w, h in zip(words, hashes):
        by_word.setdefault(w, set()).add(h)
    assert all(len(v) == 1 for v in by_word.values())  # the same word, wherever it stands
    assert len({next(iter(v)) for v in by_word.values()}) == len(by_word)  # different words differ
    # The uint16 fast path and the uint32 form of the same text give the same shingles.
    hasher = MinHasher(DedupConfig())
    wide = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    assert np.array_equal(hasher.shingles(norm, codepoints=cps), hasher.shingles(norm, codepoints=wide))
    assert np.array_equal(hasher.shingles(norm, normalized=True), hasher.shingles(norm))


@pytest.mark.parametrize("shingle", ["char", "word"])
def test_shingles_many_equals_one_at_a_time(shingle: str) -> None:
    hasher = MinHasher(DedupConfig(shingle=shingle, shingle_size=3))
    rnd = random.Random(11)
    words = ["عاجل", "الرئيس", "في", "موسكو", "12", "a", "ب"]
    texts = ["", "ا", "اب", "ابت", " عاجل ", *(" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 9)))
                                                for _ in range(300))]
    many = hasher.shingles_many(texts)
    assert len(many) == len(texts)
    for text, got in zip(texts, many):
        assert np.array_equal(got, hasher.shingles(text, normalized=True)), repr(text)


def test_band_keys_are_equal_exactly_when_a_band_is() -> None:
    hasher = MinHasher(DedupConfig(num_perm=16, bands=4, rows=4))
    sig = np.arange(16, dtype=np.uint32)
    other = sig.copy()
    other[5] = 99  # band 1 differs
    same_values = np.tile(sig[:4], 4)  # band 0's values in every band
    keys = hasher.band_keys_many(np.stack([sig, other, same_values]))
    assert keys.dtype == np.int64 and keys.shape == (3, 4)
    assert keys[0].tolist() == hasher.band_keys(sig)
    assert [a == b for a, b in zip(keys[0], keys[1])] == [True, False, True, True]
    assert len(set(keys[2].tolist())) == 4  # equal values in different bands: different keys


@pytest.mark.parametrize(
    "norm", ["", "12", "a 1 2 b", "قتل 50 شخصا و 3 جرحى في 2025", "x 𝟏𝟐 y 5 z", "سعر ١٢٣ ريالا"],
)
def test_number_contexts_match_the_word_definition(norm: str) -> None:
    words = norm.split(" ")
    expected: dict = {}
    for i, w in enumerate(words):
        if w.isdigit():
            key = (words[i - 1] if i else "", words[i + 1] if i < len(words) - 1 else "")
            expected.setdefault(key, set()).add(w)
    expected = {k: frozenset(v) for k, v in expected.items()}
    assert number_contexts(norm) == expected
    n2, cps = matching_codepoints(norm)
    if n2 == norm:
        assert number_contexts(norm, cps) == expected


def test_exact_near_and_different(db) -> None:
    dedup, store, stats = pipes(db)
    a = dedup.process_item(item("https://a.example/1", PARA, published_at="2025-01-01"))
    b = dedup.process_item(item("https://b.example/1", PARA))
    near = ["جدة (واس) - " + PARA[0]] + PARA[1:4] + ["تابعونا على تويتر"]
    c = dedup.process_item(item("https://c.example/1", near))
    d = dedup.process_item(item("https://d.example/1", OTHER))
    for it in (a, b, c, d):
        store.process_item(it)
    store.close_spider()
    assert a.dup_of_url is None and a.cluster_id and a.signature and a.content_hash
    assert (b.dup_method, b.dup_of_url, b.cluster_id) == ("exact", a.url, a.cluster_id)
    assert c.dup_method == "minhash" and c.cluster_id == a.cluster_id and 0.4 <= c.dup_score < 1
    assert d.cluster_id != a.cluster_id and d.dup_of_url is None
    assert stats.get_value("dedup/exact") == 1 and stats.get_value("dedup/near_duplicate") == 1
    assert stats.get_value("dedup/unique") == 2
    # A second run finds the stored copies through the database index.
    dedup2, store2, stats2 = pipes(db)
    e = dedup2.process_item(item("https://e.example/1", PARA[:4]))
    assert e.cluster_id == a.cluster_id and e.dup_method == "minhash"
    same = dedup2.process_item(item("https://a.example/1", PARA))
    assert same.cluster_id == a.cluster_id and same.dup_of_url is None


def test_update_of_a_story_is_not_merged(sqlite_db) -> None:
    dedup, _store, stats = pipes(sqlite_db)
    base = [p for p in PARA] + ["وبلغ عدد المصابين 12 شخصا في الحادث بحسب الدفاع المدني"]
    update = [p for p in PARA] + ["وبلغ عدد المصابين 19 شخصا في الحادث بحسب الدفاع المدني"]
    a = dedup.process_item(item("https://a.example/u", base))
    b = dedup.process_item(item("https://b.example/u", update))
    assert a.cluster_id != b.cluster_id
    assert stats.get_value("dedup/rejected_numbers") == 1


def test_update_with_a_new_number_in_its_headline_is_not_merged(db) -> None:
    """The body's changed sentence was rewritten (no shared context), the headline's number changed."""
    dedup, store, stats = pipes(db)
    a = dedup.process_item(item("https://a.example/t", PARA, title="ارتفاع عدد المصابين إلى 12 شخصا في جدة"))
    store.process_item(a)
    store.close_spider()  # the first copy is stored: the second is matched through the database
    dedup, _store, stats = pipes(db)
    b = dedup.process_item(item("https://b.example/t", PARA[:4] + ["وأكد الدفاع المدني استمرار أعمال الإنقاذ"],
                                title="ارتفاع عدد المصابين إلى 19 شخصا في جدة"))
    assert a.cluster_id != b.cluster_id and stats.get_value("dedup/rejected_numbers") == 1
    c = dedup.process_item(item("https://c.example/t", PARA[:4], title="عاجل | ارتفاع عدد المصابين إلى 12 شخصا في جدة"))
    assert c.cluster_id == a.cluster_id  # a copy keeps the headline's number


def test_config_change_is_detected(sqlite_db) -> None:
    pipes(sqlite_db)
    with pytest.raises(DedupConfigMismatch):
        pipes(sqlite_db, DEDUP_NUM_PERM=64, DEDUP_BANDS=16)
    pipes(sqlite_db, DEDUP_THRESHOLD=0.7)  # verification threshold may change freely
    pipes(sqlite_db, DEDUP_NUM_PERM=64, DEDUP_BANDS=16, DEDUP_ADOPT_CONFIG=True)


def test_index_rows_are_written_before_the_item_is_returned(sqlite_db) -> None:
    dedup, _store, _stats = pipes(sqlite_db)
    dedup.process_item(item("https://a.example/k", PARA))
    with sqlite_db.session() as s:  # committed, visible to another session
        assert s.scalar(select(func.count()).select_from(DedupDoc)) == 1
        assert s.scalar(select(func.count()).select_from(DedupBand)) == 32


def test_unstored_items_of_the_run_are_candidates_but_dangling_rows_are_ignored(sqlite_db) -> None:
    dedup, _store, _ = pipes(sqlite_db)
    a = dedup.process_item(item("https://a.example/p", PARA))
    b = dedup.process_item(item("https://b.example/p", PARA[:4]))  # a is not stored yet: found in memory
    assert b.cluster_id == a.cluster_id and b.dup_of_url == a.url
    # "Killed" before the store flushed: a new run sees index rows without articles.
    dedup2, store2, stats2 = pipes(sqlite_db)
    c = dedup2.process_item(item("https://c.example/p", PARA))
    assert c.dup_of_url is None and c.cluster_id not in (a.cluster_id,)
    assert stats2.get_value("dedup/dangling", 0) >= 1
    store2.process_item(c)
    store2.close_spider()
    d = dedup2.process_item(item("https://d.example/p", PARA[:4]))
    assert d.cluster_id == c.cluster_id


def test_reprocessing_is_idempotent(sqlite_db) -> None:
    dedup, store, _ = pipes(sqlite_db)
    store.process_item(dedup.process_item(item("https://a.example/i", PARA)))
    with pytest.raises(AlreadyStored):  # the same URL again: not stored twice, kept out of the feed
        store.process_item(dedup.process_item(item("https://a.example/i", PARA)))
    store.close_spider()
    with sqlite_db.session() as s:
        assert s.scalar(select(func.count()).select_from(DedupDoc)) == 1
        assert s.scalar(select(func.count()).select_from(DedupBand)) == 32


def test_word_hashes_of_a_very_long_text_match_the_short_path() -> None:
    from crawler.dedup import minhash as dedup

    words = " ".join(f"كلمة{i % 97}" for i in range(60_000))  # beyond the kept power tables
    norm, cps = matching_codepoints(words)
    assert cps.size > dedup._POWERS_KEPT
    starts, ends = word_spans(cps)
    long_hashes = word_hashes(cps, starts, ends)
    short_norm, short_cps = matching_codepoints(" ".join(f"كلمة{i}" for i in range(97)))
    short_hashes = word_hashes(short_cps, *word_spans(short_cps))
    assert np.array_equal(long_hashes[:97], short_hashes)


def test_permutations_are_datasketch_s_own() -> None:
    """Pinned to datasketch: our permutation draws are MinHash(num_perm, seed).permutations."""
    from crawler.dedup.minhash import affine32_permutations

    for num_perm, seed in ((128, 1), (64, 7), (256, 42)):
        a, b = affine32_permutations(num_perm, seed)
        ref = MinHash(num_perm=num_perm, seed=seed).permutations
        assert np.array_equal(a, np.asarray(ref[0], dtype=np.uint32))
        assert np.array_equal(b, np.asarray(ref[1], dtype=np.uint32))


def test_hashing_does_not_import_datasketch() -> None:
    """datasketch (and the scipy it pulls in) is imported only by to_minhash: not at start-up."""
    import subprocess
    import sys

    code = "import sys, crawler.dedup.minhash as m; m.MinHasher(m.DedupConfig()); print('datasketch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _odd_texts(count: int, seed: int) -> list[str]:
    """Random matching-form texts: numbers of several scripts, digits inside words, code points
    beyond the BMP (digits among them), one- and two-word texts, empty ones."""
    rnd = random.Random(seed)
    words = ["قال", "الوزير", "12", "١٢", "٣", "12ب", "ب12", "²", "𝟏𝟐", "\U000104a1", "\U000104a1\U000104a2", "كلمة", "a",
             "٥٠"]
    texts = ["", "12", "a 1 2 b", "كلمة", "كلمتان اثنتان", "\U000104a1 5"]
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 40))) for _ in range(count)]
    return [matching_codepoints(t)[0] for t in texts]


@pytest.mark.parametrize("shingle", ["char", "word"])
def test_shingles_and_facts_of_many_texts_are_those_of_each_alone(shingle: str) -> None:
    """The joined pass (all texts of a chunk at once) gives each text's own shingles, word hashes and numbers."""
    from crawler.dedup.minhash import ngram_hashes, shingles_and_facts

    hasher = MinHasher(DedupConfig(shingle=shingle))
    texts = _odd_texts(400, 3)
    texts.append(" ".join(f"كلمة{i % 97} {i}" for i in range(40_000)))  # beyond the kept power tables
    titles = [""] + _odd_texts(400, 4)[: len(texts) - 1]
    bodies = [matching_codepoints(t) for t in texts]
    shingles, facts = shingles_and_facts(hasher, bodies, titles, [None] * len(texts))
    for (norm, cps), title, got, fact in zip(bodies, titles, shingles, facts):
        spans = word_spans(cps)
        values = word_hashes(cps, *spans) if cps.size else np.empty(0, dtype=np.uint64)
        want = np.empty(0, dtype=np.uint32) if not cps.size else \
            ngram_hashes(values if shingle == "word" else cps.astype(np.uint64), 3)
        assert np.array_equal(got, want), repr(norm[:80])
        assert np.array_equal(fact.words, np.unique(values)), repr(norm[:80])
        numbers = dict(number_contexts(norm))
        for key, found in (number_contexts(matching_codepoints(title)[0]) if title else {}).items():
            numbers[key] = numbers.get(key, frozenset()) | found
        assert list(fact.numbers.items()) == list(numbers.items()), (norm[:80], title)


def test_number_contexts_of_random_texts_match_the_word_definition() -> None:
    for norm in _odd_texts(300, 5):
        words = norm.split(" ")
        expected: dict = {}
        for i, w in enumerate(words):
            if w.isdigit():
                expected.setdefault((words[i - 1] if i else "", words[i + 1] if i < len(words) - 1 else ""),
                                    set()).add(w)
        assert list(number_contexts(norm).items()) == [(k, frozenset(v)) for k, v in expected.items()], repr(norm)


def test_story_facts_pickle_as_lines_and_bytes() -> None:
    """Pickled compactly (numbers as lines, word hashes as bytes), a copy's facts read back the same."""
    import pickle

    from crawler.dedup.minhash import StoryFacts, facts_conflict, story_facts

    body = "قتل 50 شخصا و 3 جرحى في 2025 في موسكو يوم السبت 50 شخصا"
    title = "مقتل 50 شخصا في موسكو يوم السبت"
    norm, cps = matching_codepoints(body)
    facts = story_facts(norm, cps, word_spans(cps), title)
    numbers = dict(facts.numbers)
    fresh = story_facts(norm, cps, word_spans(cps), title)  # lines never decoded before pickling
    for original in (facts, fresh, StoryFacts(numbers, facts._hashes(), title)):
        back = pickle.loads(pickle.dumps(original, protocol=5))
        assert list(back.numbers.items()) == list(numbers.items())
        assert np.array_equal(back.words, facts.words) and np.array_equal(back.terms, facts.terms)
        assert back.days == facts.days and back.terms.size
        assert facts_conflict(back, facts) is None
    assert pickle.loads(pickle.dumps(StoryFacts({}, np.empty(0, dtype=np.uint64)))).numbers == {}


def test_encode_many_is_encode_of_each() -> None:
    hasher = MinHasher(DedupConfig())
    sigs = hasher.signatures([np.arange(i, i + 9, dtype=np.uint32) for i in range(5)] + [np.empty(0, dtype=np.uint32)])
    assert hasher.encode_many(sigs) == [hasher.encode(s) for s in sigs]
    assert all(np.array_equal(hasher.decode(b), s) for b, s in zip(hasher.encode_many(sigs), sigs))


def _run_batches(path: str, batches: list[list[dict]], monkeypatch: pytest.MonkeyPatch, *, stored_after: int = 0,
                 failing: int = -1, pending_max: int = 2) -> tuple[list[tuple], dict, int]:
    """Cluster *batches* (plain dicts) into a new SQLite database: (url, cluster, dup fields) of each, stats, _near calls.

    The first *stored_after* + 1 batches are stored as they come, the others at the end
    (pending in memory only, as an import's batch being written); batch *failing* fails
    while its index rows are written. *pending_max*: ``DEDUP_PENDING_MAX``.
    """
    from crawler.dedup import index as store
    from crawler.dedup.clusterer import Deduplicator
    from crawler.storage.database import Database
    from crawler.storage.writer import ArticleWriter

    db = Database.open(f"sqlite:///{path}")
    settings = project_settings({"DEDUP_PENDING_MAX": pending_max, "DEDUP_HEADLINES": False})
    stats = CounterStats()
    dedup, writer = Deduplicator.build(settings, stats, db), ArticleWriter.build(settings, stats, db)
    dedup.open()
    looked_up = []
    near, write_docs = dedup._near, store.write_docs
    monkeypatch.setattr(dedup, "_near", lambda doc, *a: looked_up.append(doc.url) or near(doc, *a))
    out: list = []
    done: list = []
    for n, batch in enumerate(batches):
        if n == failing:
            monkeypatch.setattr(store, "write_docs", lambda *a: 1 / 0)
            with pytest.raises(ZeroDivisionError):
                dedup.process_batch([dict(p) for p in batch])
            monkeypatch.setattr(store, "write_docs", write_docs)
            continue
        out += dedup.process_batch([dict(p) for p in batch])
        if n <= stored_after:
            writer.write_now(out)
            done, out = done + out, []
    writer.write_now(out)
    db.close()
    rows = [(i["url"], i["cluster_id"], i["dup_of_url"], i["dup_method"], i["dup_score"]) for i in done + out]
    return rows, stats.get_stats(), len(looked_up)


def _unscreened(monkeypatch: pytest.MonkeyPatch) -> None:
    """The de-duplicator as it was: every copy looks its candidates up, every key of every pending copy in memory."""
    from crawler.dedup.clusterer import Deduplicator

    monkeypatch.setattr(Deduplicator, "_screen", lambda self, keys, flat, by_band: (set(range(len(keys))),
                                                                                    dict(enumerate(keys))))
    monkeypatch.setattr(Deduplicator, "_relist", lambda self, batch: None)


def _page(url: str, paras: list[str]) -> dict:
    return {"url": url, "site": url.split("/")[2], "title": "", "text": "\n".join(paras),
            "fetched_at": datetime(2025, 1, 1, tzinfo=UTC)}


def test_batch_screen_keeps_every_copy_with_a_candidate(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Copies with no LSH candidate skip the look-up (Deduplicator._screen): the clusters are those without.

    Candidates of every origin: stored only (out of memory), pending (its index rows written,
    its article not yet), an earlier copy of the same batch.
    """
    from tests.test_dedup_chains import text

    stories = [text(i * 80, i * 80 + 80) for i in range(5)]  # five unrelated stories of four paragraphs
    batches = [
        [_page("https://a.example/1", stories[0])],
        [_page("https://b.example/1", stories[1]), _page("https://c.example/1", stories[2])],
        [_page("https://b.example/2", stories[1][:3]), _page("https://a.example/2", stories[0][:3]),
         _page("https://d.example/1", stories[3]), _page("https://e.example/1", stories[4]),
         _page("https://d.example/2", stories[3][:3])],
    ]
    screened, stats, looked_up = _run_batches(str(tmp_path / "s.db"), batches, monkeypatch)
    _unscreened(monkeypatch)
    everything, stats_all, looked_up_all = _run_batches(str(tmp_path / "a.db"), batches, monkeypatch)
    assert screened == everything and stats == stats_all
    joined = {url: dup for url, _cid, dup, _m, _s in screened}
    assert [joined[f"https://{x}.example/2"] for x in "abd"] == [f"https://{x}.example/1" for x in "abd"]
    assert joined["https://e.example/1"] is None
    assert looked_up < looked_up_all  # the screen did skip copies


def test_copies_of_a_failed_batch_stay_candidates_in_memory(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch whose index rows were not written: its pending copies are still found (by every key), as before."""
    from tests.test_dedup_chains import text

    stories = [text(i * 80, i * 80 + 80) for i in range(3)]
    batches = [
        [_page("https://a.example/1", stories[0]), _page("https://b.example/1", stories[1])],  # fails
        [_page("https://c.example/1", stories[2])],
        [_page("https://a.example/2", stories[0][:3]), _page("https://b.example/2", stories[1][1:])],
    ]
    screened, stats, _ = _run_batches(str(tmp_path / "s.db"), batches, monkeypatch, failing=0, pending_max=10)
    _unscreened(monkeypatch)
    everything, stats_all, _ = _run_batches(str(tmp_path / "a.db"), batches, monkeypatch, failing=0, pending_max=10)
    assert screened == everything and stats == stats_all
    assert stats["dedup/near_duplicate"] == 2  # the two copies of the failed batch, matched in memory
