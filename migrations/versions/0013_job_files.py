"""job_file: files a job reads or makes, kept in the database

Revision ID: 0013_job_files
Revises: 0012_queue
Create Date: 2026-12-07 06:50:00.000000

An import's uploaded file and a report's PDF or XLSX are kept beside their job, so that any
worker can read what a web server received and any web server can hand out what a worker
made (N app servers and M workers share only the database and Redis).
"""
import sqlalchemy as sa
import surveys.models
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_job_files'
down_revision = '0012_queue'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('job_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', surveys.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_job_file_job_id_job'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_file')),
    sa.UniqueConstraint('job_id', 'role', 'name', name=op.f('uq_job_file_job_id_role_name'))
    )
    with op.batch_alter_table('job_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_file_job_id'), ['job_id'], unique=False)


def downgrade():
    with op.batch_alter_table('job_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_file_job_id'))
    op.drop_table('job_file')
