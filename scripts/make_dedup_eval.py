"""Build the labelled de-duplication evaluation set (metadata only) in tests/dedup_eval/.

Real pairs come from ../shared/corpus/saudinewsnet-2015-07-21_23.jsonl: wire stories
that several Saudi papers republish. Candidate pairs are mined with a loose
MinHash LSH (word 3-grams, 64 bands of 2 rows) and labelled by rule, then a
sample is read by hand (``--review N`` prints pairs to read):

* ``dup``: one text is a copy of the other with edits: word 3-gram Jaccard
  >= 0.5 and containment of the shorter in the longer >= 0.8;
* ``different``: the same event or topic written separately (Jaccard < 0.3
  and containment < 0.5; these pairs share names and phrases, so they are
  hard negatives);
* pairs in between are ambiguous (a paper rewrote the wire copy, a story
  merged two wire items) and are left out.

Generated copies: recipes (base URL, a seed, lists of edits) applied at run
time by tests/dedup_eval/evalset.py; ``update`` copies are hard negatives.
Headline pairs: re-spellings of real titles (positives), number updates and
the titles of different stories on the same event (negatives). Titles of two
copies of one story are left out: papers re-word them anywhere from a
punctuation change to a new headline.

Usage: python scripts/make_dedup_eval.py [--review N]
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from crawler.dedup.minhash import DedupConfig, MinHasher, jaccard  # noqa: E402
from tests.dedup_eval.evalset import CORPUS, HERE  # noqa: E402

EDITS = ["dateline", "agency", "diacritics", "tatweel", "eastern_digits", "drop_paragraph",
         "add_paragraph", "reword_title", "boilerplate", "word_edits"]
HEAD_EDITS = ["prefix", "suffix_tag", "punct", "add_word", "tatweel", "diacritics"]


def mine(recs: list[dict]) -> list[tuple[float, float, int, int]]:
    h = MinHasher(DedupConfig(shingle="word", shingle_size=3, num_perm=128, bands=64, rows=2))
    sh = [h.shingles("\n".join(r["paragraphs"])) for r in recs]
    buckets = collections.defaultdict(list)
    for i, sig in enumerate(h.signatures(sh)):
        if sh[i].size >= 20:
            for k in h.band_keys(sig):
                buckets[k].append(i)
    pairs = {(v[a], v[b]) for v in buckets.values() if len(v) <= 50 for a in range(len(v)) for b in range(a + 1, len(v))}
    out = []
    for a, b in sorted(pairs):
        j = jaccard(sh[a], sh[b])
        c = np.intersect1d(sh[a], sh[b]).size / min(sh[a].size, sh[b].size)
        if j >= 0.1 and recs[a]["url"] != recs[b]["url"]:
            out.append((j, c, a, b))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--review", type=int, default=0, help="print N pairs of each label to read")
    args = ap.parse_args()
    seen, recs = set(), []
    for line in CORPUS.open(encoding="utf-8"):
        r = json.loads(line)
        if r["url"] not in seen:
            seen.add(r["url"])
            recs.append(r)
    rng = random.Random(2015)
    cands = mine(recs)
    dup = [x for x in cands if x[0] >= 0.5 and x[1] >= 0.8 and recs[x[2]]["outlet"] != recs[x[3]]["outlet"]]
    diff = [x for x in cands if x[0] < 0.3 and x[1] < 0.5]
    rng.shuffle(dup)
    rng.shuffle(diff)
    real = [(x, "dup") for x in dup[:300]] + [(x, "different") for x in diff[:400]]
    with (HERE / "real_pairs.jsonl").open("w", encoding="utf-8") as fh:
        for (j, c, a, b), label in sorted(real, key=lambda t: (recs[t[0][2]]["url"], recs[t[0][3]]["url"])):
            fh.write(json.dumps({"a": recs[a]["url"], "b": recs[b]["url"], "label": label,
                                 "jaccard": round(j, 3), "containment": round(c, 3)}, ensure_ascii=False) + "\n")
    used = {i for (_, _, a, b), _ in real for i in (a, b)}
    bases = [i for i, r in enumerate(recs) if i not in used and len(r["paragraphs"]) >= 4
             and 800 <= sum(map(len, r["paragraphs"])) <= 6000]
    rng.shuffle(bases)
    with (HERE / "generated.jsonl").open("w", encoding="utf-8") as fh:
        for n, i in enumerate(bases[:150]):
            copies = [sorted(rng.sample(EDITS, rng.randint(3, 5))) for _ in range(rng.randint(2, 4))]
            if re.search(r"\d", " ".join(recs[i]["paragraphs"])) and n % 3 == 0:
                copies.append(["update"])
            fh.write(json.dumps({"base": recs[i]["url"], "seed": n, "copies": copies}, ensure_ascii=False) + "\n")
    heads = []
    for i in bases[150:450]:
        heads.append({"a": recs[i]["url"], "b": recs[i]["url"], "b_edit": rng.choice(HEAD_EDITS), "label": "same"})
        if re.search(r"\d", recs[i]["title"]):
            heads.append({"a": recs[i]["url"], "b": recs[i]["url"], "b_edit": "numbers", "label": "different"})
    for (_j, _c, a, b), label in real:  # headlines of different stories on the same event
        if label == "different":
            heads.append({"a": recs[a]["url"], "b": recs[b]["url"], "label": "different"})
    with (HERE / "headlines.jsonl").open("w", encoding="utf-8") as fh:
        for row in heads:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"candidates {len(cands)}; real dup {len(dup[:300])}, different {len(diff[:400])}; "
          f"generated {min(150, len(bases))} clusters; headline pairs {len(heads)}")
    for (j, c, a, b), label in [r for r in real if r[1] == "dup"][: args.review] + [r for r in real if r[1] == "different"][: args.review]:
        print(f"\n[{label}] J={j:.2f} C={c:.2f} {recs[a]['outlet']} / {recs[b]['outlet']}")
        print("  A:", recs[a]["title"], "|", " ".join(recs[a]["paragraphs"])[:200])
        print("  B:", recs[b]["title"], "|", " ".join(recs[b]["paragraphs"])[:200])


if __name__ == "__main__":
    main()
