"""Boilerplate, label, date and by-line rules kept as data (Arabic and English).

Nothing here is site-specific: every pattern describes how Arabic (and English)
news pages in general label their chrome. Per-source additions come from the
sources file through ``extract_article(extra_patterns=...)``.
"""

from __future__ import annotations

import re

_F = re.IGNORECASE | re.UNICODE

# Hamza-tolerant spellings used in many rules below.
_READ = "(?:إ|ا|أ)?قر(?:أ|ا|ء)"  # اقرأ / إقرأ / اقرا
_ALSO = "(?:أ|ا|إ)يض(?:ا|اً|ًا|اً)?"  # أيضا / أيضاً / ايضا

# "اقرأ أيضا" and friends, as the start of a line or link ("اقرأ أيضا: <headline>").
READ_ALSO_WORDS = rf"(?:{_READ}|طالع|شاهد)\s+(?:{_ALSO}|المزيد)(?![\u0600-\u06ff])|(?:read|see) (?:also|more)\b"

# --- section labels: a short line that names the block that follows it -------------
# kind -> regex matched against the whole (short) label line.
SECTION_LABELS: dict[str, re.Pattern[str]] = {
    "read_also": re.compile(
        rf"^\W*(?:{_READ}|طالع|شاهد|تابع)\s+(?:{_ALSO}|المزيد)(?![\u0600-\u06ff])|^\W*(?:read|see) (?:also|more)\b",
        _F,
    ),
    "related": re.compile(
        r"^\W*(?:(?:ال)?(?:مقالات|أخبار|اخبار|مواضيع|موضوعات|قصص|روابط|مواد|تغطيات)\s+(?:ال)?(?:مشابهة|ذات صلة|ذات الصلة|متعلقة|مرتبطة|مقترحة|أخرى)"
        r"(?:\s+(?:للكاتب|للكاتبة|لنفس الكاتب|لنفس الكاتبة|للمؤلف|من نفس القسم|في نفس القسم))?(?:\s*\([^()]{0,40}\))?"
        r"|(?:قد|ربما)\s+(?:يهمك|يعجبك)(?:\s+أيضا|\s+أيضاً|\s+ايضا)?|لا يفوتك|اخترنا لك|ذات صلة|ذو صلة|المزيد من (?:الأخبار|الاخبار|الأقسام)|related(?: (?:articles|news|stories|posts))?|you may also like|more from)\W*$",
        _F,
    ),
    "most_read": re.compile(
        r"^\W*(?:ال)?(?:أكثر|اكثر)\s+(?:قراءة|قراءه|مشاهدة|مشاهده|تداولا|تداولاً|تعليقا|تعليقاً|شعبية)|^\W*(?:most (?:read|viewed|popular)|trending|popular)\W*$",
        _F,
    ),
    "tags": re.compile(
        r"^\W*(?:(?:ال)?كلمات\s+(?:ال)?(?:دلالية|مفتاحية|البحث)|(?:ال)?وسوم|الوسم|علامات|tags|keywords|topics)\s*[:：]?",
        _F,
    ),
    "comments": re.compile(
        r"^\W*(?:(?:ال)?تعليقات|التعليق|أضف تعليق|اضف تعليق|اترك تعليق|شارك برأيك|أضف تعليقك|\d+\s+تعليق(?:ات|ا|اً)?|comments?|leave a (?:reply|comment))(?![\u0600-\u06ffA-Za-z])",
        _F,
    ),
    "about_author": re.compile(
        r"^\W*(?:(?:نبذة\s+)?عن\s+(?:ال)?(?:كاتب|كاتبة|مؤلف|محرر)|about the (?:author|writer))\W*$", _F
    ),
    "share": re.compile(r"^\W*(?:شارك|شاركها|شارك الخبر|مشاركة|share(?: this| on)?)\W*$", _F),
    "newsletter": re.compile(
        r"^\W*(?:اشترك|اشتركوا|سجل)\s+(?:في|فى|ب)\s*(?:ال)?(?:نشرة|نشرتنا|القائمة البريدية)|^\W*(?:subscribe|sign up)\b",
        _F,
    ),
}
# Section kinds whose links are reported, and under which field.
LINK_SECTIONS = {"read_also": "read_also", "related": "related"}
# Kinds whose block is removed even when it is not a list of links.
FREE_TEXT_SECTIONS = {"comments", "newsletter", "about_author"}

