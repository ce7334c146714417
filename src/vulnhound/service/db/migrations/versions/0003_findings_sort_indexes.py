"""Findings: one index per sort key, the package filter sorted by last observation, a covering index for aggregations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 07:45:00

With 1 M findings a list request sorted by a key without an index sorts the whole account (~1 s on PostgreSQL);
with ``(account_id, key, id)`` it reads the first page off the index (and the keyset cursor seeks into it).
Aggregations read the covering index ``ix_findings_agg`` (PostgreSQL INCLUDE columns) instead of the table, whose
rows carry the finding's JSON.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_INDEXES = {
    'ix_findings_severity': ['account_id', 'severity_rank', 'id'],
    'ix_findings_risk': ['account_id', 'risk_score', 'id'],
    'ix_findings_epss': ['account_id', 'epss_score', 'id'],
    'ix_findings_updated': ['account_id', 'updated_at', 'id'],
    'ix_findings_first': ['account_id', 'first_observed_at', 'id'],
}
AGG_INCLUDE = ['resource_id', 'package_name', 'vulnerability_id', 'layer_hash', 'resource_type', 'type', 'severity',
               'fix_available', 'exploit_available']


def upgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        for name, cols in SORT_INDEXES.items():
            batch_op.create_index(name, cols, unique=False)
        batch_op.drop_index('ix_findings_package')
        batch_op.create_index('ix_findings_package', ['account_id', 'package_name', 'last_observed_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_findings_agg', ['account_id', 'status'], unique=False,
                              postgresql_include=AGG_INCLUDE)


def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_agg')
        batch_op.drop_index('ix_findings_package')
        batch_op.create_index('ix_findings_package', ['account_id', 'package_name'], unique=False)
        for name in SORT_INDEXES:
            batch_op.drop_index(name)
