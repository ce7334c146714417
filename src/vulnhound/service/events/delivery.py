"""Webhook delivery: fan events out to per-webhook delivery rows, then POST them signed, ordered per resource,
with retries (exponential backoff, full jitter) and a dead-letter state.

- Fan-out: events after a webhook's ``position`` (up to the outbox's safe watermark) that pass its filter become
  PENDING deliveries; the position moves in the same transaction, guarded by its old value, so two fan-outs never
  both insert.
- Order: per (webhook, subject) only the lowest-seq PENDING delivery is sent; later ones wait until it is
  DELIVERED or DEAD. A dead letter no longer blocks its subject; replaying it sends it after what came since.
- Isolation: each webhook has its own lane (thread, HTTP client, small pool); a slow or failing endpoint only
  fills its own lane.
- Exactly once from the sender's side: a delivery is marked after the 2xx; a crash between the POST and the mark
  sends it again, so receivers dedupe on ``X-Vulnhound-Delivery`` (the CloudEvents id). Heads are claimed with a
  lease (``next_attempt_at`` moved ahead) so two delivering processes do not send the same head at once.
- Upkeep: DELIVERED rows older than ``keep_delivered_days`` are pruned (dead letters stay until replayed or the
  webhook is deleted), which keeps the delivery log and each round's scan of pending rows bounded.

Receivers verify ``X-Vulnhound-Signature: sha256=<hex HMAC-SHA256(secret, "<X-Vulnhound-Timestamp>.<body>")>``
and should reject timestamps older than a few minutes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, fields
from typing import Any

import httpx
import sqlalchemy as sa

from vulnhound import __version__
from vulnhound.service.db.tables import deliveries, events, webhooks
from vulnhound.service.domain.common import iso, now
from vulnhound.service.events.outbox import envelope
from vulnhound.service.events.watermark import Watermark
from vulnhound.service.events.webhooks import accepts

log = logging.getLogger(__name__)
FANOUT_BATCH = 2000
SKIPPED = "\x00skipped"  # not sent (stopping): no attempt is counted, the lease is released


@dataclass(frozen=True)
class DeliveryConfig:
    base: float = 2.0  # first retry delay bound (seconds); attempt n waits uniform(0, min(cap, base * 2**(n-1)))
    cap: float = 600.0
    max_attempts: int = 10  # then DEAD
    timeout: float = 10.0  # per request
    concurrency: int = 4  # requests in flight per webhook (distinct subjects)
    batch: int = 32  # heads claimed per round of one webhook
    poll: float = 0.25  # seconds between fan-out rounds of run_forever
    idle_exit: float = 5.0  # a lane with nothing due ends after this long (run_forever starts it again)
    keep_delivered_days: float = 7.0  # DELIVERED rows older than this are pruned (dead letters stay)

    @property
    def lease(self) -> float:
        # A claimed head is not due for anyone else until the round that claimed it is surely over.
        waves = -(-self.batch // self.concurrency)
        return self.timeout * waves + 30.0

    def backoff(self, attempts: int) -> float:
        return random.uniform(0.0, min(self.cap, self.base * 2 ** max(attempts - 1, 0)))

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> DeliveryConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in payload.items() if k in names})


@dataclass(slots=True)
class Counts:
    fanned_out: int = 0
    delivered: int = 0
    failed: int = 0  # attempts that will be retried
    dead: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, other: Counts) -> None:
        with self.lock:
            self.delivered += other.delivered
            self.failed += other.failed
            self.dead += other.dead

    def as_dict(self) -> dict[str, int]:
        return {"fannedOut": self.fanned_out, "delivered": self.delivered, "failed": self.failed, "dead": self.dead}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (and the tests): constant-time comparison of the expected signature."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# -- fan-out -------------------------------------------------------------------------------------------------------

def fan_out(engine: sa.Engine, watermark: Watermark) -> int:
    """Turn new events into PENDING deliveries for every enabled webhook; returns the number of deliveries made."""
    with engine.connect() as conn:
        hooks = conn.execute(sa.select(webhooks.c.id, webhooks.c.account_id, webhooks.c.event_types,
                                       webhooks.c.filter, webhooks.c.position).where(webhooks.c.enabled)).all()
        if not hooks:
            return 0
        safe = watermark.advance(conn, floor=min(h.position for h in hooks))
    made = 0
    for h in hooks:
        if h.position < safe:
            made += _fan_out_one(engine, h.id, h.account_id, h.event_types, h.filter, h.position, safe)
    return made


def _fan_out_one(engine: sa.Engine, wid: str, account_id: str, types: list[str], flt: dict[str, list[str]],
                 position: int, safe: int) -> int:
    made = 0
    while position < safe:
        with engine.begin() as conn:
            cols = [events.c.seq, events.c.type, events.c.subject] + ([events.c.data] if flt else [])
            rows = conn.execute(sa.select(*cols).where(events.c.account_id == account_id, events.c.seq > position,
                                                       events.c.seq <= safe)
                                .order_by(events.c.seq).limit(FANOUT_BATCH)).all()
            new_pos = rows[-1].seq if len(rows) == FANOUT_BATCH else safe
            moved = conn.execute(sa.update(webhooks).where(webhooks.c.id == wid, webhooks.c.position == position)
                                 .values(position=new_pos)).rowcount
            if moved != 1:
                return made  # another process fanned this range out (or the webhook is gone)
            when = now()
            batch = [{"webhook_id": wid, "event_seq": r.seq, "account_id": account_id, "subject": r.subject,
                      "status": "PENDING", "attempts": 0, "next_attempt_at": when}
                     for r in rows if accepts(types, flt, r.type, r.subject, r.data if flt else None)]
            if batch:
                conn.execute(deliveries.insert(), batch)
            made += len(batch)
            position = new_pos
    return made


# -- delivery ------------------------------------------------------------------------------------------------------

def _due_heads(conn: sa.Connection, wid: str, when: str, limit: int, window: int = 1000) -> list[Any]:
    """Up to ``limit`` subjects' lowest PENDING deliveries that are due, in seq order. Pending rows are read in seq
    order, a window at a time: a subject's first row is its head; one that is not due (backing off, or leased)
    blocks only its subject, and the next window is read while heads are missing."""
    heads: list[Any] = []
    seen: set[str | None] = set()
    after = -1
    while len(heads) < limit:
        rows = conn.execute(sa.select(deliveries.c.event_seq, deliveries.c.subject, deliveries.c.next_attempt_at,
                                      deliveries.c.attempts)
                            .where(deliveries.c.webhook_id == wid, deliveries.c.status == "PENDING",
                                   deliveries.c.event_seq > after)
                            .order_by(deliveries.c.event_seq).limit(window)).all()
        for r in rows:
            if r.subject in seen:
                continue
            seen.add(r.subject)
            if r.next_attempt_at <= when:
                heads.append(r)
                if len(heads) == limit:
                    break
        if len(rows) < window:
            break
        after = rows[-1].event_seq
    return heads


def _claim(engine: sa.Engine, wid: str, cfg: DeliveryConfig) -> tuple[Any, list[Any]]:
    """The webhook (url, secret) and the due heads this process now holds under a lease, with their events."""
    when = now()
    with engine.begin() as conn:
        hook = conn.execute(sa.select(webhooks.c.url, webhooks.c.secret, webhooks.c.enabled)
                            .where(webhooks.c.id == wid)).first()
        if hook is None or not hook.enabled:
            return hook, []
        heads = _due_heads(conn, wid, when, cfg.batch)
        if not heads:
            return hook, []
        until = iso(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=cfg.lease))
        # One compare-and-set per head on the primary key: a head another process claimed (or finished) since
        # it was read no longer matches. (A single UPDATE ... IN (...) made SQLite scan the whole due index.)
        claim = sa.update(deliveries).where(
            deliveries.c.webhook_id == wid, deliveries.c.event_seq == sa.bindparam("b_seq"),
            deliveries.c.status == "PENDING", deliveries.c.next_attempt_at == sa.bindparam("b_at")
        ).values(next_attempt_at=until)
        claimed = [h.event_seq for h in heads
                   if conn.execute(claim, {"b_seq": h.event_seq, "b_at": h.next_attempt_at}).rowcount == 1]
        attempts = {h.event_seq: h.attempts for h in heads}
        rows = conn.execute(sa.select(events).where(events.c.seq.in_(claimed)).order_by(events.c.seq)
                            ).mappings().all()
    return hook, [(r, attempts[r["seq"]]) for r in rows]


def _post(client: httpx.Client, url: str, secret: str, row: Any) -> str | None:
    """None when delivered (2xx), else the reason."""
    body = json.dumps(envelope(row), separators=(",", ":"), ensure_ascii=False).encode()
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/cloudevents+json", "X-Vulnhound-Timestamp": ts,
               "X-Vulnhound-Signature": sign(secret, ts, body), "X-Vulnhound-Delivery": row["id"],
               "X-Vulnhound-Event-Type": row["type"], "User-Agent": f"vulnhound/{__version__}"}
    try:
        with client.stream("POST", url, content=body, headers=headers) as r:
            if 200 <= r.status_code < 300:
                _drain(r)  # a small answer is read so the connection is reused; a big one is cut off
                return None
            head = next(r.iter_bytes(chunk_size=200), b"")[:200]
            return f"HTTP {r.status_code}: {head.decode('utf-8', 'replace')}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]


def _drain(r: httpx.Response, limit: int = 65536) -> None:
    size = 0
    for chunk in r.iter_bytes():
        size += len(chunk)
        if size > limit:
            break


def _mark(engine: sa.Engine, wid: str, results: Iterable[tuple[int, int, str | None]], cfg: DeliveryConfig
          ) -> Counts:
    counts, when = Counts(), dt.datetime.now(dt.UTC)
    done, retry, dead, skipped = [], [], [], []
    for seq, attempts, error in results:
        n = attempts + 1
        if error == SKIPPED:
            skipped.append({"b_seq": seq})
        elif error is None:
            done.append({"b_seq": seq, "b_n": n})
        elif n >= cfg.max_attempts:
            dead.append({"b_seq": seq, "b_n": n, "b_err": error})
        else:
            at = iso(when + dt.timedelta(seconds=cfg.backoff(n)))
            retry.append({"b_seq": seq, "b_n": n, "b_err": error, "b_at": at})
    scope = (deliveries.c.webhook_id == wid, deliveries.c.event_seq == sa.bindparam("b_seq"),
             deliveries.c.status == "PENDING")
    with engine.begin() as conn:
        if done:
            conn.execute(sa.update(deliveries).where(*scope).values(
                status="DELIVERED", attempts=sa.bindparam("b_n"), delivered_at=iso(when), last_error=None), done)
        if retry:
            conn.execute(sa.update(deliveries).where(*scope).values(
                attempts=sa.bindparam("b_n"), last_error=sa.bindparam("b_err"),
                next_attempt_at=sa.bindparam("b_at")), retry)
        if dead:
            conn.execute(sa.update(deliveries).where(*scope).values(
                status="DEAD", attempts=sa.bindparam("b_n"), last_error=sa.bindparam("b_err")), dead)
        if skipped:
            conn.execute(sa.update(deliveries).where(*scope).values(next_attempt_at=iso(when)), skipped)
    counts.delivered, counts.failed, counts.dead = len(done), len(retry), len(dead)
    return counts


class Lane:
    """One webhook's sender: its own HTTP client and pool, so its endpoint's speed affects nobody else."""

    def __init__(self, engine: sa.Engine, wid: str, cfg: DeliveryConfig) -> None:
        self.engine, self.wid, self.cfg = engine, wid, cfg
        self.client = httpx.Client(timeout=httpx.Timeout(cfg.timeout), follow_redirects=False,
                                   limits=httpx.Limits(max_connections=cfg.concurrency))
        self.pool = ThreadPoolExecutor(max_workers=cfg.concurrency, thread_name_prefix=f"webhook-{wid[:8]}")

    def round(self, stop: threading.Event | None = None) -> Counts | None:
        """Send one batch of due heads; None when nothing was due. Once ``stop`` is set, heads not yet sent are
        handed back untouched."""
        hook, claimed = _claim(self.engine, self.wid, self.cfg)
        if not claimed:
            return None

        def send(item: tuple[Any, int]) -> str | None:
            if stop is not None and stop.is_set():
                return SKIPPED
            return _post(self.client, hook.url, hook.secret, item[0])

        errors = list(self.pool.map(send, claimed))
        results = [(row["seq"], n, err) for (row, n), err in zip(claimed, errors, strict=True)]
        # The POSTs are done: try hard to record them, or the lease runs out and they are all sent again.
        for wait in (0.1, 0.5, 1.0, 2.0, 4.0):
            try:
                return _mark(self.engine, self.wid, results, self.cfg)
            except sa.exc.DBAPIError as exc:  # rolled back as a whole; the status guard makes a retry safe
                log.warning("webhook %s: recording %d results failed, retrying: %s", self.wid, len(results), exc)
                time.sleep(wait)
        return _mark(self.engine, self.wid, results, self.cfg)

    def drain(self, stop: threading.Event, deadline: float | None = None) -> Counts:
        """Rounds until nothing is due (waiting out short backoffs up to ``idle_exit``), a stop or the deadline."""
        total, idle_since = Counts(), time.monotonic()
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                got = self.round(stop)
            except sa.exc.DBAPIError as exc:  # the store restarting: back off, the lease protects claimed heads
                log.warning("webhook %s: store error: %s", self.wid, exc)
                got = None
            if got is not None:
                total.add(got)
                idle_since = time.monotonic()
                continue
            if time.monotonic() - idle_since >= self.cfg.idle_exit:
                break
            stop.wait(min(self.cfg.poll, self.cfg.idle_exit))
        return total

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.client.close()


def _with_due_work(engine: sa.Engine, ids: list[str] | None = None) -> list[str]:
    q = (sa.select(deliveries.c.webhook_id).join(webhooks, webhooks.c.id == deliveries.c.webhook_id)
         .where(deliveries.c.status == "PENDING", deliveries.c.next_attempt_at <= now(), webhooks.c.enabled)
         .distinct())
    if ids is not None:
        q = q.where(deliveries.c.webhook_id.in_(ids))
    with engine.connect() as conn:
        return [w for (w,) in conn.execute(q)]


def deliver_once(engine: sa.Engine, cfg: DeliveryConfig, watermark: Watermark | None = None,
                 webhook_ids: list[str] | None = None, max_seconds: float = 60.0) -> Counts:
    """Fan out, then drain every webhook with due work, all webhooks at once; bounded by ``max_seconds``."""
    counts = Counts()
    counts.fanned_out = fan_out(engine, watermark or Watermark())
    wids = _with_due_work(engine, webhook_ids)
    if not wids:
        return counts
    stop, deadline = threading.Event(), time.monotonic() + max_seconds
    lanes = [Lane(engine, w, cfg) for w in wids]
    try:
        with ThreadPoolExecutor(max_workers=min(len(lanes), 32)) as ex:
            for got in ex.map(lambda lane: lane.drain(stop, deadline), lanes):
                counts.add(got)
    finally:
        for lane in lanes:
            lane.close()
    return counts


def handle(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Job handler (kind ``deliver``): one bounded delivery pass. Payload: optional ``webhookIds``, ``maxSeconds``
    and DeliveryConfig fields (``base``, ``cap``, ``max_attempts``, ``timeout``, ...). Idempotent: a rerun only
    finds what is still due."""
    cfg = DeliveryConfig.from_payload(payload)
    counts = deliver_once(ctx.engine, cfg, _watermark_for(ctx.engine), payload.get("webhookIds"),
                          float(payload.get("maxSeconds", 60.0)))
    return counts.as_dict()