# --- whole lines that are never body text -----------------------------------------
BOILERPLATE_LINES: list[re.Pattern[str]] = [
    re.compile(p, _F)
    for p in (
        r"your browser does not support",
        r"متصفحك لا يدعم|المتصفح لا يدعم",
        r"^\W*(?:المصدر|مصدر الخبر|المصادر|source)\s*[:：/\-]",
        r"^\W*(?:نقلا|نقلاً|نقلًا) عن\b.{0,80}$",
        rf"^\W*(?:{_READ}|طالع|شاهد)\s+(?:{_ALSO}|المزيد)\b",
        r"^\W*(?:read|see) (?:also|more)\b",
        r"^\W*(?:(?:ال)?كلمات\s+(?:ال)?(?:دلالية|مفتاحية)|(?:ال)?وسوم|tags)\s*[:：]",
        r"^\W*(?:شارك(?:وا)?|انشر|share)\b.{0,60}$",
        r"^\W*(?:تابع(?:ونا|وا|نا)?|تابعوا آخر الأخبار|follow us)\b.{0,80}(?:على|عبر|on|via)\b.{0,80}$",
        r"^\W*(?:انضم|انضموا)\b.{0,40}(?:قناتنا|قناة|تلغرام|تيليجرام|واتساب).{0,60}$",
        r"^\W*(?:اشترك|اشتركوا|سجل)\b.{0,30}(?:النشرة|نشرتنا|البريدية|القائمة البريدية).{0,80}$",
        r"^\W*(?:subscribe|sign up)\b.{0,60}(?:newsletter|updates).{0,40}$",
        r"^\W*(?:إعلان|اعلان|إعلانات|مساحة إعلانية|advertisement|sponsored|ad|المحتوى الممول|محتوى ممول)\W*$",
        r"جميع الحقوق محفوظة|كل الحقوق محفوظة|all rights reserved|^\W*©",
        r"^\W*(?:(?:ال)?أكثر|اكثر)\s+(?:قراءة|قراءه|مشاهدة|تداولا)\W*$",
        r"^\W*(?:most read|most viewed|trending now)\W*$",
        r"^\W*(?:(?:ال)?(?:مقالات|أخبار|اخبار|مواضيع)\s+(?:مشابهة|ذات صلة|متعلقة)|ذات صلة|related(?: articles| news)?)\W*$",
        # "(\W*\(\d+\))?" and not "\W*(\(\d+\))?\W*": two adjacent \W* split a run of punctuation n ways.
        r"^\W*(?:(?:ال)?تعليقات|أضف تعليق|اضف تعليق|أضف تعليقك|اترك تعليقا|اترك تعليقاً|لا توجد تعليقات|comments?)(?:\W*\(\d+\))?\W*$",
        r"^\W*(?:نسخ الرابط|طباعة|حجم الخط|copy link|print)\W*$",
        r"^\W*(?:الرئيسية|home)\s*[»>/›]",
        r"^\W*(?:(?:فيسبوك|فيس بوك|تويتر|إكس|اكس|واتساب|واتس اب|تلغرام|تيليجرام|لينكدإن|انستجرام|إنستغرام|يوتيوب|بريد|"
        r"facebook|twitter|x|whatsapp|telegram|linkedin|instagram|youtube|email|pinterest|reddit)\W*){1,}$",
        r"^\W*(?:الصورة|صورة|صور|image|photo)\s*[:：]?\s*(?:أرشيفية|ارشيفية|تعبيرية|من الأرشيف|archive)\W*$",
        r"^\W*(?:تم النسخ|click here|اضغط هنا|لمزيد من الأخبار).{0,60}$",
        r"^\s*(?:https?://|www\.)\S+\s*$",
        # Opinion-page disclaimers ("المقال يعبر عن رأي كاتبه ولا يعبر بالضرورة عن رأي الموقع"); a news
        # sentence like "الأرقام لا تعبر بالضرورة عن الواقع" does not match: the line must name the
        # article/opinions as subject, or the site/paper as the one whose view it is not.
        r"^\W*(?:هذا\s+)?(?:جميع\s+)?(?:ال)?(?:مقال|مقالات|آراء|اراء|مواد|مادة|محتوى)(?:\s+\S+){0,3}\s+(?:تعبّ?ر|يعبّ?ر)\s+عن\s+(?:رأي|آراء|وجهة نظر)"
        r"|(?:تعبّ?ر|يعبّ?ر|تعكس|يعكس)\s+(?:بالضرورة\s+)?عن\s+(?:رأي|وجهة نظر|موقف|سياسة)\s+(?:ال)?(?:موقع|صحيفة|جريدة|قناة|شبكة|مؤسسة|تحرير|ناشر|منصة)"
        r"|views expressed .{0,60}(?:do not|don't) necessarily",
        # Player fallbacks that are not the browser notice: "إذا تعذر تشغيل الفيديو ...".
        r"^\W*(?:إذا|اذا|في حال|عذرا|عذراً)\b.{0,25}(?:تعذر|يتعذر|لم يتم|لم يظهر|لم يعمل|لا يمكن)\s+(?:تشغيل|عرض|ظهور|تحميل)\s+"
        r"(?:ال)?(?:فيديو|مقطع|صوت|بث)",
        # In-article page navigation: "الصفحة 1 من 3", "« الصفحة السابقة 1 2", "الصفحة التالية »".
        r"^\W*(?:الصفحة|صفحة|page)\s*\d+\s*(?:من|/|of)\s*\d+",
        r"^[\d\s«»<>|.…\-]*(?:(?:ال)?صفحة\s+)?(?:التالية|التالي|السابقة|السابق|next|previous|prev)\b[\d\s«»<>|.…\-]*$",
        r"^[\d\s«»<>|.…\-]*(?:(?:ال)?صفحة|page)\s+(?:التالية|السابقة|next|previous)[\d\s«»<>|.…\-]*$",
    )
]
# A short line that names a publication or update time ("نشر في: … | آخر تحديث: …") is metadata.
DATE_LABEL = re.compile(
    r"(?:^|\s|\|)(?:نشر|نُشر|تاريخ النشر|تاريخ الإضافة|تاريخ الاضافة|(?:آخر|اخر)\s+تحديث|تم التحديث|تحديث)\s*(?:في|بتاريخ)?\s*[:：]"
    r"|^\W*(?:آخر|اخر)\s+تحديث|^\W*(?:published|updated|last updated)\b",
    _F,
)
# A source label on a line of its own, the source on the next line ("المصدر" / "وكالات").
SOURCE_LABEL = re.compile(r"^\W*(?:المصدر|مصدر الخبر|المصادر|source)\W*$", _F)

