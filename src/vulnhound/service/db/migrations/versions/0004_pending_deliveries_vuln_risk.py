"""Pending deliveries by webhook; findings of one vulnerability sorted by risk; titles in the aggregation index

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:45:00

A delivery round reads only a webhook's pending rows (not its delivered history). "Which resources have CVE X,
worst first" is the console's most common question: with 1 M findings a mid-frequency CVE sorted by risk took ~1 s
(sort of its rows, or a walk of the risk index filtering them); ``(account_id, vulnerability_id, risk_score, id)``
reads the page off the index and still serves plain lookups by vulnerability id. The TITLE aggregation read the
table (its rows carry the finding's JSON) because the covering index lacked the title.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

AGG_INCLUDE = ['resource_id', 'package_name', 'vulnerability_id', 'layer_hash', 'resource_type', 'type', 'severity',
               'fix_available', 'exploit_available']

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_deliveries_pending', ['webhook_id', 'status', 'event_seq'], unique=False)
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_vuln')
        batch_op.create_index('ix_findings_vuln', ['account_id', 'vulnerability_id', 'risk_score', 'id'], unique=False)
        batch_op.drop_index('ix_findings_agg')
        batch_op.create_index('ix_findings_agg', ['account_id', 'status'], unique=False,
                              postgresql_include=[*AGG_INCLUDE, 'title'])


def downgrade() -> None:
    with op.batch_alter_table('findings', schema=None) as batch_op:
        batch_op.drop_index('ix_findings_agg')
        batch_op.create_index('ix_findings_agg', ['account_id', 'status'], unique=False,
                              postgresql_include=AGG_INCLUDE)
        batch_op.drop_index('ix_findings_vuln')
        batch_op.create_index('ix_findings_vuln', ['account_id', 'vulnerability_id'], unique=False)
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_deliveries_pending')
