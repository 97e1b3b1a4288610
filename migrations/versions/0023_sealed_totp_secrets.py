"""sealed authenticator secrets: staff_totp.secret holds a Fernet token, not the secret

Revision ID: 0023_sealed_totp_secrets
Revises: 0022_rounds
Create Date: 2026-12-08 00:40:00.000000

The secret of a staff member's authenticator app is sealed with a key derived from the app's
SECRET_KEY (surveys.twofactor.sealer), so that a copy of the database (a backup) does not
give away the second factor. The column grows to hold the token, and the secrets stored before
are sealed here with the SECRET_KEY of the app that runs the migration (``flask db upgrade``).
A downgrade unseals them again.
"""

import sqlalchemy as sa
from alembic import context, op
from flask import current_app

from surveys.twofactor import seal, sealer, unseal

# revision identifiers, used by Alembic.
revision = "0023_sealed_totp_secrets"
down_revision = "0022_rounds"
branch_labels = None
depends_on = None

staff_totp = sa.table(
    "staff_totp", sa.column("staff_user_id", sa.Integer()), sa.column("secret", sa.String())
)


def _rewrite(change) -> None:
    if context.is_offline_mode():
        return  # --sql: no rows to read; run the upgrade against the database instead
    connection = op.get_bind()
    rows = connection.execute(sa.select(staff_totp.c.staff_user_id, staff_totp.c.secret)).all()
    for user_id, secret in rows:
        new = change(secret)
        if new is not None and new != secret:
            connection.execute(
                staff_totp.update().where(staff_totp.c.staff_user_id == user_id).values(secret=new)
            )


def upgrade():
    with op.batch_alter_table("staff_totp", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=64), type_=sa.String(length=255)
        )
    key = sealer(str(current_app.config["SECRET_KEY"]))
    # Only plain secrets are sealed (a secret that unseals as itself is plain base32).
    _rewrite(lambda secret: seal(secret, key) if unseal(secret, key) == secret else None)


def downgrade():
    config = current_app.config
    key = sealer(str(config["SECRET_KEY"]), config["SECRET_KEY_FALLBACKS"])
    _rewrite(lambda secret: unseal(secret, key))
    with op.batch_alter_table("staff_totp", schema=None) as batch_op:
        batch_op.alter_column(
            "secret", existing_type=sa.String(length=255), type_=sa.String(length=64)
        )
