"""Accounts (tenants) and API keys.

A key is ``vh_<id>_<secret>``: ``id`` (16 hex) finds the row, ``secret`` is 32 random bytes (base64url). Only
sha256(secret) is stored: a KDF adds nothing against brute force of a 256-bit random secret, and sha256 keeps
every request's check cheap. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import accounts, api_keys
from vulnhound.service.domain.common import ROLES, Actor, Conflict, Forbidden, Invalid, NotFound, audit, new_id, now

PREFIX = "vh_"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _account_wire(row: Any) -> dict[str, Any]:
    return {"accountId": row["id"], "name": row["name"], "root": bool(row["is_root"]), "createdAt": row["created_at"]}


def _key_wire(row: Any) -> dict[str, Any]:
    return {"keyId": row["id"], "accountId": row["account_id"], "name": row["name"], "role": row["role"],
            "createdAt": row["created_at"], "revokedAt": row["revoked_at"]}


def _insert_key(conn: sa.Connection, account_id: str, name: str, role: str) -> tuple[str, dict[str, Any]]:
    if role not in ROLES:
        raise Invalid(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = {"id": key_id, "account_id": account_id, "name": name, "role": role, "secret_sha256": _hash(secret),
           "created_at": now(), "revoked_at": None}
    conn.execute(api_keys.insert().values(**row))
    return f"{PREFIX}{key_id}_{secret}", _key_wire(row)


def bootstrap(conn: sa.Connection) -> str | None:
    """On an empty store: the root account and its first admin key (returned once); None when already set up."""
    if conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one():
        return None
    account_id = new_id()
    conn.execute(accounts.insert().values(id=account_id, name="default", is_root=True, created_at=now()))
    token, key = _insert_key(conn, account_id, "bootstrap admin", "admin")
    audit(conn, None, account_id, "account.bootstrap", account_id, keyId=key["keyId"])
    return token


def authenticate(conn: sa.Connection, token: str) -> Actor | None:
    if not token.startswith(PREFIX):
        return None
    key_id, _, secret = token[len(PREFIX):].partition("_")
    if not key_id or not secret:
        return None
    row = conn.execute(sa.select(api_keys.c.account_id, api_keys.c.role, api_keys.c.secret_sha256,
                                 api_keys.c.revoked_at, accounts.c.is_root)
                       .join(accounts, accounts.c.id == api_keys.c.account_id)
                       .where(api_keys.c.id == key_id)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.secret_sha256, _hash(secret)):
        return None
    return Actor(account_id=row.account_id, key_id=key_id, role=row.role, is_root=bool(row.is_root))


def create_account(conn: sa.Connection, actor: Actor, name: str) -> dict[str, Any]:
    """A new tenant and its first admin key (the token is in the answer, once). Root account admins only."""
    actor.require_admin()
    if not actor.is_root:
        raise Forbidden("only admins of the root account create accounts")
    if conn.execute(sa.select(accounts.c.id).where(accounts.c.name == name)).first():
        raise Conflict(f"an account named {name!r} exists")
    account_id = new_id()
    row = {"id": account_id, "name": name, "is_root": False, "created_at": now()}
    conn.execute(accounts.insert().values(**row))
    token, key = _insert_key(conn, account_id, "initial admin", "admin")
    audit(conn, actor, actor.account_id, "account.create", account_id, name=name)
    audit(conn, actor, account_id, "account.create", account_id, name=name)
    return {**_account_wire(row), "adminKey": {**key, "token": token}}


def list_accounts(conn: sa.Connection, actor: Actor) -> list[dict[str, Any]]:
    q = sa.select(accounts).order_by(accounts.c.created_at, accounts.c.id)
    if not (actor.is_root and actor.role == "admin"):
        q = q.where(accounts.c.id == actor.account_id)
    return [_account_wire(r) for r in conn.execute(q).mappings()]


def get_account(conn: sa.Connection, actor: Actor) -> dict[str, Any]:
    row = conn.execute(sa.select(accounts).where(accounts.c.id == actor.account_id)).mappings().one()
    return _account_wire(row)


def create_key(conn: sa.Connection, actor: Actor, name: str, role: str) -> dict[str, Any]:
    actor.require_admin()
    token, key = _insert_key(conn, actor.account_id, name, role)
    audit(conn, actor, actor.account_id, "key.create", key["keyId"], role=role, name=name)
    return {**key, "token": token}


def list_keys(conn: sa.Connection, actor: Actor) -> list[dict[str, Any]]:
    actor.require_admin()
    rows = conn.execute(sa.select(api_keys).where(api_keys.c.account_id == actor.account_id)
                        .order_by(api_keys.c.created_at, api_keys.c.id)).mappings()
    return [_key_wire(r) for r in rows]


def revoke_key(conn: sa.Connection, actor: Actor, key_id: str) -> None:
    actor.require_admin()
    where = sa.and_(api_keys.c.id == key_id, api_keys.c.account_id == actor.account_id)
    if conn.execute(sa.update(api_keys).where(where, api_keys.c.revoked_at.is_(None))
                    .values(revoked_at=now())).rowcount != 1:
        raise NotFound(f"no active API key {key_id!r}")
    audit(conn, actor, actor.account_id, "key.revoke", key_id)
