"""crawler/settings.py is the one place of defaults: every setting read is declared there, every one declared is read."""

from __future__ import annotations

import ast
from pathlib import Path

from scrapy.settings import default_settings

ROOT = Path(__file__).resolve().parents[1]
READERS = ("get", "getint", "getfloat", "getbool", "getlist", "getdict", "getwithbase")
SCRAPY = {name for name in dir(default_settings) if name.isupper()}


def _declared() -> set[str]:
    """The names crawler/settings.py assigns (not the ones it imports)."""
    tree = ast.parse((ROOT / "crawler" / "settings.py").read_text(encoding="utf-8"))
    return {t.id for node in tree.body if isinstance(node, ast.Assign | ast.AnnAssign)
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            if isinstance(t, ast.Name) and t.id.isupper()}


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _reads() -> dict[str, list[tuple[str, bool]]]:
    """Setting name -> (where, whether a default argument is given) of every ``.get*("NAME", ...)``
    and ``settings["NAME"]`` in crawler/, pipelines/ and spiders/ (not ``os.environ.get``)."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for folder in ("crawler", "pipelines", "spiders"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path == ROOT / "crawler" / "settings.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                name, has_default = None, False
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr in READERS and not _is_environ(node.func.value) and node.args
                        and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    name, has_default = node.args[0].value, len(node.args) > 1 or bool(node.keywords)
                elif (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
                      and isinstance(node.slice.value, str) and isinstance(node.value, ast.Attribute | ast.Name)
                      and "settings" in ast.unparse(node.value)):
                    name = node.slice.value
                if name and name.isupper() and name.replace("_", "").isalnum():
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(name, []).append((where, has_default))
    return found


def test_every_setting_read_is_declared_or_scrapys() -> None:
    declared = _declared()
    undeclared = {name: [w for w, _ in places] for name, places in _reads().items()
                  if name not in declared and name not in SCRAPY}
    assert not undeclared, f"read but declared neither in crawler/settings.py nor by Scrapy: {undeclared}"


def test_settings_are_read_without_a_repeated_default() -> None:
    repeated = [w for places in _reads().values() for w, has_default in places if has_default]
    assert not repeated, f"defaults belong in crawler/settings.py (or Scrapy's) only: {repeated}"


def test_every_declared_setting_is_read_or_scrapys() -> None:
    unread = sorted(_declared() - set(_reads()) - SCRAPY)
    assert not unread, f"declared in crawler/settings.py but read nowhere: {unread}"


def test_the_scanner_sees_reads() -> None:
    reads = _reads()
    assert "DEDUP_NUM_PERM" in reads and "DUPEFILTER_CLASS" in reads  # .getint() and settings[...]
    assert "DISCOVERY_SITEMAP_MAX_AGE_DAYS" in reads and "RUNS_HEALTH_MIN_PAGES" in reads
    assert "STORAGE_URL" in _declared() and "DEFAULT_STRIP_PARAMS" not in _declared()  # imported, not declared


def test_settings_gone_from_scrapy_are_not_declared() -> None:
    assert "REQUEST_FINGERPRINTER_IMPLEMENTATION" not in _declared()


def test_the_settings_fixture_is_the_project_settings(settings) -> None:
    assert settings.getint("DEDUP_NUM_PERM") == 128 and settings.getint("STORAGE_RETRY_TIMES") == 5
    assert settings.getfloat("STORAGE_FLUSH_SECONDS") == 10.0 and settings.getbool("STORAGE_ENABLED")
    assert settings.get("DATABASE_URL") is None and settings.getint("CRAWL_RUN_ID") == 0
    settings.set("DEDUP_SEED", 9)  # a fresh copy per test


def _requirements(name: str) -> dict[str, str]:
    """Distribution name (normalised) -> pin of a requirements file, without its ``-r`` includes."""
    out = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line and not line.startswith("-"):
            dist, _, pin = line.partition("==")
            out[dist.split("[")[0].lower().replace("_", "-")] = pin
    return out


def _runtime_imports() -> set[str]:
    """Top-level modules imported anywhere in crawler/, pipelines/ and spiders/."""
    names = set()
    for folder in ("crawler", "pipelines", "spiders"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(a.name.split(".")[0] for a in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names.add(node.module.split(".")[0])
    return names


def test_requirements_keep_runtime_and_development_apart() -> None:
    from importlib.metadata import packages_distributions

    runtime, dev = _requirements("requirements.txt"), _requirements("requirements-dev.txt")
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    assert {"pytest", "ruff"} <= set(dev) and not {"pytest", "ruff"} & set(runtime)
    assert not set(runtime) & set(dev), "a package is pinned in both files"
    by_module = packages_distributions()
    dists = {d.lower().replace("_", "-") for module in _runtime_imports() for d in by_module.get(module, [])}
    assert not dists & set(dev), f"imported at runtime, so it belongs in requirements.txt: {sorted(dists & set(dev))}"
