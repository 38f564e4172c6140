"""The bundled sample news sites served on loopback for ``make demo`` and the spider tests.

* :mod:`crawler.demo.server` -- :class:`~crawler.demo.server.SiteServer` / :class:`~crawler.demo.server.WebServer`.
* :mod:`crawler.demo.site` -- :func:`~crawler.demo.site.build_demo_site` and :func:`~crawler.demo.site.demo_sources`.
* :mod:`crawler.demo.builder`, :mod:`crawler.demo.templates`, :mod:`crawler.demo.feeds`,
  :mod:`crawler.demo.texts` -- how the sites are written (original texts, page families, feeds).
"""

from __future__ import annotations
