"""feedback_reply: staff's official reply to one answer or one theme

Revision ID: 0018_feedback_replies
Revises: 0020_staff_sso
Create Date: 2026-12-07 12:55:00.000000

Issue 24: beside the wall-wide replies, staff answer one citizen's answer (shown under it on
the wall) or one published theme (shown under it on "Det har vi hørt").
"""

import sqlalchemy as sa
from alembic import op

import surveys.models

# revision identifiers, used by Alembic.
revision = "0018_feedback_replies"
down_revision = "0020_staff_sso"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "feedback_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("answer_id", sa.Integer(), nullable=True),
        sa.Column("scope_key", sa.String(length=64), nullable=True),
        sa.Column("theme_key", sa.String(length=16), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("translations", sa.JSON(), server_default="{}", nullable=False),
        sa.Column("created_at", surveys.models.UTCDateTime(), nullable=False),
        sa.Column("updated_at", surveys.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["answer_id"],
            ["answer.id"],
            name=op.f("fk_feedback_reply_answer_id_answer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_user.id"],
            name=op.f("fk_feedback_reply_author_id_staff_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_feedback_reply_campaign_id_campaign"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_reply")),
        sa.UniqueConstraint("answer_id", name=op.f("uq_feedback_reply_answer_id")),
        sa.UniqueConstraint(
            "scope_key", "theme_key", name=op.f("uq_feedback_reply_scope_key_theme_key")
        ),
    )
    with op.batch_alter_table("feedback_reply", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_feedback_reply_campaign_id"), ["campaign_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("feedback_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_reply_campaign_id"))

    op.drop_table("feedback_reply")
