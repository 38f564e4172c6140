"""Word-level differences between the copies of one story, as segments to mark."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher

from crawler.text import normalize_for_matching

__all__ = ["Segment", "marked_words", "word_diff"]

#: the longest text compared word by word (longer texts: the rest is shown unmarked)
MAX_WORDS = 6000


@dataclass(frozen=True)
class Segment:
    """A run of words: ``same`` as the reference copy, ``added`` (only here) or ``removed`` (only there)."""

    kind: str
    text: str


def word_diff(reference: str, text: str) -> list[Segment]:
    """The words of *text* against *reference*, line by line kept: spelling variants count as the same.

    Words are compared in their matching form, so a different hamza or
    diacritic is not marked; what is shown is always the stored text of the copy
    (and, for ``removed``, of the reference).
    """
    ref_words = reference.replace("\n", " \n ").split(" ")[:MAX_WORDS]
    words = text.replace("\n", " \n ").split(" ")
    head, tail = words[:MAX_WORDS], words[MAX_WORDS:]
    key = {}

    def fold(w: str) -> str:
        if w not in key:
            key[w] = normalize_for_matching(w) if w != "\n" else "\n"
        return key[w]

    a = [fold(w) for w in ref_words]
    b = [fold(w) for w in head]
    out: list[Segment] = []

    def add(kind: str, ws: list[str]) -> None:
        ws = [w for w in ws if w]
        if not ws:
            return
        joined = " ".join(ws).replace(" \n ", "\n").replace("\n ", "\n").replace(" \n", "\n")
        if out and out[-1].kind == kind:
            out[-1] = Segment(kind, out[-1].text + " " + joined)
            return
        if out and not out[-1].text.endswith("\n") and not joined.startswith("\n"):
            out[-1] = Segment(out[-1].kind, out[-1].text + " ")  # the space between two runs
        out.append(Segment(kind, joined))

    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            add("same", head[j1:j2])
            continue
        if op in ("replace", "delete"):
            add("removed", [w for w in ref_words[i1:i2] if w != "\n"])
        if op in ("replace", "insert"):
            add("added", head[j1:j2])
    if tail:
        add("same", tail)
    return out


def marked_words(text: str, wanted: set[str]) -> list[Segment]:
    """*text* with the words whose matching form is in *wanted* as ``added`` segments (search hits)."""
    out: list[Segment] = []
    for w in text.split(" "):
        kind = "added" if normalize_for_matching(w) in wanted else "same"
        if out and out[-1].kind == kind:
            out[-1] = Segment(kind, out[-1].text + " " + w)
        else:
            if out:
                out[-1] = Segment(out[-1].kind, out[-1].text + " ")
            out.append(Segment(kind, w))
    return out
