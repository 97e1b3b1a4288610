"""rounds: a campaign run again links its earlier round, a question the same question there

Revision ID: 0022_rounds
Revises: 0021_closed_questions
Create Date: 2026-12-07 21:00:00.000000

Issue 26: a campaign can run again (spring 2026, spring 2027); its closed questions and themes
are compared with the earlier round's.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0022_rounds"
down_revision = "0021_closed_questions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_round_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("round_label", sa.String(length=100), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_previous_round_id_campaign"),
            "campaign",
            ["previous_round_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_prompt_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_prompt_previous_prompt_id_prompt"),
            "prompt",
            ["previous_prompt_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_prompt_previous_prompt_id_prompt"), type_="foreignkey")
        batch_op.drop_column("previous_prompt_id")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_campaign_previous_round_id_campaign"), type_="foreignkey"
        )
        batch_op.drop_column("round_label")
        batch_op.drop_column("previous_round_id")
