"""The labelled de-duplication evaluation set, materialised from ``../shared`` at run time.

The repository holds only metadata (``real_pairs.jsonl``, ``generated.jsonl``,
``headlines.jsonl``: URLs, edit recipes, labels); texts come from
``../shared/corpus/saudinewsnet-2015-07-21_23.jsonl``. Generated copies apply
the edits real syndication makes, deterministically (seeded per recipe).
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

from crawler.text import normalize_for_matching

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus" / "saudinewsnet-2015-07-21_23.jsonl"

_DIACRITICS = "\u064e\u064f\u0650\u064b\u0651\u0652"
_EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_DATELINES = ["الرياض - واس:", "جدة 21 يوليو (واس) -", "(واس) الرياض -", "الدمام - اليوم:"]
_AGENCY = ["(واس)", "المصدر: وكالة الأنباء السعودية", "ـ واس ـ"]
_BOILER = ["تابعونا على تويتر", "شارك هذا الخبر", "اقرأ المزيد من الأخبار"]
_TITLE_PREFIX = ["عاجل | ", "فيديو: ", "بالصور.. ", "خاص - "]
_TITLE_WORDS = ["رسميا", "اليوم", "الآن"]
_WORD_SWAPS = {"اليوم": "أمس", "أمس": "اليوم", "الذي": "التي", "وقال": "وأضاف", "وأضاف": "وقال", "في": "فى"}


@dataclass
class Doc:
    id: str
    url: str
    site: str
    title: str
    text: str
    published_at: str | None


def available() -> bool:
    return CORPUS.is_file()


def load_corpus() -> dict[str, dict[str, Any]]:
    out = {}
    with CORPUS.open(encoding="utf-8") as fh:
        for line in fh:
            rec = json.loads(line)
            out.setdefault(rec["url"], rec)
    return out


def _read(name: str) -> list[dict[str, Any]]:
    path = HERE / name
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _doc(rec: dict[str, Any], url: str | None = None) -> Doc:
    return Doc(url or rec["url"], url or rec["url"], rec["outlet"], rec["title"], "\n".join(rec["paragraphs"]), rec.get("time"))


# -- edits ----------------------------------------------------------------------
def _sprinkle(text: str, rng: random.Random, mark: str | None, rate: float) -> str:
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) > 3 and rng.random() < rate and re.fullmatch("[\u0621-\u064a]+", w):
            pos = rng.randrange(1, len(w))
            words[i] = w[:pos] + (mark or rng.choice(_DIACRITICS)) + w[pos:]
    return " ".join(words)


def apply_edit(edit: str, title: str, paras: list[str], rng: random.Random, corpus_paras: list[str]) -> tuple[str, list[str]]:
    """One syndication edit on (title, paragraphs)."""
    paras = list(paras)
    if edit == "dateline":
        paras[0] = f"{rng.choice(_DATELINES)} {paras[0]}"
    elif edit == "agency":
        paras.append(rng.choice(_AGENCY))
    elif edit == "diacritics":
        paras = [_sprinkle(p, rng, None, 0.15) for p in paras]
    elif edit == "tatweel":
        paras = [_sprinkle(p, rng, "\u0640", 0.1) for p in paras]
    elif edit == "eastern_digits":
        paras = [p.translate(_EASTERN) for p in paras]
    elif edit == "drop_paragraph" and len(paras) >= 4:
        del paras[rng.randrange(1, len(paras))]
    elif edit == "add_paragraph":
        paras.insert(rng.randrange(1, len(paras) + 1), rng.choice(corpus_paras))
    elif edit == "reword_title":
        title = rng.choice(_TITLE_PREFIX) + title if rng.random() < 0.5 else f"{title} {rng.choice(_TITLE_WORDS)}"
    elif edit == "boilerplate":
        paras.insert(len(paras), rng.choice(_BOILER))
    elif edit == "word_edits":
        paras = [" ".join(_WORD_SWAPS.get(w, w) if rng.random() < 0.5 else w for w in p.split(" ")) for p in paras]
    elif edit == "update":  # a later version of the story: new lead, changed numbers, new paragraphs
        bump = rng.randrange(2, 9)
        paras = [re.sub(r"\d+", lambda m: str(int(m.group(0)) + bump), p) for p in paras]
        paras[0] = rng.choice(corpus_paras)
        paras += [rng.choice(corpus_paras), rng.choice(corpus_paras)]
        title = re.sub(r"\d+", lambda m: str(int(m.group(0)) + bump), title)
    return title, paras


def _subset_words(a: str, b: str) -> bool:
    """One headline is the other plus words: by issue 4's definition a spelling of it,
    so such titles of two different stories are not a headline negative."""
    wa, wb = set(normalize_for_matching(a).split()), set(normalize_for_matching(b).split())
    return wa <= wb or wb <= wa


def headline_edit(title: str, edit: str | None, rng: random.Random) -> str:
    """A re-spelling of a headline as sites make them (or a number update)."""
    title = " ".join(title.split())
    if edit == "prefix":
        return rng.choice(["عاجل | ", "فيديو: ", "بالفيديو.. ", "[صور] ", "عاجل: "]) + title
    if edit == "suffix_tag":
        return title + rng.choice([" (فيديو)", " - بالصور", " | فيديو"])
    if edit == "punct":
        t = title.replace(":", " ..").replace("،", "").replace('"', "«", 1).replace('"', "»", 1)
        return t + rng.choice(["", "!", "."]) if t != title else "«" + title + "»"
    if edit == "add_word":
        return f"{title} {rng.choice(_TITLE_WORDS)}"
    if edit == "tatweel":
        return _sprinkle(title, rng, "\u0640", 0.3)
    if edit == "diacritics":
        return _sprinkle(title, rng, None, 0.3)
    if edit == "numbers":
        bump = rng.randrange(2, 9)
        return re.sub(r"\d+", lambda m: str(int(m.group(0)) + bump), title)
    return title


@dataclass
class EvalSet:
    docs: list[Doc]
    article_pairs: list[tuple[str, str, bool]]  # (doc id, doc id, same story?)
    headline_pairs: list[tuple[str, str, bool]]  # (headline, headline, same headline?)
    headlines: list[str]  # every headline to cluster (each pair's sides, once)


def build(limit_generated: int | None = None) -> EvalSet:
    """Materialise the set: real pairs, generated copies and hard negatives."""
    corpus = load_corpus()
    corpus_paras = [p for rec in list(corpus.values())[::50] for p in rec["paragraphs"] if len(p) > 120]
    docs: dict[str, Doc] = {}
    pairs: list[tuple[str, str, bool]] = []
    for row in _read("real_pairs.jsonl"):
        if row["a"] in corpus and row["b"] in corpus:
            for u in (row["a"], row["b"]):
                docs.setdefault(u, _doc(corpus[u]))
            pairs.append((row["a"], row["b"], row["label"] == "dup"))
    recipes = _read("generated.jsonl")[:limit_generated]
    for rec in recipes:
        base = corpus.get(rec["base"])
        if base is None:
            continue
        docs.setdefault(base["url"], _doc(base))
        copies = [base["url"]]
        for i, edits in enumerate(rec["copies"]):
            rng = random.Random(f"{rec['seed']}/{i}")
            title, paras = base["title"], list(base["paragraphs"])
            for edit in edits:
                title, paras = apply_edit(edit, title, paras, rng, corpus_paras)
            url = f"https://copy{i}.example/{rec['seed']}"
            docs[url] = Doc(url, url, f"copy{i}", title, "\n".join(paras), base.get("time"))
            if "update" in edits:
                pairs.extend((u, url, False) for u in copies)
            else:
                copies.append(url)
        pairs.extend((a, b, True) for a, b in combinations(copies, 2))
    hl_pairs = []
    for r in _read("headlines.jsonl"):
        if r["a"] in corpus and r["b"] in corpus:
            ha = headline_edit(corpus[r["a"]]["title"], r.get("a_edit"), random.Random(f"{r['a']}/a"))
            hb = headline_edit(corpus[r["b"]]["title"], r.get("b_edit"), random.Random(f"{r['b']}/b"))
            if r["label"] == "same" or not _subset_words(ha, hb):
                hl_pairs.append((ha, hb, r["label"] == "same"))
    seed = HERE.parents[2] / "shared" / "seed" / "article.expected.json"
    if seed.is_file():  # one event, ten different headlines: all pairs are negatives
        related = json.loads(seed.read_text(encoding="utf-8"))["related_headlines"]
        hl_pairs.extend((a, b, False) for a, b in combinations(dict.fromkeys(related), 2))
    heads = list(dict.fromkeys(h for a, b, _ in hl_pairs for h in (a, b)))
    return EvalSet(list(docs.values()), pairs, hl_pairs, heads)


def pairwise(pairs: list[tuple[str, str, bool]], cluster_of: dict[str, str]) -> dict[str, float]:
    """Pairwise precision / recall of predicted clusters on labelled pairs."""
    tp = fp = fn = tn = 0
    for a, b, same in pairs:
        pred = cluster_of.get(a) is not None and cluster_of.get(a) == cluster_of.get(b)
        tp += same and pred
        fp += (not same) and pred
        fn += same and not pred
        tn += (not same) and not pred
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn) if tp + fn else 1.0,
        "positives": tp + fn, "negatives": fp + tn, "tp": tp, "fp": fp, "fn": fn,
    }


def run_articles(db: Any, docs: list[Doc], settings: Any = None) -> tuple[dict[str, str], Any]:
    """Cluster *docs* with DedupPipeline (batched, not stored): doc id -> cluster id, stats."""
    from datetime import UTC, datetime

    from crawler.stats import CounterStats
    from crawler.items import ArticleItem
    from pipelines.dedup import DedupPipeline
    from tests.support.settings import project_settings

    stats = CounterStats()
    settings = settings or project_settings()
    settings.set("DEDUP_PENDING_MAX", len(docs) + 10)
    pipe = DedupPipeline.build(settings, stats, db)
    pipe.open_spider()
    items = [ArticleItem(url=d.url, site=d.site, fetched_at=datetime(2015, 7, 21, tzinfo=UTC), title=d.title,
                         text=d.text, published_at=d.published_at) for d in docs]
    for i in range(0, len(items), 200):
        pipe.process_batch(items[i : i + 200])
    return {d.id: it.cluster_id for d, it in zip(docs, items)}, stats


def run_headlines(db: Any, heads: list[str]) -> dict[str, str]:
    """Cluster headlines (each as the title of a page): headline -> cluster id."""
    from datetime import UTC, datetime

    from crawler.stats import CounterStats
    from crawler.dedup.index import variants_by_id
    from crawler.dedup.headlines import HeadlineClusterer, HeadlineConfig, variant_id
    from crawler.items import ArticleItem
    from crawler.text import clean_text

    hc = HeadlineClusterer(HeadlineConfig(), CounterStats())
    items = [ArticleItem(url=f"https://h.example/{i}", site="h", fetched_at=datetime(2015, 7, 21, tzinfo=UTC), title=h)
             for i, h in enumerate(heads)]
    for i in range(0, len(items), 200):
        with db.session() as s:
            rows = hc.resolve(s, items[i : i + 200])
        with db.begin() as s:
            hc.write(s, rows)
    with db.session() as s:
        found = variants_by_id(s, [variant_id(clean_text(h).replace("\n", " ")) for h in heads])
    return {h: found[variant_id(clean_text(h).replace("\n", " "))][0] for h in heads
            if variant_id(clean_text(h).replace("\n", " ")) in found}
