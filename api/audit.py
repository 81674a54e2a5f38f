"""The audit trail of data requests: hash-chained JSON lines at settings.audit_path.

The credit reporting regulation asks that every query of a person's data record who asked,
when, what and why. One line per request (not /health, /docs, /openapi.json, /static, /review):

    {"seq": 42, "prev": "<sha256 of line 41>", "when": "2024-05-01T08:00:00.123+00:00",
     "who": "bank-a", "roles": ["service"], "method": "GET", "endpoint": "/entities/{entity_id}",
     "params": {"entity_id": "E-..."}, "purpose": "tender 2024-117", "status": 200, "ms": 3.2,
     "client": "10.0.0.9", "returned": ["E-...", "P-..."]}

- `seq` counts 1, 2, 3... across all files; `prev` is the sha256 (hex) of the previous line's
  bytes without its newline (`GENESIS` before the first). An edited, removed or cut line breaks
  the chain where it was: `verify` (`creditgraph audit verify`) names file and line.
- `when` is when the line was written (the response was ready), UTC; `ms` how long the request
  took. `purpose` is the X-Purpose that api.deps checked; `returned` every entity id in the
  response body; what a route adds through `request.state.audit_extra` (a search's masked number
  and hit or miss); `via` the proxy when the client address came from X-Forwarded-For (believed
  only from CREDITGRAPH_TRUSTED_PROXIES). Identity numbers are masked (privacy.scrub) in the
  path, parameters and purpose; without a valid key only the route (or 200 characters of the
  path) is written, and such callers are rate-limited per address (429, Retry-After).
- Written BEFORE the response leaves, and fsynced: `AuditMiddleware` holds the response until
  its line is on disk; a line that cannot be written turns the response into a 503.
- Files beside audit.jsonl: `audit-YYYYMMDD-N.jsonl` (rotated by size, the chain runs on),
  `audit.head` (the last seq and hash written: a deleted file or lost lines show against it),
  `audit.lock` (fcntl.flock around read-tail + append + fsync, for every server process).
"""
from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import json
import logging
import math
import os
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import parse_qsl

from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from creditgraph.api.masking import set_clear_ids
from creditgraph.api.ratelimit import TokenBuckets
from creditgraph.base.files import fsync_dir, private_dir
from creditgraph.base.privacy import scrub, scrub_any

log = logging.getLogger("creditgraph.api.audit")

# Paths that are not data requests: not audited, no purpose needed.
UNAUDITED_PREFIXES = ("/health", "/docs", "/redoc", "/openapi.json", "/static", "/favicon.ico")
UNAUDITED_EXACT = ("/review", "/review/")

GENESIS = "0" * 64
MAX_BYTES = 64 << 20  # audit.jsonl is rotated beyond this (CREDITGRAPH_AUDIT_MAX_BYTES)
MAX_TEXT = 200        # characters kept of a path, a parameter name or value
MAX_PARAMS = 20       # parameters kept per request
# what requests without a valid key may make the trail grow by, per client address: a burst,
# then a rate (a bounded line is ~300 bytes: some 800 at once, then 3 a second); beyond it, 429
UNAUTH_BURST_BYTES, UNAUTH_BYTES_PER_S = 256 << 10, 1 << 10
LINK_BYTES = 110      # what the chain adds to a record: seq, prev, when
HEAD_BYTES = 128      # audit.head: {"seq": ..., "hash": ...} padded with spaces
BLOCK = 64 << 10      # read size when reading the trail backwards
SCAN_BUDGET = 200_000  # lines one /audit call reads at most; the cursor continues from there
ROTATED = re.compile(r"^(?P<stem>.+)-(?P<day>\d{8})-(?P<n>\d+)\.jsonl$")
# entity ids in a JSON response: the value of these keys, outside any string (after { or ,)
RETURNED_RE = re.compile(rb'[{,]\s*"(?:entity_id|from_id|to_id|left_entity|right_entity)"\s*:\s*"([^"\\]{1,64})"')


def is_audited(path: str) -> bool:
    return not (path in UNAUDITED_EXACT or path == "/" or path.startswith(UNAUDITED_PREFIXES))


# --- the chain on disk ---------------------------------------------------------------------------

def line_hash(line: bytes) -> str:
    return hashlib.sha256(line.rstrip(b"\n")).hexdigest()


@dataclass(frozen=True)
class Tail:
    """The chain's last link (seq and line hash), and audit.jsonl's inode and size when this
    process last wrote it: unchanged, nobody else wrote since."""
    seq: int
    hash: str
    ino: int = 0
    size: int = 0


