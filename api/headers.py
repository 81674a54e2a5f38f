"""Security headers on every response (a pure ASGI middleware, registered in api/app.py).

* ``Content-Security-Policy``: scripts, styles, images, fonts and requests from this origin
  only; no inline script or style, no plugins, no framing (``frame-ancestors 'none'``),
  ``<base>`` and form targets pinned. The two pages the app renders itself keep inline blocks:
  /review (the stewards' page, one file) and /docs (FastAPI starts Swagger UI with an inline
  script). Their policy adds the sha256 of each inline ``<script>``/``<style>`` block of the
  page as served. Neither page holds request data, so this hashes the app's own text, and any
  other page gets the policy without hashes. Credit reports (/reports/{number}.html) are
  hashed too: their one inline block is the template's stylesheet, and the data in them is
  escaped by the template (api/reports.py), so no inline block of theirs comes from the data.
* ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer``.
* ``Cache-Control: no-store`` on everything but the static assets under /static/ (Swagger UI,
  Neo4j Browser's files): every data response names persons or firms.
"""
from __future__ import annotations

import base64
import hashlib
import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

POLICY = {
    "default-src": "'none'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",   # Swagger UI's icons are data: URIs in its CSS
    "font-src": "'self'",
    "connect-src": "'self'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HASHED_PAGES = ("/review", "/docs")
REPORT_PAGE = re.compile(r"^/reports/[^/]+\.html$")
STATIC_PREFIX = "/static/"
_INLINE = {kind: re.compile(rf"<{kind}(\s[^>]*)?>(.*?)</{kind}\s*>", re.S | re.I)
           for kind in ("script", "style")}


def policy(script_hashes: list[str] = (), style_hashes: list[str] = ()) -> str:
    extra = {"script-src": script_hashes, "style-src": style_hashes}
    return "; ".join(" ".join([k, v, *(f"'{h}'" for h in extra.get(k, ()))]) for k, v in POLICY.items())


def inline_hashes(html: str, kind: str) -> list[str]:
    """sha256-… of each inline <script> (without src) or <style> block, as CSP hashes them."""
    out = []
    for attrs, body in _INLINE[kind].findall(html):
        if kind == "script" and re.search(r"\bsrc\s*=", attrs or ""):
            continue
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        out.append(f"sha256-{digest}")
    return out


def _set(message: Message, path: str, csp: str) -> None:
    headers = MutableHeaders(scope=message)
    headers["Content-Security-Policy"] = csp
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if not path.startswith(STATIC_PREFIX):
        headers["Cache-Control"] = "no-store"


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.csp = policy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, root = scope["path"], scope.get("root_path", "")
        if root and path.startswith(root):  # behind a proxy's prefix
            path = path[len(root):]
        if path in HASHED_PAGES or REPORT_PAGE.match(path):
            await self._hashed(path, scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                _set(message, path, self.csp)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _hashed(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        """Hold the page until its body is complete, then send it with its hashes in the policy."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                body = b"".join(m.get("body", b"") for m in held[1:]).decode("utf-8", "replace")
                _set(held[0], path, policy(inline_hashes(body, "script"), inline_hashes(body, "style")))
                for m in held:
                    await send(m)

        await self.app(scope, receive, hold)
