"""What the server starts for events: the webhook delivery loop, and NATS publishing when ``--nats`` is given.

    stop = start_events(engine, nats_url)   # at start (after migrations)
    stop()                                  # at shutdown: lanes finish their current request, then return
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from vulnhound.service.events import delivery, nats_pub
from vulnhound.service.events.delivery import DeliveryConfig


def start_events(engine: sa.Engine, nats_url: str | None = None, cfg: DeliveryConfig | None = None,
                 nats_stream: str = "VULNHOUND") -> Callable[[], None]:
    """Start the background loops (daemon threads); returns the function that stops and joins them."""
    threads = [delivery.start(engine, cfg)]
    if nats_url:
        threads.append(nats_pub.start(engine, nats_url, stream=nats_stream))

    def stop(timeout: float = 30.0) -> None:
        for _, event in threads:
            event.set()
        for thread, _ in threads:
            thread.join(timeout)

    return stop
