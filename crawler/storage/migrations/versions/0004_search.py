"""search index of titles and texts; indexes for the serve pages

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:45:00

``article_search`` holds the matching form of each article's title and text
(see crawler/storage/search.py): an FTS5 table on SQLite, a GIN-indexed word
array on PostgreSQL. Articles already stored are indexed here, once. Three
indexes serve ``serve``'s pages: articles per day per source
(published_at, site), the headlines that point at a story (url), and the
recent headlines (created_at).
"""

from __future__ import annotations

from alembic import op

from crawler.storage import search

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.create_index('ix_articles_published_site', 'articles', ['published_at', 'site'])
    op.create_index('ix_headline_occurrences_url', 'headline_occurrences', ['url'])
    op.create_index('ix_headline_occurrences_created_at', 'headline_occurrences', ['created_at'])
    search.create_index(bind)
    search.backfill(bind)


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS article_search")
    op.drop_index('ix_headline_occurrences_created_at', 'headline_occurrences')
    op.drop_index('ix_headline_occurrences_url', 'headline_occurrences')
    op.drop_index('ix_articles_published_site', 'articles')
