"""Generate the extraction regression set: tests/extraction/<name>.html + <name>.json.

Eight markup families written by the project (aggregator, WordPress, JSON-LD-heavy modern, legacy
tables in windows-1256, AMP, inline read-also + comments, English chrome, flat unlabelled markup),
six pages each, with varied class names, boilerplate languages, orderings and date notations.
Deterministic: ``python scripts/make_extraction_pages.py`` rewrites the same files.
"""

from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from extraction_texts import ARTICLES, ATTRIBUTIONS, HEADLINES, SITES  # noqa: E402
from page_families import FAMILIES  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "tests" / "extraction"
PAGES_PER_FAMILY = 6
EASTERN = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
AR_MONTHS = ["يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"]
LEV_MONTHS = ["كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران", "تموز", "آب", "أيلول", "تشرين الأول",
              "تشرين الثاني", "كانون الأول"]
DAYS = ["الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]
HIJRI = ["محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة", "رجب", "شعبان", "رمضان", "شوال"]
DATE_STYLES = ["meta", "jsonld", "time", "url", "egyptian", "levantine", "dual", "eastern", "hijri", "numeric", "relative"]


def _clock(dt: datetime, eastern: bool = False) -> str:
    h = dt.hour % 12 or 12
    text = f"{h:02d}:{dt.minute:02d} {'م' if dt.hour >= 12 else 'ص'}"
    return text.translate(EASTERN) if eastern else text


def date_info(style: str, dt: datetime, rng: random.Random) -> dict:
    """How the page shows its date: head markup, visible text, URL part, expected date, fetch time."""
    iso = dt.strftime("%Y-%m-%dT%H:%M:00+03:00")
    d, m, y = dt.day, dt.month - 1, dt.year
    day = DAYS[dt.weekday()]
    info = {"style": style, "head": "", "visible": "", "url": "", "expected": dt.strftime("%Y-%m-%d"),
            "fetched_at": None, "iso": iso, "time_el": False}
    if style == "meta":
        info["head"] = f'<meta property="article:published_time" content="{iso}">'
        info["visible"] = f"{day} {d} {AR_MONTHS[m]} {y}"
    elif style == "jsonld":
        info["visible"] = f"{d} {AR_MONTHS[m]} {y}"
    elif style == "time":
        info["time_el"] = True
        info["visible"] = f"{d} {AR_MONTHS[m]} {y}"
    elif style == "url":
        info["url"] = f"{y}/{dt.month:02d}/{d:02d}/"
    elif style == "egyptian":
        info["visible"] = f"{day} {d} {AR_MONTHS[m]} {y} - {_clock(dt)}"
    elif style == "levantine":
        info["visible"] = rng.choice([f"{d} {LEV_MONTHS[m]} {y}", f"{day}، {d} {LEV_MONTHS[m]} {y} الساعة {_clock(dt)}"])
    elif style == "dual":
        info["visible"] = rng.choice([f"{d} {AR_MONTHS[m]}/{LEV_MONTHS[m]} {y}", f"{d} {LEV_MONTHS[m]} / {AR_MONTHS[m]} {y} {_clock(dt)}"])
    elif style == "eastern":
        info["visible"] = f"{day} {d} {AR_MONTHS[m]} {y} - {_clock(dt, True)}".translate(EASTERN)
    elif style == "hijri":
        hy = y - 579
        info["visible"] = f"{day} {rng.randint(1, 28)} {rng.choice(HIJRI)} {hy} هـ الموافق {d} {AR_MONTHS[m]} {y} م"
    elif style == "numeric":
        info["visible"] = rng.choice([f"{d:02d}/{AR_MONTHS[m]}/{y} - {_clock(dt)}", f"نشر في {d:02d}/{dt.month:02d}/{y}"])
    elif style == "relative":
        hours = rng.randint(2, 5)
        fetched = dt.replace(hour=min(23, max(dt.hour, hours + 1)))
        info["visible"] = "منذ ساعتين" if hours == 2 else f"منذ {hours} ساعات"
        info["fetched_at"] = fetched.strftime("%Y-%m-%dT%H:%M:00+03:00")
    return info


def make_context(fam_idx: int, page_idx: int, rng: random.Random) -> dict:
    n = fam_idx * PAGES_PER_FAMILY + page_idx
    art = ARTICLES[n % len(ARTICLES)]
    other = ARTICLES[(n + 3) % len(ARTICLES)]
    site, domain = SITES[(fam_idx + page_idx) % len(SITES)]
    style = DATE_STYLES[(page_idx * 4 + fam_idx) % len(DATE_STYLES)]
    dt = datetime(2019, 1, 1, 8) + timedelta(days=rng.randint(0, 2400), hours=rng.randint(0, 13), minutes=rng.randint(0, 59))
    date = date_info(style, dt, rng)
    heads = rng.sample(HEADLINES, 8)
    attr_kind = rng.choice(["source", "source", "naqlan", "agency", "none"])
    attribution = rng.choice(ATTRIBUTIONS) if attr_kind != "none" else None
    paragraphs = list(art["paragraphs"])
    if attr_kind == "agency":
        attribution = rng.choice(["رويترز", "الأناضول", "أ ف ب"])
        paragraphs[0] = f"{rng.choice(['القاهرة', 'عمّان', 'الرياض', 'بيروت'])} ({attribution}) - {paragraphs[0]}"
    slug = f"news/{date['url']}{1000 + n}-story.html"
    return {
        "n": n, "rng": rng, "art": art, "paragraphs": paragraphs, "other": other, "site": site,
        "domain": domain, "url": f"https://{domain}/{slug}", "date": date, "related": heads[:5],
        "most_read": heads[5:8], "attr_kind": attr_kind, "attribution": attribution,
        "has_tags": rng.random() < 0.8, "en": fam_idx == 6 or rng.random() < 0.2,
    }


def expected(ctx: dict, page: dict) -> dict:
    paras = ctx["paragraphs"]
    exp = {
        "family": page["family"], "url": ctx["url"], "title": ctx["art"]["title"], "paragraphs": paras,
        "published_date": ctx["date"]["expected"], "date_style": ctx["date"]["style"],
        "fetched_at": ctx["date"]["fetched_at"], "encoding": page.get("encoding", "utf-8"),
        "attribution": ctx["attribution"], "tags": ctx["art"]["tags"] if page.get("tags_shown") else [],
        "authors": [ctx["art"]["author"]] if page.get("author_shown") else [],
        "related_headlines": page.get("related", []), "read_also": page.get("read_also", []),
        "must_contain": [" ".join(paras[0].split()[:6]), " ".join(paras[-1].split()[-6:])],
        "must_not_contain": sorted(set(page["must_not"])),
    }
    body = "\n".join(paras) + "\n" + exp["title"]
    clash = [s for s in exp["must_not_contain"] if s in body]
    if clash:
        raise SystemExit(f"page {page['family']} {ctx['n']}: must_not strings inside the body: {clash}")
    return exp


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("page_*"):
        old.unlink()
    count = 0
    for fam_idx, (name, render) in enumerate(FAMILIES):
        for page_idx in range(PAGES_PER_FAMILY):
            rng = random.Random(f"{name}-{page_idx}")
            ctx = make_context(fam_idx, page_idx, rng)
            page = render(ctx)
            page["family"] = name
            stem = f"page_{fam_idx}{page_idx}_{name}"
            enc = page.get("encoding", "utf-8")
            (OUT / f"{stem}.html").write_bytes(page["html"].encode(enc, errors="xmlcharrefreplace"))
            (OUT / f"{stem}.json").write_text(json.dumps(expected(ctx, page), ensure_ascii=False, indent=1) + "\n",
                                              encoding="utf-8")
            count += 1
    print(f"wrote {count} pages to {OUT}")


if __name__ == "__main__":
    main()
