"""The learned layer: blocks repeating across many pages of one site become template."""

from __future__ import annotations

import json

import pytest

from crawler.extract import SiteTemplate, extract_article

PROMO = "حمّل تطبيق موقعنا على هاتفك لتصلك الأخبار العاجلة أولا بأول"
TOPICS = ["الطرق", "المدارس", "المستشفيات", "الحدائق", "الأسواق", "الموانئ", "المطارات", "المكتبات"]


def page(i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    paras = "".join(
        f"<p>تقرير رقم {i} عن {topic}: الفقرة {j} تشرح تطورات جديدة في ملف {topic} وتعرض آراء المختصين والمسؤولين.</p>"
        for j in range(4)
    )
    return (f"<html><head><title>خبر عن {topic} رقم {i}</title></head><body><h1>خبر عن {topic} رقم {i}</h1>"
            f"<div class='x{i}'>{paras}<p>{PROMO}</p></div></body></html>")


def test_learns_site_template():
    assert PROMO in extract_article(page(0)).text  # no rule knows this line
    tpl = SiteTemplate(min_pages=5, min_share=0.3)
    for i in range(6):
        tpl.observe(extract_article(page(i)).block_hashes)
    assert tpl.is_template(PROMO) and tpl.is_template("حمل تطبيق موقعنا على هاتفك لتصلك الاخبار العاجلة اولا باول")
    ext = extract_article(page(7), template=tpl)
    assert ext.is_article and PROMO not in ext.text
    assert "تقرير رقم 7" in ext.text  # the article's own text is kept


def test_not_template_before_enough_pages():
    tpl = SiteTemplate(min_pages=5)
    for i in range(4):
        tpl.observe(extract_article(page(i)).block_hashes)
    assert not tpl.is_template(PROMO)
    assert PROMO in extract_article(page(5), template=tpl).text


def test_roundtrip_and_validation():
    tpl = SiteTemplate(min_pages=2, min_share=0.5)
    for i in range(3):
        tpl.observe(extract_article(page(i)).block_hashes)
    data = json.loads(json.dumps(tpl.to_dict()))
    again = SiteTemplate.from_dict(data)
    assert again.is_template(PROMO) and again.pages == 3 and again.min_share == 0.5
    with pytest.raises(ValueError):
        SiteTemplate(min_pages=0)
    with pytest.raises(ValueError):
        SiteTemplate(min_share=1.5)
