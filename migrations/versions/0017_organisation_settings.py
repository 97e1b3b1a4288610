"""organisation settings: data controller, accessibility statement, branding; campaign purpose

Revision ID: 0017_organisation_settings
Revises: 0014_codebook
Create Date: 2026-12-07 07:10:00.000000

Issue 25: the privacy notice on every wall names the organisation as data controller (name,
address, contact, DPO) and the campaign's purpose; walls link to the organisation's own
accessibility statement when it has one; walls, posters and reports carry its logo, name and
main colour. Existing organisations get empty values (their walls show Stemmer's look, and
an admin must fill in the controller before another wall can be opened).
"""

import sqlalchemy as sa
import surveys.models
from alembic import op


# revision identifiers, used by Alembic.
revision = "0017_organisation_settings"
down_revision = "0014_codebook"
branch_labels = None
depends_on = None

_TEXT_COLUMNS = (
    ("controller_name", sa.String(length=200)),
    ("controller_address", sa.Text()),
    ("controller_email", sa.String(length=254)),
    ("controller_phone", sa.String(length=40)),
    ("dpo_email", sa.String(length=254)),
    ("accessibility_url", sa.String(length=500)),
    ("display_name", sa.String(length=200)),
    ("brand_colour", sa.String(length=7)),
)


def upgrade():
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        for name, type_ in _TEXT_COLUMNS:
            batch_op.add_column(sa.Column(name, type_, server_default="", nullable=False))
        batch_op.add_column(sa.Column("logo_png", sa.LargeBinary(), nullable=True))
        batch_op.add_column(
            sa.Column("has_logo", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("settings_changed_at", surveys.models.UTCDateTime(), nullable=True)
        )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("privacy_purpose", sa.Text(), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("privacy_purpose")
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.drop_column("settings_changed_at")
        batch_op.drop_column("has_logo")
        batch_op.drop_column("logo_png")
        for name, _type in reversed(_TEXT_COLUMNS):
            batch_op.drop_column(name)