# Lines naming the original source: group "src" is the attribution.
ATTRIBUTION_LINES: list[re.Pattern[str]] = [
    re.compile(r"^\W*(?:المصدر|مصدر الخبر|source)\s*[:：/\-]\s*(?P<src>.{2,80}?)\s*\W?$", _F),
    re.compile(r"^\W*(?:نقلا|نقلاً|نقلًا) عن\s+(?P<src>.{2,80}?)\s*\W?$", _F),
]
# News-agency credits (the body keeps them; they only fill `attribution`).
AGENCIES = (
    "رويترز", "أ ف ب", "ا ف ب", "فرانس برس", "فرانس 24", "أسوشيتد برس", "الأناضول", "د ب أ", "د.ب.أ", "أ ش أ",
    "أ.ش.أ", "واس", "وام", "قنا", "كونا", "بنا", "بترا", "سانا", "العمانية", "وفا", "سبوتنيك", "شينخوا",
    "يو بي آي", "رويترز وأ ف ب", "Reuters", "AFP", "AP", "Anadolu",
)
_AGENCY_ALT = "|".join(re.escape(a) for a in sorted(AGENCIES, key=len, reverse=True))
AGENCY_CREDIT = re.compile(
    rf"^[^()\n]{{0,30}}?\((?P<src>{_AGENCY_ALT})\)|^[^\n]{{0,25}}?[-–—]\s*\(?(?P<src2>{_AGENCY_ALT})\)?\s*[-–—:]"
    rf"|[-–—(]\s*\(?(?P<src3>{_AGENCY_ALT})\)?\s*\)?\s*$",
    _F,
)
# Every match of AGENCY_CREDIT holds one of these (each branch has one outside any repeat): text
# without any need not be searched.
AGENCY_CREDIT_MARKS = ("(", "-", "–", "—")

