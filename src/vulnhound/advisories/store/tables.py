"""The knowledge-base schema (SQLAlchemy Core). Alembic migrations in ``migrations/`` create and evolve it.

Records are keyed by (source, id) so each feed's copy of an advisory is kept with its provenance; ``ids`` maps
every id and alias to its vulnerability group; ``affected`` is the matcher's index on (ecosystem, name_key).
JSON payloads are TEXT holding ``json.dumps`` output: portable across SQLite and PostgreSQL and cheap to decode.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

vulns = sa.Table(
    "vulns", metadata,
    sa.Column("source", sa.String(100), primary_key=True),
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("modified", sa.String(40)),
    sa.Column("published", sa.String(40)),
    sa.Column("withdrawn", sa.String(40)),
    sa.Column("summary", sa.Text),
    sa.Column("aliases", sa.Text, nullable=False),  # JSON list, read alone to rebuild the alias groups
    sa.Column("doc", sa.Text, nullable=False),  # JSON: everything else of the Advisory except affected
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("op_id", sa.Integer, nullable=False),  # the operation that last wrote this record (provenance)
)
sa.Index("ix_vulns_id", vulns.c.id)

affected = sa.Table(
    "affected", metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("vuln_id", sa.String(200), nullable=False),
    sa.Column("ecosystem", sa.String(200), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("name_key", sa.String(500), nullable=False),  # normalized for lookup (PEP 503 for PyPI)
    sa.Column("withdrawn", sa.Boolean, nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON of one Affected
)
sa.Index("ix_affected_key", affected.c.ecosystem, affected.c.name_key)
sa.Index("ix_affected_record", affected.c.source, affected.c.vuln_id)

ids = sa.Table(
    "ids", metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("group_id", sa.String(200), nullable=False),
)
sa.Index("ix_ids_group", ids.c.group_id)

sources = sa.Table(
    "sources", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("cursor", sa.Text),
    sa.Column("extra", sa.Text, nullable=False),  # JSON dict
    sa.Column("fingerprint", sa.String(64)),  # of the mirror input: unchanged → skip the import
    sa.Column("last_update", sa.String(40)),
    sa.Column("last_op", sa.Integer),
    sa.Column("record_count", sa.Integer, nullable=False),
)

operations = sa.Table(
    "operations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("started_at", sa.String(40), nullable=False),
    sa.Column("finished_at", sa.String(40), nullable=False),
    sa.Column("mode", sa.String(20), nullable=False),  # "full" | "partial"
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("etag", sa.Text),
    sa.Column("counts", sa.Text, nullable=False),  # JSON dict
)
sa.Index("ix_operations_source", operations.c.source)

op_changes = sa.Table(
    "op_changes", metadata,
    sa.Column("op_id", sa.Integer, nullable=False),
    sa.Column("vuln_id", sa.String(200), nullable=False),
    sa.Column("change", sa.String(20), nullable=False),  # added | modified | withdrawn
)
sa.Index("ix_op_changes_op", op_changes.c.op_id)

op_keys = sa.Table(
    "op_keys", metadata,
    sa.Column("op_id", sa.Integer, nullable=False),
    sa.Column("ecosystem", sa.String(200), nullable=False),
    sa.Column("name", sa.String(500), nullable=False),
)
sa.Index("ix_op_keys_op", op_keys.c.op_id)

rejects = sa.Table(
    "rejects", metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("op_id", sa.Integer, nullable=False),
    sa.Column("location", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)
sa.Index("ix_rejects_source", rejects.c.source)

kev = sa.Table(
    "kev", metadata,
    sa.Column("cve_id", sa.String(40), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("data", sa.Text, nullable=False),  # JSON of the KevEntry
)

epss = sa.Table(
    "epss", metadata,
    sa.Column("cve_id", sa.String(40), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("percentile", sa.Float, nullable=False),
    sa.Column("model_version", sa.String(40)),
    sa.Column("score_date", sa.String(40)),
)

distro_releases = sa.Table(
    "distro_releases", metadata,
    sa.Column("distro", sa.String(50), primary_key=True),
    sa.Column("version", sa.String(50), primary_key=True),
    sa.Column("source", sa.String(100), nullable=False),
    sa.Column("codename", sa.String(50)),
    sa.Column("eol", sa.String(40)),
    sa.Column("ecosystem", sa.String(100)),
)