def trail_files(path: Path) -> list[Path]:
    """The trail's files in chain order: rotated ones oldest first, then the live one."""
    rotated = []
    for p in path.parent.glob(f"{path.stem}-*.jsonl"):
        m = ROTATED.match(p.name)
        if m and m["stem"] == path.stem:
            rotated.append(((m["day"], int(m["n"])), p))
    return [p for _, p in sorted(rotated)] + ([path] if path.exists() else [])


def head_path(path: Path) -> Path:
    return path.with_suffix(".head")


def read_head(path: Path) -> dict | None:
    """{"seq", "hash"} of the last line written, or None when there is no (readable) head."""
    try:
        head = json.loads(head_path(path).read_text(encoding="utf-8"))
        return head if isinstance(head, dict) and isinstance(head.get("seq"), int) else None
    except (OSError, ValueError):
        return None


def parse_line(line: bytes) -> dict | None:
    """A chained line's record; None for a torn, unreadable or unchained line."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    return rec if isinstance(rec, dict) and isinstance(rec.get("seq"), int) else None


def lines_backward(f, end: int, block: int = BLOCK) -> Iterator[bytes]:
    """The lines before byte `end`, last first, read in blocks (never the whole file)."""
    pos, rest = end, b""
    while pos > 0:
        step = min(block, pos)
        pos -= step
        f.seek(pos)
        lines = (f.read(step) + rest).split(b"\n")
        rest = lines.pop(0)
        yield from (x for x in reversed(lines) if x)
    if rest:
        yield rest


def _line_start(f, pos: int) -> int:
    """The first line start at or after `pos`; the file is left there."""
    f.seek(max(pos - 1, 0))
    if pos > 0:
        f.readline()
    return f.tell()


def first_line_where(f, size: int, pred: Callable[[dict], bool]) -> int:
    """Offset of the first line for which `pred` holds, in a file ordered so that it holds from
    some line on (seq, time); `size` when it never does. O(log size) short reads."""
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        start = _line_start(f, mid)
        rec = parse_line(f.readline()) if start < size else None
        if start >= size or (rec is not None and pred(rec)):
            hi = mid
        else:
            lo = mid + 1
    return _line_start(f, lo)


def when_of(rec: dict) -> datetime:
    try:
        return aware(datetime.fromisoformat(str(rec.get("when"))))
    except ValueError:
        return datetime.min.replace(tzinfo=timezone.utc)


def aware(t: datetime) -> datetime:
    """A time without a zone is UTC."""
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


@contextmanager
def _flock(path: Path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


class _Job:
    __slots__ = ("record", "line", "error", "done")

    def __init__(self, record: dict):
        self.record, self.line, self.error, self.done = record, None, None, False


class AuditTrail:
    """The writer (one per process, thread-safe) and reader of the chained trail at `path`."""

    def __init__(self, path: Path, max_bytes: int | None = None):
        self.path = Path(path)
        self.max_bytes = max_bytes or int(os.environ.get("CREDITGRAPH_AUDIT_MAX_BYTES") or MAX_BYTES)
        self._queue: list[_Job] = []
        self._queue_lock = threading.Lock()
        self._commit_lock = threading.Lock()
        self._tail: Tail | None = None

    # --- writing ---

    def append(self, record: dict) -> dict:
        """Write `record` as the chain's next line and fsync it; return the line as written.
        Threads that append while a write is under way share the next write and fsync (group
        commit). OSError when the line cannot be written."""
        job = _Job(record)
        with self._queue_lock:
            self._queue.append(job)
        with self._commit_lock:
            if not job.done:
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:
                    lines, error = self._commit([j.record for j in batch]), None
                except Exception as e:  # every request of the batch must hear of it
                    lines, error = [None] * len(batch), e
                for j, line in zip(batch, lines):
                    j.line, j.error, j.done = line, error, True
        if job.error is not None:
            raise OSError(f"audit trail {self.path}: {job.error}") from job.error
        return job.line

    def resume(self) -> None:
        """At start-up: find where the chain stands, and report (log and trail) lines that have
        gone missing since the last line was written."""
        try:
            with self._commit_lock:
                self._commit([])
        except OSError as e:
            log.error("audit trail %s cannot be written (%s): data requests will be refused (503)", self.path, e)

    def _commit(self, records: list[dict]) -> list[dict]:
        private_dir(self.path.parent)
        with _flock(self.path.with_suffix(".lock")):
            tail, torn, events = self._find_tail()
            if tail.size >= self.max_bytes:
                tail, torn = self._rotate(tail), False
            if not (events or records):
                self._tail = tail
                return []
            written, lines, seq, prev = [], [], tail.seq, tail.hash
            when = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            for rec in events + records:
                seq += 1
                full = {"seq": seq, "prev": prev, "when": when, **rec}
                line = json.dumps(full, ensure_ascii=False, separators=(",", ":"), default=str).encode()
                prev = line_hash(line)
                lines.append(line)
                written.append(full)
            # a torn last line (a crash mid-write) stays on its own line; verify reports it
            st = self._write((b"\n" if torn else b"") + b"\n".join(lines) + b"\n")
            self._tail = Tail(seq, prev, st.st_ino, st.st_size)
            self._write_head(self._tail)
        return written[len(events):]

    def _write(self, data: bytes) -> os.stat_result:
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
            st = os.fstat(fd)
        finally:
            os.close(fd)
        if created:
            fsync_dir(self.path.parent)
        return st

    def _write_head(self, tail: Tail) -> None:
        """The chain head beside the trail, overwritten in place (one small write of a fixed
        size: no rename on every request). Written after the fsync of the lines it names, not
        itself fsynced: after a power loss it may lag behind the file, never run ahead."""
        head = json.dumps({"seq": tail.seq, "hash": tail.hash}).ljust(HEAD_BYTES).encode()
        fd = os.open(head_path(self.path), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, head, 0)
        finally:
            os.close(fd)

    def _find_tail(self) -> tuple[Tail, bool, list[dict]]:
        """(where the chain stands, whether audit.jsonl ends mid-line, event lines to write
        first). Called under the lock."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            st = None
        if self._tail and st and (st.st_ino, st.st_size) == (self._tail.ino, self._tail.size):
            return self._tail, False, []  # nobody wrote since this process did
        torn = bool(st and st.st_size) and self._last_byte() != b"\n"
        found, head = self._last_link(), read_head(self.path)
        here = Tail(found.seq, found.hash, st.st_ino if st else 0, st.st_size if st else 0) if found else \
            Tail(0, GENESIS, st.st_ino if st else 0, st.st_size if st else 0)
        if head is None or here.seq > head["seq"] or (here.seq, here.hash) == (head["seq"], head.get("hash")):
            return here, torn, []
        # the head vouches for lines the files no longer hold: say so loudly, and go on from the
        # head, so that the gap stays in the chain for verify to show
        have = f"the trail ends at seq {here.seq}" if here.seq else "no line of it is left"
        log.error("AUDIT TRAIL DAMAGED: %s: the chain head %s records seq %d, but %s (deleted, renamed, "
                  "truncated or edited?); the chain goes on from the head; run `creditgraph audit verify`",
                  self.path, head_path(self.path), head["seq"], have)
        event = {"event": "lines missing", "detail": f"the head recorded seq {head['seq']}; {have}"}
        return Tail(head["seq"], str(head.get("hash")), here.ino, here.size), torn, [event]

    def _last_byte(self) -> bytes:
        with open(self.path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            return f.read(1)

    def _last_link(self) -> Tail | None:
        """The last chained line of the newest file that has one."""
        for path in reversed(trail_files(self.path)):
            with open(path, "rb") as f:
                for line in lines_backward(f, f.seek(0, os.SEEK_END), block=4096):  # a line or two
                    rec = parse_line(line)
                    if rec is not None:
                        return Tail(rec["seq"], line_hash(line))
        return None

    def _rotate(self, tail: Tail) -> Tail:
        day = datetime.now(timezone.utc).strftime("%Y%m%d")
        taken = [int(m["n"]) for p in self.path.parent.glob(f"{self.path.stem}-{day}-*.jsonl")
                 if (m := ROTATED.match(p.name))]
        os.rename(self.path, self.path.with_name(f"{self.path.stem}-{day}-{max(taken, default=0) + 1}.jsonl"))
        fsync_dir(self.path.parent)
        return Tail(tail.seq, tail.hash)

    # --- reading ---

    def page(self, *, match: Callable[[dict], bool] = lambda rec: True, before: int | None = None,
             since: datetime | None = None, until: datetime | None = None, limit: int = 100,
             budget: int = SCAN_BUDGET) -> tuple[list[dict], int | None]:
        """Entries newest first with seq < before and since <= when < until, at most `limit`
        of those `match` accepts, and the cursor (`before`) for the next, older page: None when
        the start of the trail or `since` was reached. Each file is read backwards from the
        end, from where a binary search on seq and time puts `before` and `until`."""
        hits, scanned = [], 0
        for path in reversed(trail_files(self.path)):
            with open(path, "rb") as f:
                end = f.seek(0, os.SEEK_END)
                if before is not None:
                    end = min(end, first_line_where(f, end, lambda r: r["seq"] >= before))
                if until is not None:
                    end = min(end, first_line_where(f, end, lambda r: when_of(r) >= until))
                for line in lines_backward(f, end):
                    rec = parse_line(line)
                    if rec is None:
                        continue
                    if since is not None and when_of(rec) < since:
                        return hits, None
                    scanned += 1
                    if match(rec):
                        hits.append(rec)
                        if len(hits) == limit:
                            return hits, rec["seq"]
                    if scanned >= budget:
                        return hits, rec["seq"]
        return hits, None


# --- verify ------------------------------------------------------------------------------------

def verify(path: Path) -> tuple[list[str], str]:
    """(problems, summary) of the trail at `path` (audit.jsonl and its rotated files): each
    problem names file:line (a torn or unreadable line, a gap in seq, a broken link) or the
    head (lines it records that are gone). No problems: the trail is intact."""
    path = Path(path)
    files, head = trail_files(path), read_head(path)
    if not files and head is None:
        return [f"no audit trail at {path}"], ""
    problems, seq, prev, where, count = [], 0, GENESIS, "the start of the trail", 0
    for file in files:
        with open(file, "rb") as f:
            for n, raw in enumerate(f, 1):
                loc, rec = f"{file}:{n}", parse_line(raw)
                if not raw.endswith(b"\n"):
                    problems.append(f"{loc}: truncated: the line has no end (a torn write or a cut file)")
                    continue
                if rec is None:
                    problems.append(f"{loc}: unreadable: not a chained JSON line")
                    continue
                count += 1
                problems += _link_problems(loc, rec, seq, prev, where)
                seq, prev, where = rec["seq"], line_hash(raw), loc
    problems += _head_problems(path, head, seq, prev, where)
    return problems, f"{count} lines in {len(files)} file(s), seq 1..{seq}"


def _missing(n: int) -> str:
    return f"{n} line{'s' * (n > 1)} missing"


def _link_problems(loc: str, rec: dict, seq: int, prev: str, where: str) -> list[str]:
    if rec["seq"] > seq + 1:
        return [f"{loc}: gap: seq {rec['seq']} follows seq {seq} ({_missing(rec['seq'] - seq - 1)})"]
    if rec["seq"] != seq + 1:
        return [f"{loc}: gap: seq {rec['seq']} follows seq {seq} (the sequence goes back)"]
    if rec.get("prev") != prev:
        return [f"{loc}: broken link: prev is not the hash of {where} (one of the two lines was changed)"]
    return []


def _head_problems(path: Path, head: dict | None, seq: int, prev: str, where: str) -> list[str]:
    if head is None:
        return [f"{head_path(path)}: missing: lines cut from the end would not show"]
    if head["seq"] > seq:
        return [f"{path}: truncated: the head records seq {head['seq']}, the trail ends at seq {seq} "
                f"({_missing(head['seq'] - seq)})"]
    if head["seq"] == seq and head.get("hash") != prev:
        return [f"{where}: changed: the last line is not the one the head recorded"]
    return []


# --- the middleware ------------------------------------------------------------------------------

def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}…(+{len(text) - MAX_TEXT})"


