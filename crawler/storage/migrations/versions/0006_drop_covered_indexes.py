"""drop the single-column indexes on articles.site and articles.published_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 16:00:00

Both are the leading column of a composite index (``ix_articles_site_fetched``,
``ix_articles_published_site``), which answers every query they served: they
only cost a B-tree insert each per stored article.
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_articles_site', 'articles')
    op.drop_index('ix_articles_published_at', 'articles')


def downgrade() -> None:
    op.create_index('ix_articles_published_at', 'articles', ['published_at'])
    op.create_index('ix_articles_site', 'articles', ['site'])
