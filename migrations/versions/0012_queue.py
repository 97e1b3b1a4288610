"""answer.themes_placed_at, job, queue_worker: background work on a task queue

Revision ID: 0012_queue
Revises: 0011_publish_review
Create Date: 2026-12-07 05:00:00.000000

Theme assignment of a new answer left the request for the task queue (Huey). An answer is
marked when the queue has put it under the latest themes; the catch-up task looks for answers
not marked yet, so a worker that was down or killed loses nothing. Answers stored before this
migration were placed on arrival: they are marked with their arrival time.

A job row is background work someone waits for (a theme run, ...): its progress, result or
error, its idempotency key while it is active, and the heartbeat of the worker running it.
queue_worker holds when each worker process was last seen, for the staff status page.

(Written as 0010 beside 0011 on a branch; renumbered 0012 so the chain is 0009, 0011, 0012.)
"""
import sqlalchemy as sa
import surveys.models
from alembic import op


# revision identifiers, used by Alembic.
revision = '0012_queue'
down_revision = '0011_publish_review'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('themes_placed_at', surveys.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_answer_themes_placed_at'), ['themes_placed_at'], unique=False)
    op.execute("UPDATE answer SET themes_placed_at = created_at")
    op.create_table('queue_worker',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('started_at', surveys.models.UTCDateTime(), nullable=False),
    sa.Column('seen_at', surveys.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_queue_worker'))
    )
    op.create_table('job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('active_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.Enum('queued', 'running', 'done', 'failed', name='job_status', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.JSON(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', surveys.models.UTCDateTime(), nullable=False),
    sa.Column('started_at', surveys.models.UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', surveys.models.UTCDateTime(), nullable=True),
    sa.Column('finished_at', surveys.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_job_organisation_id_organisation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['staff_user.id'], name=op.f('fk_job_requested_by_id_staff_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job')),
    sa.UniqueConstraint('active_key', name=op.f('uq_job_active_key'))
    )
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index('ix_job_status_heartbeat', ['status', 'heartbeat_at'], unique=False)


def downgrade():
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_index('ix_job_status_heartbeat')
        batch_op.drop_index(batch_op.f('ix_job_organisation_id'))
    op.drop_table('job')
    op.drop_table('queue_worker')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_themes_placed_at'))
        batch_op.drop_column('themes_placed_at')
