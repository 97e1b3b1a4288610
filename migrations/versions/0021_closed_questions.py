"""closed questions: a prompt's kind, options and follow-up; an answer's value

Revision ID: 0021_closed_questions
Revises: 0018_feedback_replies
Create Date: 2026-12-07 20:45:00.000000

Issue 26: a question may be a scale, a single or a multiple choice besides free text. A closed
answer stores its value; one without text gets the status "counted" (never a note).
"""

import sqlalchemy as sa
from alembic import op

import surveys.models

# revision identifiers, used by Alembic.
revision = "0021_closed_questions"
down_revision = "0018_feedback_replies"
branch_labels = None
depends_on = None

OLD_STATUSES = ("pending", "approved", "hidden")
NEW_STATUSES = (*OLD_STATUSES, "counted")


def _status_check(statuses):
    return "status IN (" + ", ".join(f"'{s}'" for s in statuses) + ")"


def upgrade():
    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "text",
                    "scale",
                    "single",
                    "multiple",
                    name="prompt_kind",
                    native_enum=False,
                    create_constraint=True,
                    length=16,
                ),
                nullable=False,
                server_default="text",
            )
        )
        batch_op.add_column(sa.Column("options", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("follow_up", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("changed_at", surveys.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("value", sa.JSON(), nullable=True))
        batch_op.drop_constraint(op.f("ck_answer_answer_status"), type_="check")
        batch_op.create_check_constraint("answer_status", _status_check(NEW_STATUSES))


def downgrade():
    op.execute("DELETE FROM answer WHERE status = 'counted'")
    with op.batch_alter_table("answer", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_answer_answer_status"), type_="check")
        batch_op.create_check_constraint("answer_status", _status_check(OLD_STATUSES))
        batch_op.drop_column("value")

    with op.batch_alter_table("prompt", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_prompt_prompt_kind"), type_="check")
        batch_op.drop_column("changed_at")
        batch_op.drop_column("follow_up")
        batch_op.drop_column("options")
        batch_op.drop_column("kind")
