"""paper answers: place and date written on the wall (issue 8)

Revision ID: 0004_paper
Revises: 0003_themes
Create Date: 2026-11-25 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004_paper'
down_revision = '0003_themes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('place', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('written_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('written_on')
        batch_op.drop_column('place')