def _bounded(value):
    """Masked first (a number cut in two would escape the mask), then cut."""
    value = scrub_any(value)
    if isinstance(value, list):
        return [_cut(str(v)) for v in value[:MAX_PARAMS]]
    return _cut(str(value))


def request_params(scope: dict) -> dict:
    """Path, route-given (a decision's pair and verdict) and query parameters, in that order,
    masked and bounded."""
    query: dict = {}
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        query.setdefault(k, []).append(v)
    params = {**(scope.get("path_params") or {}), **((scope.get("state") or {}).get("audit_params") or {})}
    params.update((k, v[0] if len(v) == 1 else v) for k, v in query.items() if k not in params)
    return {_cut(scrub(str(k))): _bounded(v) for k, v in list(params.items())[:MAX_PARAMS]}


def returned_ids(body: bytes) -> list[str]:
    return list(dict.fromkeys(m.decode("utf-8", "replace") for m in RETURNED_RE.findall(body)))


def trusted_networks(text: str) -> list:
    """CREDITGRAPH_TRUSTED_PROXIES: addresses or networks, comma-separated."""
    try:
        return [ipaddress.ip_network(x.strip(), strict=False) for x in text.split(",") if x.strip()]
    except ValueError as e:
        raise ValueError(f"CREDITGRAPH_TRUSTED_PROXIES: {e} (give addresses or networks, e.g. 10.0.0.0/8)") from None


