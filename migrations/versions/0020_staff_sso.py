"""staff single sign-on: the OpenID provider's issuer and subject on a staff account

Revision ID: 0020_staff_sso
Revises: 0019_staff_totp
Create Date: 2026-12-07 12:40:00.000000

Issue 25: staff may sign on with their organisation's identity provider (OpenID Connect). An
account is found by the provider's issuer and the subject it gives the person, stored at the
first sign-on; existing accounts have neither (they keep signing in with their password).
"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0020_staff_sso"
down_revision = "0019_staff_totp"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("oidc_issuer", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("oidc_subject", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(
            "uq_staff_user_oidc_issuer_oidc_subject", ["oidc_issuer", "oidc_subject"]
        )


def downgrade():
    with op.batch_alter_table("staff_user", schema=None) as batch_op:
        batch_op.drop_constraint("uq_staff_user_oidc_issuer_oidc_subject", type_="unique")
        batch_op.drop_column("oidc_subject")
        batch_op.drop_column("oidc_issuer")