# --- containers: class/id tokens of chrome ----------------------------------------
# Matched against class/id split into tokens on [-_ ] (whole-token or prefix).
CHROME_TOKENS = re.compile(
    r"^(?:nav|navbar|navigation|menu|menus|breadcrumbs?|footer|sidebar|widget|widgets|"
    r"share|sharing|shares|social|socials|sharebar|addthis|sharethis|related|relatedposts|similar|"
    r"comments?|commentlist|disqus|respond|newsletter|subscribe|subscription|ads?|advert|advertisement|adsense|"
    r"dfp|banner|banners|promo|sponsor|sponsored|outbrain|taboola|mostread|most|popular|trending|"
    r"cookie|cookies|consent|modal|popup|readalso|readmore|also|more|tags?|tagcloud|keywords|"
    r"print|pagination|pager|copyright|rights|bio|biography|authorbio|pagenav|pagenavigation|"
    # Photo captions, credits and galleries restate the picture, not the story.
    r"caption|captions|gallery|slideshow|carousel|lightbox|credit|credits)$",
    re.IGNORECASE,
)
# Elements that never hold body text.
DROP_TAGS = (
    "script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "embed", "audio", "video",
    "button", "input", "select", "textarea", "label", "figcaption", "figure", "map", "dialog",
)
# A <form> is a search box or a comment form and goes, unless it holds this much text or half the
# page's: ASP.NET and some CMSs wrap the whole page, article included, in one <form>; then only the
# element goes.
FORM_KEEP_CHARS = 1000
CHROME_TAGS = ("nav", "footer", "aside", "header", "menu")
# Microdata blocks that restate metadata (publisher name, logo URL) as hidden text.
CHROME_ITEMPROPS = frozenset({"publisher", "logo", "image", "thumbnailurl", "author", "datemodified"})

# --- by-lines ------------------------------------------------------------------
AUTHOR_PREFIX = re.compile(
    r"^\W*(?:(?:نشر|نشرت|نشره|نشرها|كتب|كتبت|كتبه|كتبها)\s+(?:بواسطة|من قبل)|بقلم|كتبت|كتبه|كتبها|كتب|بواسطة|إعداد|اعداد|تقرير|تحرير|حوار|ترجمة|المحرر|الكاتب|"
    r"written by|by|author|posted by)\s*[:：\-–]?\s*",
    _F,
)
AUTHOR_REJECT = re.compile(r"developed by|designed by|powered by|copyright|جميع الحقوق|https?:|www\.", re.I)
AUTHOR_CLASS = re.compile(r"(?:^|[-_ ])(?:author|byline|writer|kateb|katib|by)(?:$|[-_ ]|name)", re.IGNORECASE)
# Containers whose author-classed elements are commenters, not the article's by-line.
COMMENT_CLASS = re.compile(r"(?:^|[-_ ])(?:comments?|commentlist|reply|replies|respond|disqus|reactions?)(?:$|[-_ ])", re.IGNORECASE)
# Author pages a by-line links to: /author/slug, /writers/12, /kuttab/...
AUTHOR_HREF = re.compile(r"/(?:authors?|writers?|columnists?|kuttab|kottab|katib|kateb|profile/author)/[^/?#]+", re.IGNORECASE)
AUTHOR_LINE = re.compile(r"^\W*(?:(?:نشر|كتب)\s+بواسطة|بقلم|كتبت|كتب|بواسطة|written by|by)\s*[:：\-–]?\s*(?P<name>[^\n]{3,50})$", _F)

# A by-line at the start of a short line near the headline, and where its name ends.
BYLINE_START = re.compile(
    r"^\W*(?:(?:نشر|نشرت|كتب|كتبت)\s+بواسطة|بقلم|كتبت|كتب|بواسطة|written by|by)(?![\w])\s*[:：\-–]?\s*(?P<rest>\S.*)$", _F
)
WEEKDAYS = ("السبت", "الأحد", "الاحد", "الاثنين", "الإثنين", "الثلاثاء", "الأربعاء", "الاربعاء", "الخميس", "الجمعة")
# (?<!\s): a match starts where a run of spaces starts, not at each of its spaces (linear on long runs).
BYLINE_STOP = re.compile(
    r"(?<!\s)\s*(?:[|•·،,/\d٠-٩]|\s[-–—]\s|(?<![\w])(?:" + "|".join(WEEKDAYS) + r"|منذ|في|on|at)(?![\w]))", _F
)