def _is_in(address: str | None, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(scope: dict, proxies: list) -> tuple[str | None, str | None]:
    """(client, proxy): X-Forwarded-For counts only when the peer is a trusted proxy, and then
    its right-most hop that no trusted proxy vouches for is the client."""
    peer = (scope.get("client") or (None,))[0]
    if not _is_in(peer, proxies):
        return peer, None
    hops = [h.strip() for k, v in scope.get("headers", []) if k.lower() == b"x-forwarded-for"
            for h in v.decode("latin-1").split(",")]
    client = None
    for hop in reversed(hops):
        try:
            client = str(ipaddress.ip_address(hop))
        except ValueError:
            return peer, None  # garbage where an address should be: only the peer is known
        if not _is_in(client, proxies):
            break
    return (client, peer) if client else (peer, None)


async def _refuse(scope, receive, send, status: int, detail: str, retry_after: int) -> None:
    await JSONResponse({"detail": detail}, status, headers={"Retry-After": str(retry_after)})(scope, receive, send)


class AuditMiddleware:
    """Pure ASGI middleware (same task as the endpoint, so request.state is shared). It holds
    the response until the request's line is on disk: no byte of data leaves unaudited."""

    def __init__(self, app, trail: AuditTrail, trusted_proxies: str | None = None):
        self.app, self.trail = app, trail
        if trusted_proxies is None:
            trusted_proxies = os.environ.get("CREDITGRAPH_TRUSTED_PROXIES", "")
        self.proxies = trusted_networks(trusted_proxies)
        self.unauthenticated = TokenBuckets(UNAUTH_BURST_BYTES, UNAUTH_BYTES_PER_S * 60)  # bytes of trail
        trail.resume()

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_audited(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        set_clear_ids(False)  # every request starts masked
        started = time.perf_counter()
        scope.setdefault("state", {})  # request.state writes here (principal, purpose, audit_params)
        held: list[dict] = []

        async def hold(message):
            held.append(message)

        try:
            await self.app(scope, receive, hold)
        except Exception:
            await self._write(scope, self._record(scope, held, started))  # as a 500; the error goes on up
            raise
        record = self._record(scope, held, started)
        if record["who"] is None:
            cost = len(json.dumps(record, default=str)) + LINK_BYTES
            wait = math.ceil(self.unauthenticated.take(str(record["client"]), cost))
            if wait:
                await _refuse(scope, receive, send, 429, "too many requests without a valid API key from this "
                              f"address: retry in {wait} s, with a key", wait)
                return
        if not await self._write(scope, record):
            await _refuse(scope, receive, send, 503, "the audit trail cannot be written, so nothing is "
                          "served: retry later (operators: see the server log)", 30)
            return
        for message in held:
            await send(message)

    async def _write(self, scope, record: dict) -> bool:
        try:
            await run_in_threadpool(self.trail.append, record)
            return True
        except OSError as e:
            log.error("audit line not written, %s %s refused: %s", scope.get("method"), scope.get("path"), e)
            return False

    def _record(self, scope, held: list[dict], started: float) -> dict:
        state = scope["state"]
        principal = state.get("principal")
        status = next((m["status"] for m in held if m["type"] == "http.response.start"), 500)
        route = getattr(scope.get("route"), "path", None)
        client, via = client_address(scope, self.proxies)
        rec = {"who": principal.name if principal else None,
               "roles": sorted(r.value for r in principal.roles) if principal else [],
               "method": scope.get("method"), "endpoint": route or _cut(scrub(scope.get("path", ""))),
               # without a valid key: no query string, no parameters, no purpose (bounded lines)
               "params": request_params(scope) if principal else {},
               "purpose": scrub(state["purpose"]) if principal and state.get("purpose") else None,
               "status": status, "ms": round((time.perf_counter() - started) * 1000, 2), "client": client}
        if via:
            rec["via"] = via
        if principal and 200 <= status < 300 and route != "/audit":  # /audit would list the trail's ids
            rec["returned"] = returned_ids(b"".join(m.get("body", b"") for m in held
                                                    if m["type"] == "http.response.body"))
        if principal:  # what a route adds (request.state.audit_extra: a search's masked number and hit/miss)
            extra = list((state.get("audit_extra") or {}).items())[:MAX_PARAMS]
            rec.update((k, _bounded(v)) for k, v in extra if k not in rec)
        return rec
