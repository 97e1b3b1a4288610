"""indexes for the wall page's data version

Revision ID: 0006_wall_page_indexes
Revises: 0005_report
Create Date: 2026-11-25 17:30:00.000000

The wall page is cached per data version (surveys.reads.wall_page_version): the newest
approved answer, the latest moderation and redaction of the wall. Without these indexes each
look scanned every answer of the wall (7.3 ms at 14,000 answers on SQLite; 1.7 ms with them).
Plain CREATE/DROP INDEX: no table is rebuilt.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006_wall_page_indexes'
down_revision = '0005_report'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_answer_wall_status_id', 'answer', ['wall_id', 'status', 'id'])
    op.create_index('ix_answer_wall_moderated', 'answer', ['wall_id', 'moderated_at'])
    op.create_index('ix_answer_wall_redacted', 'answer', ['wall_id', 'redacted_at'])


def downgrade():
    op.drop_index('ix_answer_wall_redacted', table_name='answer')
    op.drop_index('ix_answer_wall_moderated', table_name='answer')
    op.drop_index('ix_answer_wall_status_id', table_name='answer')
