"""Request plumbing: the app's settings, API-key authentication and size-limited JSON bodies."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, HTTPException, Request

from vulnhound.matching.index import AdvisoryIndex
from vulnhound.service.domain.accounts import authenticate
from vulnhound.service.domain.common import Actor, Invalid
from vulnhound.service.jobs.interface import JobContext

DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    engine: sa.Engine
    index: Callable[[], AdvisoryIndex]
    scan_roots: tuple[Path, ...] = ()
    max_upload: int = DEFAULT_MAX_UPLOAD
    jobs: JobContext | None = None  # None: requests run their jobs inline (tests, tools embedding the app)
    job_wait: float = 60.0  # a scan request waits this long for its job before answering QUEUED/RUNNING


def settings(request: Request) -> Settings:
    s: Settings = request.app.state.settings
    return s


def actor(request: Request) -> Actor:
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key", "")
    if not token:
        raise HTTPException(401, "an API key is required (Authorization: Bearer KEY)",
                            headers={"WWW-Authenticate": "Bearer"})
    with settings(request).engine.connect() as conn:
        who = authenticate(conn, token)
    if who is None:
        raise HTTPException(401, "unknown or revoked API key", headers={"WWW-Authenticate": "Bearer"})
    return who


async def json_body(request: Request) -> Any:
    """The request body as JSON, refused with 413 past the upload limit before it is all read."""
    limit = settings(request).max_upload
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"the body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"the body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    try:
        return json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:  # RecursionError: nested too deeply
        raise Invalid(f"the body is not JSON: {exc}") from None


SettingsDep = Annotated[Settings, Depends(settings)]
ActorDep = Annotated[Actor, Depends(actor)]
