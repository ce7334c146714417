"""Service tables (SQLAlchemy Core). Every tenant-owned row carries ``account_id``; every query filters on it.

Timestamps are fixed-width UTC ISO-8601 strings (``2026-01-02T03:04:05.000000Z``): they sort chronologically as
text on SQLite and PostgreSQL alike, which keeps keyset pagination and date filters backend-independent.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

TS = sa.String(32)
ID = sa.String(32)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("is_root", sa.Boolean, nullable=False, default=False),  # may create other accounts
    sa.Column("created_at", TS, nullable=False),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", ID, primary_key=True),  # the public part of the token, used to look the key up
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # admin | member | read-only
    sa.Column("secret_sha256", sa.String(64), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("revoked_at", TS),
)

resources = sa.Table(
    "resources", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),  # HOST | CONTAINER_IMAGE | FUNCTION | SBOM
    sa.Column("name", sa.String(500), nullable=False),  # host name, image repository, function name, SBOM name
    sa.Column("identity", sa.String(700), nullable=False),  # what makes it unique within the account
    sa.Column("details", sa.JSON, nullable=False),  # image digest/tags, function runtime, ...
    sa.Column("created_at", TS, nullable=False),
    sa.Column("deleted_at", TS),
    sa.Column("scan_status", sa.String(16), nullable=False),  # coverage: ACTIVE | PENDING | FAILED | INACTIVE
    sa.Column("scan_reason", sa.String(64), nullable=False),
    sa.Column("scan_message", sa.Text),
    sa.Column("last_scanned_at", TS),
    sa.Column("inventory_sha256", sa.String(64)),  # the latest snapshot
    sa.Index("ix_resources_identity", "account_id", "type", "identity"),  # unique among live ones (checked in code)
)

resource_tags = sa.Table(
    "resource_tags", metadata,
    sa.Column("resource_id", ID, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("key", sa.String(128), primary_key=True),
    sa.Column("value", sa.String(256), nullable=False),
    sa.Index("ix_resource_tags_kv", "key", "value"),
)

inventories = sa.Table(
    "inventories", metadata,
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("sha256", sa.String(64), primary_key=True),  # of the canonical inventory JSON
    sa.Column("created_at", TS, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("packages", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),  # zstd-compressed canonical JSON
)

scans = sa.Table(
    "scans", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("resource_id", ID, sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # PUSH (inventory uploaded) | TARGET (server collects)
    sa.Column("target", sa.Text),
    sa.Column("status", sa.String(16), nullable=False),  # QUEUED | RUNNING | COMPLETED | FAILED
    sa.Column("reason", sa.Text),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("started_at", TS),
    sa.Column("finished_at", TS),
    sa.Column("inventory_sha256", sa.String(64)),
    sa.Column("stats", sa.JSON, nullable=False),
    sa.Index("ix_scans_resource", "account_id", "resource_id", "created_at"),
)

findings = sa.Table(
    "findings", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("resource_id", ID, sa.ForeignKey("resources.id", ondelete="CASCADE"), nullable=False),
    sa.Column("resource_type", sa.String(32), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # ACTIVE | SUPPRESSED | CLOSED
    sa.Column("title", sa.String(1024), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("severity_rank", sa.Integer, nullable=False),  # sorts CRITICAL above HIGH ...
    sa.Column("vulnerability_id", sa.String(200)),  # NULL for finding types without one
    sa.Column("vulnerability_source", sa.String(100)),
    sa.Column("package_name", sa.String(500)),
    sa.Column("package_version", sa.String(200)),
    sa.Column("layer_hash", sa.String(100)),
    sa.Column("fix_available", sa.String(8), nullable=False),
    sa.Column("exploit_available", sa.Boolean, nullable=False),
    sa.Column("epss_score", sa.Float, nullable=False),  # -1 when unknown, so it sorts and pages without NULLs
    sa.Column("risk_score", sa.Float, nullable=False),
    sa.Column("first_observed_at", TS, nullable=False),
    sa.Column("last_observed_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("closed_at", TS),
    sa.Column("closed_reason", sa.String(32)),
    sa.Column("suppressed_by", ID),  # the suppression rule
    sa.Column("detail", sa.JSON, nullable=False),  # the finding's wire form (type-specific parts live here)
    sa.Index("ix_findings_resource", "account_id", "resource_id", "status"),
    sa.Index("ix_findings_list", "account_id", "status", "severity_rank", "id"),
    sa.Index("ix_findings_vuln", "account_id", "vulnerability_id"),
    sa.Index("ix_findings_package", "account_id", "package_name"),
    sa.Index("ix_findings_last", "account_id", "last_observed_at", "id"),
)

finding_history = sa.Table(
    "finding_history", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("finding_id", ID, sa.ForeignKey("findings.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("account_id", ID, nullable=False),
    sa.Column("resource_id", ID, nullable=False),
    sa.Column("vulnerability_id", sa.String(200)),
    sa.Column("at", TS, nullable=False),
    sa.Column("from_status", sa.String(16)),  # NULL when the finding was created
    sa.Column("to_status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("scan_id", ID),
    sa.Column("rule_id", ID),
    sa.Index("ix_history_exposure", "account_id", "resource_id", "vulnerability_id", "at"),
)

filters = sa.Table(
    "filters", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(128), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),  # NONE (saved filter) | SUPPRESS
    sa.Column("criteria", sa.JSON, nullable=False),
    sa.Column("description", sa.String(512)),
    sa.Column("reason", sa.String(512)),
    sa.Column("expires_at", TS),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.UniqueConstraint("account_id", "name", name="uq_filter_name"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", ID, nullable=False, index=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("actor", sa.String(64), nullable=False),  # api key id, or "system"
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("target", sa.String(200)),
    sa.Column("detail", sa.JSON, nullable=False),
)
