"""raw pages keep the HTTP status and headers as fetched (for WARC export)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:40:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: pages stored before this revision have neither.
    with op.batch_alter_table('raw_pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('http_status', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('http_headers', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('raw_pages', schema=None) as batch_op:
        batch_op.drop_column('http_headers')
        batch_op.drop_column('http_status')
