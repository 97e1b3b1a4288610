"""Texts per language: wall, prompt and wall_reply .translations

Revision ID: 0015_wall_languages
Revises: 0013_job_files
Create Date: 2026-12-07 07:00:00.000000

Staff write a wall's title, intro, areas, questions and replies in each language the wall
offers; the base columns keep the wall's own language and ``translations`` the others.
"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_wall_languages'
down_revision = '0013_job_files'
branch_labels = None
depends_on = None


def upgrade():
    for table in ('wall', 'prompt', 'wall_reply'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column('translations', sa.JSON(), nullable=False, server_default='{}')
            )


def downgrade():
    for table in ('wall_reply', 'prompt', 'wall'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('translations')
