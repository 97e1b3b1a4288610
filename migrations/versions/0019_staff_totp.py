"""two-factor sign-in: staff members' authenticator apps (TOTP) and recovery codes

Revision ID: 0019_staff_totp
Revises: 0017_organisation_settings
Create Date: 2026-12-07 12:40:00.000000

Issue 25: local staff accounts sign in with a password and then a 6-digit code from an
authenticator app (or a one-time recovery code). Existing accounts start without one; admins
(STEMMER_TOTP_REQUIRED_ROLES) are asked to set one up at their next sign-in.
"""

import sqlalchemy as sa
import surveys.models
from alembic import op


# revision identifiers, used by Alembic.
revision = "0019_staff_totp"
down_revision = "0017_organisation_settings"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_totp",
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("created_at", surveys.models.UTCDateTime(), nullable=False),
        sa.Column("confirmed_at", surveys.models.UTCDateTime(), nullable=True),
        sa.Column("last_step", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_staff_totp_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("staff_user_id", name=op.f("pk_staff_totp")),
    )
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=100), nullable=False),
        sa.Column("used_at", surveys.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_user_id"],
            ["staff_user.id"],
            name=op.f("fk_recovery_code_staff_user_id_staff_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_recovery_code_staff_user_id"), ["staff_user_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("recovery_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recovery_code_staff_user_id"))
    op.drop_table("recovery_code")
    op.drop_table("staff_totp")
