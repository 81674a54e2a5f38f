"""Append-only audit trail of data requests (JSON lines at settings.audit_path).

One line per request: when, who (key name, or null when no valid key was shown), roles,
method, endpoint (route template), parameters (identity numbers masked), purpose
(`X-Purpose`, percent-decoded), status code, duration. Written by `AuditMiddleware` after the
response status is known, so refused requests (401/403/400/422) are recorded too.
"""
from __future__ import annotations

import json
import os
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import parse_qsl, unquote

from creditgraph.api.masking import scrub_any, set_clear_ids

# Paths that are not data requests: not audited, no purpose needed.
UNAUDITED_PREFIXES = ("/health", "/docs", "/redoc", "/openapi.json", "/static", "/favicon.ico")
UNAUDITED_EXACT = ("/review", "/review/")

PURPOSE_HEADER = "x-purpose"
MAX_PURPOSE = 300


def decode_purpose(raw: str | None) -> str:
    """X-Purpose may be percent-encoded UTF-8 (HTTP headers are latin-1)."""
    return unquote(raw or "").strip()


class AuditTrail:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def append(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode("utf-8"))
            finally:
                os.close(fd)

    def read(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        out.append({"unreadable": line[:200]})
        return out

    def search(self, *, who=None, endpoint=None, status=None, since=None, until=None,
               purpose=None, limit=100) -> list[dict]:
        """Newest first; `endpoint` and `purpose` match as substrings, times as ISO prefixes."""
        hits = []
        for rec in reversed(self.read()):
            when = str(rec.get("when", ""))
            if who is not None and rec.get("who") != who:
                continue
            if endpoint and endpoint not in str(rec.get("endpoint", "")):
                continue
            if status is not None and rec.get("status") != status:
                continue
            if since and when < since:
                continue
            if until and when[: len(until)] > until:
                continue
            if purpose and purpose.lower() not in str(rec.get("purpose", "")).lower():
                continue
            hits.append(rec)
            if len(hits) >= limit:
                break
        return hits


def is_audited(path: str) -> bool:
    return not (path in UNAUDITED_EXACT or path == "/" or path.startswith(UNAUDITED_PREFIXES))


class AuditMiddleware:
    """Pure ASGI middleware (same task as the endpoint, so request.state is shared)."""

    def __init__(self, app, trail: AuditTrail):
        self.app = app
        self.trail = trail

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_audited(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        set_clear_ids(False)  # every request starts masked
        started = time.perf_counter()
        when = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        status = {"code": 500}
        scope.setdefault("state", {})  # request.state writes here (principal, audit_params)

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.trail.append(self._record(scope, when, status["code"], started))

    @staticmethod
    def _record(scope, when, status, started) -> dict:
        state = scope.get("state") or {}
        principal = state.get("principal")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        route = scope.get("route")
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        params: dict = {}
        for k, v in query:
            params.setdefault(k, []).append(v)
        params = {k: v[0] if len(v) == 1 else v for k, v in params.items()}
        params.update(scope.get("path_params") or {})
        params.update(state.get("audit_params") or {})  # e.g. a decision's pair and verdict
        return {
            "when": when,
            "who": principal.name if principal else None,
            "roles": sorted(r.value for r in principal.roles) if principal else [],
            "method": scope.get("method"),
            "endpoint": getattr(route, "path", None) or scope.get("path"),
            "params": scrub_any(params),
            "purpose": decode_purpose(headers.get(PURPOSE_HEADER))[:MAX_PURPOSE],
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 2),
            "client": (scope.get("client") or [None])[0],
        }
