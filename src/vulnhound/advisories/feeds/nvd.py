"""NVD CVE API 2.0 (paged, incremental by lastModified window) and the NVD JSON 2.0 feed files of the same shape.

Every CVSS metric (v2, v3.0, v3.1, v4.0; Primary and Secondary) is kept, re-scored from its vector, with
``Severity.source = "nvd:<source>:<Primary|Secondary>"``. CPE configurations go to ``cpe_configurations``
(stored, not matched). ``vulnStatus: Rejected`` sets ``withdrawn``. There is no ``affected``: NVD names products,
not packages.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from vulnhound.advisories.feeds.common import parse_when, score
from vulnhound.advisories.feeds.http import FetchError, RetryPolicy, Sleep, download
from vulnhound.advisories.feeds.interface import Feed, FetchResult, FetchState
from vulnhound.advisories.model import Advisory, ParsedItem, Reference, Reject, Severity

NAME = "nvd"
PAGE_SIZE = 2000  # the API maximum
MAX_WINDOW = timedelta(days=120)  # the API refuses longer lastModified ranges
_METRICS = (
    ("cvssMetricV40", "CVSS_V4"),
    ("cvssMetricV31", "CVSS_V3"),
    ("cvssMetricV30", "CVSS_V3"),
    ("cvssMetricV2", "CVSS_V2"),
)


def _english(items: Any) -> str | None:
    if not isinstance(items, list):
        return None
    texts = [d.get("value") for d in items if isinstance(d, dict) and d.get("lang") == "en"]
    return next((t.strip() for t in texts if isinstance(t, str) and t.strip()), None)


def parse_cve(cve: Any, location: str) -> list[ParsedItem]:
    """One NVD 2.0 ``cve`` object → [Advisory, Rejects for dropped ratings] or [Reject]."""
    if isinstance(cve, dict) and "CVE_data_meta" in cve:
        return [Reject(NAME, location, "NVD JSON 1.1 record (retired format; only 2.0 is read)")]
    if not isinstance(cve, dict) or not isinstance(cve.get("id"), str):
        return [Reject(NAME, location, "CVE record without id")]
    cid: str = cve["id"]
    where = f"{location}#{cid}"
    out: list[ParsedItem] = []
    severities: list[Severity] = []
    metrics: dict[str, Any] = cve["metrics"] if isinstance(cve.get("metrics"), dict) else {}
    for key, kind in _METRICS:
        for m in metrics.get(key) or []:
            data = m.get("cvssData") if isinstance(m, dict) else None
            vector = data.get("vectorString") if isinstance(data, dict) else None
            if not isinstance(vector, str):
                out.append(Reject(NAME, where, f"{key} entry without vectorString (rating dropped, record kept)"))
                continue
            src = f"nvd:{m.get('source', 'unknown')}:{m.get('type', 'Primary')}"
            scored = score(vector, src, NAME, where, kind)
            if isinstance(scored, Reject):
                out.append(scored)
            else:
                severities.append(scored)
    cwes: list[str] = []
    for w in cve.get("weaknesses") or []:
        for d in w.get("description") or [] if isinstance(w, dict) else []:
            value = d.get("value") if isinstance(d, dict) else None
            if isinstance(value, str) and value.startswith("CWE-") and value not in cwes:
                cwes.append(value)
    refs = tuple(
        Reference(r["url"], "ADVISORY" if "Vendor Advisory" in (r.get("tags") or []) else "WEB")
        for r in cve.get("references") or []
        if isinstance(r, dict) and isinstance(r.get("url"), str)
    )
    status = cve.get("vulnStatus")
    modified = parse_when(cve.get("lastModified"))
    configurations = cve.get("configurations") if isinstance(cve.get("configurations"), list) else None
    keep = ("sourceIdentifier", "vulnStatus", "cveTags", "evaluatorComment", "evaluatorSolution", "evaluatorImpact",
            "cisaExploitAdd", "cisaActionDue", "cisaRequiredAction", "cisaVulnerabilityName", "vendorComments")
    advisory = Advisory(
        id=cid,
        source=NAME,
        details=_english(cve.get("descriptions")),
        published=parse_when(cve.get("published")),
        modified=modified,
        withdrawn=modified if status == "Rejected" else None,
        references=refs,
        cwes=tuple(cwes),
        severities=tuple(severities),
        database_specific={k: cve[k] for k in keep if cve.get(k) not in (None, [], "")},
        cpe_configurations=[c for c in configurations or [] if isinstance(c, dict)],
    )
    return [advisory, *out]


def parse_document(doc: Any, location: str) -> Iterator[ParsedItem]:
    """An API page / feed file ({vulnerabilities: [{cve}]}), a ``{"cve": …}`` wrapper, or a bare cve object."""
    if isinstance(doc, dict) and isinstance(doc.get("vulnerabilities"), list):
        for i, item in enumerate(doc["vulnerabilities"]):
            cve = item.get("cve") if isinstance(item, dict) else None
            if cve is None:
                yield Reject(NAME, f"{location}#vulnerabilities[{i}]", "item without cve")
                continue
            yield from parse_cve(cve, location)
    elif isinstance(doc, dict) and isinstance(doc.get("cve"), dict):
        yield from parse_cve(doc["cve"], location)
    elif isinstance(doc, dict) and "descriptions" in doc and "id" in doc:
        yield from parse_cve(doc, location)
    else:
        yield Reject(NAME, location, "not an NVD 2.0 page, feed or CVE record")


def _read(path: Path) -> Any:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return json.loads(raw)


def _order(path: Path) -> tuple[int, str]:
    # Year feeds first, then "recent", then "modified", so the newest copy of a record comes last.
    name = path.name
    return (2 if "modified" in name else 1 if "recent" in name else 0, name)


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        head = fh.read(2)
        fh.seek(0)
        if head == b"\x1f\x8b":
            with gzip.open(fh) as gz:
                return gz.read(4096)
        return fh.read(4096)


def _is_nvd(path: Path) -> bool:
    try:
        head = _head(path)
    except (OSError, EOFError, gzip.BadGzipFile):
        return False
    # An API page or feed file names its format; a single record opens with {"cve": or {"id": "CVE-…".
    if b'"NVD_CVE"' in head:
        return True
    # OSV records also open with {"id": "CVE-…"}; NVD's carry its own fields.
    record = re.match(rb'\s*\{\s*("cve"\s*:|"id"\s*:\s*"CVE-)', head) is not None
    return record and (b'"sourceIdentifier"' in head or b'"vulnStatus"' in head)


def _stamp(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+00:00")


class NvdFeed(Feed):
    """The CVE API 2.0; the API key comes from ``NVD_API_KEY`` (sent in the ``apiKey`` header)."""

    name = NAME
    url = "https://services.nvd.nist.gov/rest/json/cves/2.0"

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        sleep: Sleep = time.sleep,
        page_size: int = PAGE_SIZE,
        now: datetime | None = None,
    ) -> None:
        self.url = url or type(self).url
        self.api_key = (api_key if api_key is not None else os.environ.get("NVD_API_KEY")) or None
        self.sleep = sleep
        self.page_size = page_size
        self.now = now

    @property
    def pause(self) -> float:
        """Seconds between requests: the public limits are 5 per 30 s without a key, 50 per 30 s with one."""
        return 0.6 if self.api_key else 6.0

    def windows(self, since: datetime | None, until: datetime) -> list[tuple[datetime, datetime] | None]:
        """lastModified windows of at most 120 days from ``since`` to ``until``; [None] means a full download."""
        if since is None:
            return [None]
        out: list[tuple[datetime, datetime] | None] = []
        start = since
        while start < until:
            end = min(start + MAX_WINDOW, until)
            out.append((start, end))
            start = end
        return out

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        started = self.now or datetime.now(UTC)
        since = parse_when(state.cursor) if state.cursor else None
        headers = {"apiKey": self.api_key} if self.api_key else {}
        policy = RetryPolicy(attempts=6, backoff=self.pause, statuses=frozenset({403, 429, 500, 502, 503, 504}))
        dest.mkdir(parents=True, exist_ok=True)
        total_bytes, records, requests = 0, 0, 0
        for w, window in enumerate(self.windows(since, started)):
            start_index = 0
            while True:
                params: dict[str, str | int] = {"resultsPerPage": self.page_size, "startIndex": start_index}
                if window is not None:
                    params["lastModStartDate"], params["lastModEndDate"] = _stamp(window[0]), _stamp(window[1])
                if requests:
                    self.sleep(self.pause)
                page = dest / f"page-{w:03d}-{start_index:08d}.json"
                got = download(client, self.url, page, params=params, headers=headers, policy=policy, sleep=self.sleep)
                requests += 1
                total_bytes += got.bytes_downloaded
                try:
                    doc = _read(page)
                    total = int(doc["totalResults"])
                    count = len(doc["vulnerabilities"])
                except (OSError, ValueError, KeyError, TypeError) as exc:
                    raise FetchError(self.url, f"bad API page at startIndex {start_index}: {exc}") from exc
                records += count
                start_index += count
                if count == 0 or start_index >= total:
                    if count == 0:
                        page.unlink()
                    break
        new_state = FetchState(cursor=_stamp(started), extra=state.extra)
        desc = f"{self.url}: {records} CVEs in {requests} requests since {state.cursor or 'the beginning'}"
        unchanged = records == 0 and since is not None
        return FetchResult(unchanged, None if unchanged else dest, new_state, total_bytes, desc)

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        if snapshot.is_file():
            files = [snapshot]
        else:
            # Feed files are taken by name too, so a truncated one is reported rather than skipped.
            files = sorted(
                (
                    p
                    for p in snapshot.rglob("*")
                    if p.name.endswith((".json", ".json.gz")) and (p.name.startswith("nvdcve-2.0-") or _is_nvd(p))
                ),
                key=_order,
            )
        for path in files:
            location = path.relative_to(snapshot).as_posix() if snapshot.is_dir() else path.name
            try:
                doc = _read(path)
            except (OSError, ValueError, EOFError, gzip.BadGzipFile) as exc:
                yield Reject(NAME, location, f"malformed JSON: {exc}")
                continue
            yield from parse_document(doc, location)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if path.is_file():
            return path.name.endswith((".json", ".json.gz")) and _is_nvd(path)
        if not path.is_dir():
            return False
        # Pages and feed files sit flat in a snapshot; look no deeper, so a corpus root is never claimed whole.
        candidates = (p for p in path.iterdir() if p.name.endswith((".json", ".json.gz")))
        return any(_is_nvd(p) for _, p in zip(range(20), candidates, strict=False))
