"""answer.written_at: when the device says an answer was written

Revision ID: 0008_answer_written_at
Revises: 0007_reaction_wall
Create Date: 2026-12-07 04:10:00.000000

An answer kept in a phone's or a kiosk's outbox may arrive after its wall closed or its
kiosk was revoked; one written before, within the grace period, is accepted and held for
moderation, and the time it was written is kept beside it.
"""
import sqlalchemy as sa
import surveys.models
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008_answer_written_at'
down_revision = '0007_reaction_wall'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_at', surveys.models.UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('written_at')
