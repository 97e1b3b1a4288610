"""campaign.published_themes and wall.live_spotlight_id: publishing as a review, a spotlight

Revision ID: 0011_publish_review
Revises: 0009_staff_sessions
Create Date: 2026-12-07 05:00:00.000000

Publishing "Det har vi hørt" is a review step: staff choose which named themes and which of
their quotes are public, kept as {theme key: [answer ids]} beside the published run. A
presenter can spotlight one note of a wall on the projector.

(There is no 0010: that number was used by work merged later as 0012_queue.)
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_publish_review'
down_revision = '0009_staff_sessions'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published_themes', sa.JSON(), nullable=True))
    with op.batch_alter_table('wall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('live_spotlight_id', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('wall', schema=None) as batch_op:
        batch_op.drop_column('live_spotlight_id')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('published_themes')
