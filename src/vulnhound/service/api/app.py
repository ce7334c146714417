"""The FastAPI application: routers under ``/v1``, problem+json errors, OpenAPI at ``/openapi.json``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from vulnhound import __version__
from vulnhound.service.api import problems, routes_admin, routes_events, routes_findings, routes_jobs, routes_resources
from vulnhound.service.api.deps import Settings


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(title="vulnhound", version=__version__, docs_url="/docs", redoc_url=None,
                  description="Self-hosted continuous vulnerability management. Authenticate with "
                              "`Authorization: Bearer <API key>`.")
    app.state.settings = settings
    problems.install(app)
    for module in (routes_admin, routes_resources, routes_findings, routes_jobs, routes_events):
        app.include_router(module.router)

    @app.get("/v1/health", tags=["health"])
    def health() -> dict[str, Any]:
        with settings.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    return app
