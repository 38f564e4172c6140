"""The sources file: valid files load, every error is one line naming file, entry and problem."""

from pathlib import Path

import pytest

from crawler.sources import SourcesError, load_sources, parse_sources

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_sources_file_is_valid() -> None:
    sources = load_sources(ROOT / "sources.yaml")
    assert len(sources) >= 15
    assert len({s.name for s in sources}) == len(sources)
    for s in sources:
        assert s.start_urls or s.feeds or s.sitemaps
        assert s.allowed_domains


def test_defaults_allowed_domains_from_urls() -> None:
    (s,) = parse_sources("sources:\n  - name: a\n    feeds: [https://x.example/rss]\n    start_urls: [https://y.example/]\n")
    assert s.allowed_domains == ("x.example", "y.example")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: [", "f.yaml: line"),
        ("other: 1", "f.yaml: top level: expected a 'sources:' list"),
        ("sources: []", "f.yaml: top level: 'sources' is empty"),
        ("sources:\n  - name: Bad-Name\n    feeds: [https://a/]", "f.yaml: entry 1 (Bad-Name): 'name' must match"),
        ("sources:\n  - name: a\n", "f.yaml: entry 1 (a): needs at least one of start_urls, feeds, sitemaps"),
        ("sources:\n  - name: a\n    feeds: [ftp://x/]", "f.yaml: entry 1 (a): 'feeds' has an invalid URL 'ftp://x/'"),
        ("sources:\n  - name: a\n    feeds: [https://a/]\n  - name: a\n    feeds: [https://b/]", "entry 2 (a): duplicate name"),
        ("sources:\n  - name: a\n    feeds: [https://a/]\n    colour: red", "entry 1 (a): unknown key 'colour'"),
        ("sources:\n  - name: a\n    feeds: [https://a/]\n    boilerplate_patterns: ['(']", "bad regular expression"),
        ("sources:\n  - just a string", "f.yaml: entry 1: must be a mapping"),
    ],
)
def test_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(SourcesError) as info:
        parse_sources(text, "f.yaml")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="no such file"):
        load_sources(tmp_path / "nope.yaml")
