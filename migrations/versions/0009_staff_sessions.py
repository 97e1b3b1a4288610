"""staff_session and login_throttle: logout that ends the session; lockout per client

Revision ID: 0009_staff_sessions
Revises: 0008_answer_written_at
Create Date: 2026-12-07 04:02:15.046872

A staff session lived only in the signed cookie, so a copy of the cookie kept working after
logout for up to 12 hours. Each session now has a row (the SHA-256 of a random token) that
logout, a password change or reset and deactivation end. Failed logins are counted per
account and client (a keyed hash of its address), so that failures from one address hold
back only that address for that account.
"""
import sqlalchemy as sa
import surveys.models
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009_staff_sessions'
down_revision = '0008_answer_written_at'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', surveys.models.UTCDateTime(), nullable=False),
    sa.Column('locked_until', surveys.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_login_throttle_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
    sa.UniqueConstraint('staff_user_id', 'client_key', name=op.f('uq_login_throttle_staff_user_id_client_key'))
    )
    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', surveys.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', surveys.models.UTCDateTime(), nullable=False),
    sa.Column('ended_at', surveys.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_staff_session_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_session_token_hash'))
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_staff_user_id'), ['staff_user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_staff_user_id'))

    op.drop_table('staff_session')
    op.drop_table('login_throttle')
