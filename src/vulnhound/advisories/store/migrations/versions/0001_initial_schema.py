"""Initial knowledge-base schema: records, affected index, alias groups, operations, rejects, KEV, EPSS.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-26 05:10:27.350645
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('affected',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('vuln_id', sa.String(length=200), nullable=False),
    sa.Column('ecosystem', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('name_key', sa.String(length=500), nullable=False),
    sa.Column('withdrawn', sa.Boolean(), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('affected', schema=None) as batch_op:
        batch_op.create_index('ix_affected_key', ['ecosystem', 'name_key'], unique=False)
        batch_op.create_index('ix_affected_record', ['source', 'vuln_id'], unique=False)

    op.create_table('distro_releases',
    sa.Column('distro', sa.String(length=50), nullable=False),
    sa.Column('version', sa.String(length=50), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('codename', sa.String(length=50), nullable=True),
    sa.Column('eol', sa.String(length=40), nullable=True),
    sa.Column('ecosystem', sa.String(length=100), nullable=True),
    sa.PrimaryKeyConstraint('distro', 'version')
    )
    op.create_table('epss',
    sa.Column('cve_id', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('percentile', sa.Float(), nullable=False),
    sa.Column('model_version', sa.String(length=40), nullable=True),
    sa.Column('score_date', sa.String(length=40), nullable=True),
    sa.PrimaryKeyConstraint('cve_id')
    )
    op.create_table('ids',
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('group_id', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ids', schema=None) as batch_op:
        batch_op.create_index('ix_ids_group', ['group_id'], unique=False)

    op.create_table('kev',
    sa.Column('cve_id', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('data', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('cve_id')
    )
    op.create_table('op_changes',
    sa.Column('op_id', sa.Integer(), nullable=False),
    sa.Column('vuln_id', sa.String(length=200), nullable=False),
    sa.Column('change', sa.String(length=20), nullable=False)
    )
    with op.batch_alter_table('op_changes', schema=None) as batch_op:
        batch_op.create_index('ix_op_changes_op', ['op_id'], unique=False)

    op.create_table('op_keys',
    sa.Column('op_id', sa.Integer(), nullable=False),
    sa.Column('ecosystem', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False)
    )
    with op.batch_alter_table('op_keys', schema=None) as batch_op:
        batch_op.create_index('ix_op_keys_op', ['op_id'], unique=False)

    op.create_table('operations',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('started_at', sa.String(length=40), nullable=False),
    sa.Column('finished_at', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.create_index('ix_operations_source', ['source'], unique=False)

    op.create_table('rejects',
    sa.Column('pk', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('op_id', sa.Integer(), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('pk')
    )
    with op.batch_alter_table('rejects', schema=None) as batch_op:
        batch_op.create_index('ix_rejects_source', ['source'], unique=False)

    op.create_table('sources',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('etag', sa.Text(), nullable=True),
    sa.Column('last_modified', sa.Text(), nullable=True),
    sa.Column('cursor', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('last_update', sa.String(length=40), nullable=True),
    sa.Column('last_op', sa.Integer(), nullable=True),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('vulns',
    sa.Column('source', sa.String(length=100), nullable=False),
    sa.Column('id', sa.String(length=200), nullable=False),
    sa.Column('modified', sa.String(length=40), nullable=True),
    sa.Column('published', sa.String(length=40), nullable=True),
    sa.Column('withdrawn', sa.String(length=40), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('aliases', sa.Text(), nullable=False),
    sa.Column('doc', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('op_id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('source', 'id')
    )
    with op.batch_alter_table('vulns', schema=None) as batch_op:
        batch_op.create_index('ix_vulns_id', ['id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('vulns', schema=None) as batch_op:
        batch_op.drop_index('ix_vulns_id')

    op.drop_table('vulns')
    op.drop_table('sources')
    with op.batch_alter_table('rejects', schema=None) as batch_op:
        batch_op.drop_index('ix_rejects_source')

    op.drop_table('rejects')
    with op.batch_alter_table('operations', schema=None) as batch_op:
        batch_op.drop_index('ix_operations_source')

    op.drop_table('operations')
    with op.batch_alter_table('op_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_op_keys_op')

    op.drop_table('op_keys')
    with op.batch_alter_table('op_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_op_changes_op')

    op.drop_table('op_changes')
    op.drop_table('kev')
    with op.batch_alter_table('ids', schema=None) as batch_op:
        batch_op.drop_index('ix_ids_group')

    op.drop_table('ids')
    op.drop_table('epss')
    op.drop_table('distro_releases')
    with op.batch_alter_table('affected', schema=None) as batch_op:
        batch_op.drop_index('ix_affected_record')
        batch_op.drop_index('ix_affected_key')

    op.drop_table('affected')
