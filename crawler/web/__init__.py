"""`python -m crawler serve`: the corpus as a local, read-only web page.

``db.open_readonly`` opens the database without writing (SQLite ``mode=ro``,
PostgreSQL read-only transactions); ``queries`` answers each page from indexed
queries; ``app`` is the Starlette application (Jinja2 templates, autoescaped;
a Content-Security-Policy that allows no inline script); ``chart`` draws the
articles-per-day chart as SVG on the server; ``diff`` marks the differences
between the copies of a story. Nothing is fetched from outside: the CSS ships
in ``static/``.
"""