_WATERMARKS: dict[int, Watermark] = {}
_WM_LOCK = threading.Lock()


def _watermark_for(engine: sa.Engine) -> Watermark:
    # Gap sightings must survive between job runs of one process to ever become final.
    with _WM_LOCK:
        return _WATERMARKS.setdefault(id(engine), Watermark())


def prune(engine: sa.Engine, keep_days: float) -> int:
    """Forget DELIVERED rows older than ``keep_days``: the delivery log stays bounded, and so does the per-round
    head query, which reads a webhook's deliveries through an index without the status."""
    cutoff = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=keep_days))
    with engine.begin() as conn:
        return int(conn.execute(deliveries.delete().where(deliveries.c.status == "DELIVERED",
                                                          deliveries.c.delivered_at < cutoff)).rowcount)


def run_forever(engine: sa.Engine, stop: threading.Event, cfg: DeliveryConfig | None = None) -> Counts:
    """The server's delivery loop: fan out every ``poll`` seconds and keep one lane thread per webhook with due
    work. Returns the totals once ``stop`` is set and the lanes have finished their current round."""
    cfg = cfg or DeliveryConfig()
    watermark, total = _watermark_for(engine), Counts()
    running: dict[str, threading.Thread] = {}
    next_prune = 0.0

    def lane_main(wid: str) -> None:
        lane = Lane(engine, wid, cfg)
        try:
            total.add(lane.drain(stop))
        except Exception:
            log.exception("webhook %s: delivery lane failed", wid)
        finally:
            lane.close()

    while not stop.is_set():
        try:
            if time.monotonic() >= next_prune:
                prune(engine, cfg.keep_delivered_days)
                next_prune = time.monotonic() + 3600
            total.fanned_out += fan_out(engine, watermark)
            due = _with_due_work(engine)
        except sa.exc.DBAPIError as exc:
            log.warning("event delivery: store error: %s", exc)
            due = []
        except Exception:  # a bug must not end delivery for good: log it and try again next round
            log.exception("event delivery: fan-out failed")
            due = []
        for wid in due:
            t = running.get(wid)
            if t is None or not t.is_alive():
                running[wid] = t = threading.Thread(target=lane_main, args=(wid,), name=f"webhook-{wid[:8]}",
                                                    daemon=True)
                t.start()
        stop.wait(cfg.poll)
    for t in running.values():
        t.join()
    return total


def start(engine: sa.Engine, cfg: DeliveryConfig | None = None) -> tuple[threading.Thread, threading.Event]:
    """Run ``run_forever`` in a daemon thread; set the event to stop it (then join the thread)."""
    stop = threading.Event()
    t = threading.Thread(target=run_forever, args=(engine, stop, cfg), name="webhook-delivery", daemon=True)
    t.start()
    return t, stop
