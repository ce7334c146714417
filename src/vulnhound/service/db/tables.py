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
    sa.Index("ix_findings_vuln", "account_id", "vulnerability_id", "risk_score", "id"),  # CVE X, worst first
    sa.Index("ix_findings_package", "account_id", "package_name", "last_observed_at", "id"),
    sa.Index("ix_findings_last", "account_id", "last_observed_at", "id"),
    # one per sort key (migration 0003): a page is read off the index, the keyset cursor seeks into it
    sa.Index("ix_findings_severity", "account_id", "severity_rank", "id"),
    sa.Index("ix_findings_risk", "account_id", "risk_score", "id"),
    sa.Index("ix_findings_epss", "account_id", "epss_score", "id"),
    sa.Index("ix_findings_updated", "account_id", "updated_at", "id"),
    sa.Index("ix_findings_first", "account_id", "first_observed_at", "id"),
    # aggregations scan this covering index (PostgreSQL) instead of the table and its JSON
    sa.Index("ix_findings_agg", "account_id", "status",
             postgresql_include=["resource_id", "package_name", "vulnerability_id", "layer_hash", "resource_type",
                                 "type", "severity", "fix_available", "exploit_available", "title"]),
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
    # Why the change happened (issue #7): NEW_INVENTORY | ADVISORY_ADDED | ADVISORY_MODIFIED | ADVISORY_WITHDRAWN
    # | KEV_CHANGED | EPSS_CHANGED | RESCAN_WINDOW | ...; ``kb_operation`` names the knowledge-base operation.
    sa.Column("cause", sa.String(32)),
    sa.Column("kb_operation", sa.Integer),
    sa.Column("detail", sa.JSON),  # e.g. the old and new severity of an UPDATED row
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

# -- continuous evaluation (issue #7) ---------------------------------------------------------------------------

resource_package_keys = sa.Table(
    # Which advisory lookup keys (ecosystem, normalized name) a resource's current inventory has: a knowledge-base
    # operation's touched keys select the resources to re-match through this index.
    "resource_package_keys", metadata,
    sa.Column("resource_id", ID, sa.ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("ecosystem", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(500), primary_key=True),
    sa.Column("account_id", ID, nullable=False),
    sa.Index("ix_package_keys_key", "ecosystem", "name"),
)

service_cursors = sa.Table(
    # Named positions: the last knowledge-base operation re-evaluated, the last event published to NATS, ...
    "service_cursors", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

jobs = sa.Table(
    # The source of truth for work: executors (in-process, Celery) carry only job ids. A job is idempotent; its
    # dedupe key keeps one live job per piece of work (one scan, one re-evaluation of an operation range).
    "jobs", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("kind", sa.String(32), nullable=False),  # scan | reevaluate | deliver | db-update | rescan-due ...
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("dedupe_key", sa.String(200)),
    sa.Column("status", sa.String(16), nullable=False),  # QUEUED | RUNNING | SUCCEEDED | FAILED
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("max_attempts", sa.Integer, nullable=False, default=5),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("started_at", TS),
    sa.Column("lease_until", TS),  # a RUNNING job past its lease was lost with its worker: it may run again
    sa.Column("finished_at", TS),
    sa.Column("worker", sa.String(200)),
    sa.Column("error", sa.Text),
    sa.Column("result", sa.JSON),
    sa.Index("ix_jobs_status", "status", "created_at"),
    sa.Index("ix_jobs_dedupe", "dedupe_key"),
)

schedules = sa.Table(
    # Periodic work: rescans per resource type, the image rescan window, scheduled `db update`, full re-evaluation.
    "schedules", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),  # RESCAN | DB_UPDATE | FULL_REEVALUATION
    sa.Column("resource_type", sa.String(32)),  # for RESCAN
    sa.Column("interval_seconds", sa.Integer, nullable=False),
    sa.Column("rescan_window_seconds", sa.Integer),  # images: findings close OUT_OF_WINDOW after this
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("next_run_at", TS, nullable=False),
    sa.Column("last_run_at", TS),
    sa.Column("created_at", TS, nullable=False),
)

events = sa.Table(
    # The outbox: written in the same transaction as the change it reports, so an event exists iff its change
    # committed. ``seq`` orders events; delivery and publishing follow it.
    "events", metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("id", sa.String(64), nullable=False, unique=True),  # CloudEvents id
    sa.Column("account_id", ID, nullable=False),
    sa.Column("type", sa.String(100), nullable=False),  # vulnhound.finding.created ...
    sa.Column("subject", sa.String(200)),  # the resource id (ordering key) or the finding id
    sa.Column("time", TS, nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Index("ix_events_account", "account_id", "seq"),
)

webhooks = sa.Table(
    "webhooks", metadata,
    sa.Column("id", ID, primary_key=True),
    sa.Column("account_id", ID, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),  # HMAC-SHA256 key (the receiver holds it too)
    sa.Column("event_types", sa.JSON, nullable=False),  # [] = all; else type names or prefixes
    sa.Column("filter", sa.JSON, nullable=False),  # optional finding filter criteria
    sa.Column("enabled", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("position", sa.Integer, nullable=False, default=0),  # events up to this seq were fanned out
)

deliveries = sa.Table(
    "deliveries", metadata,
    sa.Column("webhook_id", ID, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("event_seq", sa.Integer, primary_key=True),
    sa.Column("account_id", ID, nullable=False),
    sa.Column("subject", sa.String(200)),  # copied from the event: per-subject ordering without a join
    sa.Column("status", sa.String(16), nullable=False),  # PENDING | DELIVERED | DEAD
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", TS, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("delivered_at", TS),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_subject", "webhook_id", "subject", "event_seq"),
    sa.Index("ix_deliveries_pending", "webhook_id", "status", "event_seq"),  # a round reads only pending rows
)
