"""The layout shows the design: lower layers never import upper ones.

``pipelines/`` and ``spiders/`` are thin Scrapy adapters over ``crawler/``;
nothing in ``crawler/`` imports them. Inside ``crawler/`` each module belongs
to a layer, and imports only from its own layer or those below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Layers, lowest first; a module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, ...]] = [
    # foundations: Arabic normalisation, URLs, items, stats keys, sources file, settings
    ("crawler", "crawler.text", "crawler.urls", "crawler.items", "crawler.stats", "crawler.sources",
     "crawler.settings", "crawler.meta"),
    # the database: models, engine and sessions, the bulk-write path, the article writer
    ("crawler.storage", "crawler.storage.models", "crawler.storage.bulk", "crawler.storage.database",
     "crawler.storage.migrations", "crawler.storage.writer"),
    # the stages: extraction, discovery, de-duplication
    ("crawler.extract", "crawler.discovery", "crawler.dedup"),
    # what runs the stages: scheduling, import/export, why/unmerge, reindex
    ("crawler.scheduling", "crawler.storage.importer", "crawler.storage.export", "crawler.storage.exporters",
     "crawler.storage.card",
     "crawler.storage.warc", "crawler.dedup.why", "crawler.dedup.reindex"),
    # what a person runs: the command line, the web page, the demo
    ("crawler.__main__", "crawler.commands", "crawler.web", "crawler.demo"),
]


def layer_of(module: str) -> int:
    best, level = "", -1
    for n, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, level = prefix, n
    return level


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.split(".")[0] in ("crawler", "pipelines", "spiders")}


CRAWLER_MODULES = sorted((ROOT / "crawler").rglob("*.py"))


@pytest.mark.parametrize("path", CRAWLER_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_crawler_imports_only_its_own_layer_or_below(path: Path) -> None:
    module = module_name(path)
    if ".migrations.versions." in module:
        return  # frozen Alembic revisions
    level = layer_of(module)
    assert level >= 0, f"{module} belongs to no layer: add it to LAYERS"
    for imported in imports_of(path):
        assert not imported.startswith(("pipelines", "spiders")), f"{module} imports the adapter {imported}"
        target = layer_of(imported)
        assert target <= level, f"{module} (layer {level}) imports {imported} (layer {target})"


def test_every_subpackage_is_a_layer_member() -> None:
    packages = {module_name(p.parent) for p in CRAWLER_MODULES if p.name == "__init__.py"}
    assert all(layer_of(p) >= 0 for p in packages), packages
