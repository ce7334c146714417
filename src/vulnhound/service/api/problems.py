"""Every error leaves the API in one shape: RFC 9457 problem+json ``{type, title, status, detail, errors}``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from vulnhound.service.domain.common import DomainError

MEDIA_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str, errors: list[dict[str, Any]] | None = None,
            headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.title, exc.detail, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": "/".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
                  for e in exc.errors()]
        return problem(422, "Invalid request", "the request does not match the API's schema", errors)

    @app.exception_handler(sa.exc.DataError)
    async def _data(_: Request, exc: sa.exc.DataError) -> JSONResponse:
        # A value the database refuses (a NUL character in PostgreSQL text, a string longer than its column):
        # the input is wrong, not the server. The transaction has rolled back; the SQL stays out of the answer.
        cause = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else "refused"
        return problem(422, "Invalid request", f"the database refused a value of the request: {cause}")

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, _TITLES.get(exc.status_code, "Error"), str(exc.detail),
                       headers=dict(exc.headers) if exc.headers else None)


_TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed", 413: "Payload too large",
           422: "Invalid request"}
