"""The job system's seams: ``Executor`` (where jobs run), ``JobContext`` (what a handler may use), ``Handler``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from vulnhound.matching.index import AdvisoryIndex

if TYPE_CHECKING:
    from vulnhound.advisories.store.query import KnowledgeBase


class Executor(Protocol):
    def submit(self, job_id: str, delay: float = 0.0) -> None:
        """Hand a job id to the workers (after ``delay`` seconds); it may run more than once, claims make that safe."""

    def close(self) -> None: ...


@dataclass(frozen=True)
class JobSettings:
    """Knobs the handlers read: the knowledge base location and mirror for ``db-update``, the lease length."""

    kb_db: str | None = None
    mirror: Path | None = None
    sources: tuple[str, ...] = ()
    lease_seconds: float = 60.0
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 300.0


@dataclass
class JobContext:
    engine: sa.Engine
    index: Callable[[], AdvisoryIndex]
    kb: Callable[[], KnowledgeBase]
    settings: JobSettings = field(default_factory=JobSettings)
    executor: Executor | None = None  # set once the executor exists; None: the sweeper picks new jobs up

    def submit(self, job_id: str, delay: float = 0.0) -> None:
        if self.executor is not None:
            self.executor.submit(job_id, delay)


Handler = Callable[[JobContext, dict[str, Any]], dict[str, Any]]
