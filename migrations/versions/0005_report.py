"""report: publishing a campaign's "Det har vi hørt" page

Revision ID: 0005_report
Revises: 0004_paper
Create Date: 2026-11-26 12:00:00.000000

Two nullable columns, added and dropped in place: SQLite (3.35+) does both natively, so the
campaign table is never rebuilt (a rebuild drops the table, and with foreign keys on that
would cascade-delete every wall and answer of the campaign).
"""
from alembic import op
import sqlalchemy as sa

import surveys.models


# revision identifiers, used by Alembic.
revision = '0005_report'
down_revision = '0004_paper'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_at', surveys.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('published_run_id', sa.Integer(), nullable=True))


def downgrade():
    # recreate="never": ALTER TABLE ... DROP COLUMN, never a copy-and-drop of the table.
    with op.batch_alter_table('campaign', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('published_run_id')
        batch_op.drop_column('published_at')