# --- titles -------------------------------------------------------------------
TITLE_SEPARATORS = re.compile(r"(?<!\s)(?:\s+[|\-–—:»«•·]\s+|\s*\|\s*|\s+::\s+)")

# --- dates ----------------------------------------------------------------------
# Gregorian month names: Egyptian/Gulf, Levantine, Maghrebi spellings, hamza-tolerant.
MONTHS: dict[str, int] = {}
for _num, _names in {
    1: ("يناير", "كانون الثاني", "جانفي", "كانون ثاني"),
    2: ("فبراير", "شباط", "فيفري", "فبرير"),
    3: ("مارس", "آذار", "اذار", "أذار"),
    4: ("أبريل", "ابريل", "إبريل", "نيسان", "أفريل", "افريل"),
    5: ("مايو", "أيار", "ايار", "ماي"),
    6: ("يونيو", "يونيه", "حزيران", "جوان"),
    7: ("يوليو", "يوليه", "تموز", "جويلية", "يوليوز"),
    8: ("أغسطس", "اغسطس", "آب", "اب", "أوت", "اوت", "غشت"),
    9: ("سبتمبر", "أيلول", "ايلول", "شتنبر"),
    10: ("أكتوبر", "اكتوبر", "تشرين الأول", "تشرين الاول", "تشرين أول", "تشرين اول"),
    11: ("نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر"),
    12: ("ديسمبر", "كانون الأول", "كانون الاول", "كانون أول", "دجنبر"),
    }.items():
    for _n in _names:
        MONTHS[_n] = _num
ENGLISH_MONTHS = {m: i + 1 for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"))}
for _m, _i in list(ENGLISH_MONTHS.items()):
    ENGLISH_MONTHS[_m[:3]] = _i
HIJRI_MONTHS = (
    "محرم", "صفر", "ربيع الأول", "ربيع الاول", "ربيع الآخر", "ربيع الثاني", "ربيع الاخر", "جمادى الأولى",
    "جمادى الاولى", "جمادى الآخرة", "جمادى الاخرة", "جمادى الثانية", "رجب", "شعبان", "رمضان", "شوال",
    "ذو القعدة", "ذي القعدة", "ذو الحجة", "ذي الحجة",
)
PM_WORDS = ("م", "مساء", "مساءً", "مساءا", "pm", "p.m.")
AM_WORDS = ("ص", "صباحا", "صباحاً", "صباحًا", "am", "a.m.", "ظهرا")
# meta names/properties/itemprops that carry the publication date, best first.
META_DATE_KEYS = (
    "article:published_time", "og:published_time", "og:article:published_time", "datepublished",
    "article:published", "published_time", "publish_date", "publish-date", "publishdate", "pubdate",
    "publication_date", "date_published", "sailthru.date", "parsely-pub-date", "dc.date.issued",
    "dcterms.issued", "dc.date", "dcterms.created", "date", "created", "cxenseparse:recs:publishtime",
    "article.published", "original-publish-date", "release_date",
)
META_MODIFIED_KEYS = ("article:modified_time", "og:updated_time", "datemodified", "last-modified", "dcterms.modified")
DATE_CLASS = re.compile(r"date|time|publish|posted|created|meta|byline|تاريخ", re.IGNORECASE)
# Relative times: unit word -> seconds.
RELATIVE_UNITS = {
    "ثانية": 1, "ثوان": 1, "ثواني": 1, "ثانيتين": 1,
    "دقيقة": 60, "دقائق": 60, "دقيقتين": 60,
    "ساعة": 3600, "ساعات": 3600, "ساعتين": 3600,
    "يوم": 86400, "أيام": 86400, "ايام": 86400, "يومين": 86400,
    "أسبوع": 604800, "اسبوع": 604800, "أسابيع": 604800, "اسابيع": 604800, "أسبوعين": 604800, "اسبوعين": 604800,
}
DUAL_UNITS = {"ثانيتين", "دقيقتين", "ساعتين", "يومين", "أسبوعين", "اسبوعين"}

# --- page types -----------------------------------------------------------------
ARTICLE_TYPES = re.compile(r"article|newsarticle|reportage|blogposting|analysisnewsarticle|opinionnewsarticle", re.I)
LISTING_TYPES = re.compile(r"^(?:website|collectionpage|itemlist|searchresultspage|profilepage)$", re.I)
