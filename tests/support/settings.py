"""The project settings for components built outside a crawl (``X.build(settings, ...)``).

Defaults live only in ``crawler/settings.py``: code reads ``settings.getint("NAME")``
without a fallback, so tests must hand it the project's settings, not a bare
``Settings()``. The ``settings`` fixture (``tests/conftest.py``) is the usual way.
"""

from __future__ import annotations

from typing import Any

from scrapy.settings import Settings, default_settings

import crawler.settings as project_module


def project_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Scrapy's defaults, then ``crawler/settings.py``, then *overrides* (``cmdline`` priority)."""
    settings = Settings()
    settings.setmodule(project_module, priority="project")
    settings.update(overrides or {}, priority="cmdline")
    return settings


def own_settings(**overrides: Any) -> dict[str, Any]:
    """The settings ``crawler/settings.py`` adds to Scrapy's (no component wiring,
    no reactor), with *overrides*: for ``scrapy.utils.test.get_crawler(settings_dict=...)``."""
    own = {name: getattr(project_module, name) for name in dir(project_module)
           if name.isupper() and not hasattr(default_settings, name)}
    return {**own, **overrides}
