"""Credit reports: numbered, stored as produced, served later as stored, as HTML and as PDF.

    Reports(settings).produce(credit, entity_id, as_of, reference, purpose, who, roles) -> meta
    Reports(settings).html(number) -> bytes      the page as it was produced
    Reports(settings).pdf(number) -> bytes       headless Chromium's print of that page

A report number is `CR-YYYYMMDD-NNNNNN` (UTC day of production, then the next free sequence
of that day). The number is claimed by creating `DATA/reports/<number>.html` exclusively
(O_EXCL), so two producers, even in two server processes, never share one; the page is
written and fsynced into it, then `<number>.json` (who, when, for what, the answer) is
written beside and fsynced: a report exists once its `.json` does. A producer that died in
between leaves a number that answers 404 and is never reused. The PDF is printed from the
stored page on its first request and stored (`<number>.pdf`, published with a no-clobber
link), so later requests get the same bytes. Files 0600 in a 0700 directory (base.files).

A report shows what the `service` role sees (docs/api.md, "Credit reports") and is rendered
with identity numbers masked whoever produces it, so every role that may read reports may
read any of them.
"""
from __future__ import annotations

import contextvars
import hashlib
import json
import os
import re
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from creditgraph.api.errors import NotFound
from creditgraph.api.masking import set_clear_ids
from creditgraph.base.files import fsync_dir, open_private, private_dir, write_private
from creditgraph.base.settings import Settings

if TYPE_CHECKING:
    from creditgraph.api.credit import Credit

TEMPLATES = Path(__file__).resolve().parent / "templates"
NUMBER = re.compile(r"^CR-(\d{8})-(\d{6})$")
MAX_PER_DAY = 999_999
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@lru_cache
def template():
    import jinja2  # on the first report, not at every server start
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    return env.get_template("credit_report.html")


def render_html(content: dict) -> str:
    return template().render(r=content)


def render_pdf(html: str, chromium: Path) -> bytes:
    """The page printed to A4 by headless Chromium (Playwright), scripts and network off."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(java_script_enabled=False, offline=True).new_page()
            page.set_content(html, wait_until="load")
            return page.pdf(format="A4", print_background=True,
                            margin={"top": "12mm", "bottom": "12mm", "left": "10mm", "right": "10mm"})
        finally:
            browser.close()


def _masked(fn, *args, **kwargs):
    """fn(...) with identity numbers masked, whatever the caller's role (in a copy of the
    context: the request's own setting is left as it was)."""
    def run():
        set_clear_ids(False)
        return fn(*args, **kwargs)
    return contextvars.copy_context().run(run)


class Reports:
    def __init__(self, settings: Settings):
        self.dir = settings.reports_path
        self.chromium = settings.chromium

    def _path(self, number: str, suffix: str) -> Path:
        if not NUMBER.match(number):
            raise NotFound(f"no report {number!r}: report numbers look like CR-20261202-000001")
        return self.dir / f"{number}.{suffix}"

    def _claim(self, created: datetime):
        """(number, the open .html file) for the next free number of the day."""
        day = created.strftime("%Y%m%d")
        private_dir(self.dir)
        taken = [int(m[2]) for p in self.dir.glob(f"CR-{day}-*.html") if (m := NUMBER.match(p.stem))]
        n = max(taken, default=0) + 1
        while n <= MAX_PER_DAY:
            number = f"CR-{day}-{n:06d}"
            try:
                return number, open_private(self.dir / f"{number}.html", "xb")
            except FileExistsError:  # another producer took it first
                n += 1
        raise RuntimeError(f"more than {MAX_PER_DAY} credit reports on {day}")

    def produce(self, credit: "Credit", entity_id: str, as_of: str, *, reference: str, purpose: str,
                who: str, roles: list[str]) -> dict:
        """Produce, number and store a report; returns its meta record."""
        created = datetime.now(timezone.utc)
        content = _masked(lambda: credit.report_content(
            entity_id, as_of, number="", created=created.isoformat(timespec="seconds"), reference=reference,
            purpose=purpose, produced_by=who).model_dump(mode="json"))  # built before a number is taken
        number, f = self._claim(created)
        content["number"] = number
        page = render_html(content).encode("utf-8")
        with f:
            f.write(page)
            f.flush()
            os.fsync(f.fileno())
        meta = {"number": number, "entity_id": entity_id, "as_of": as_of, "created": content["created"],
                "reference": reference, "purpose": purpose, "produced_by": who, "roles": roles,
                "reached": content["reverse"]["reached"], "html_sha256": hashlib.sha256(page).hexdigest()}
        with write_private(self.dir / f"{number}.json", encoding="utf-8") as out:
            out.write(json.dumps(meta, ensure_ascii=False, indent=1))
            out.flush()
            os.fsync(out.fileno())
        fsync_dir(self.dir)
        return meta

    def meta(self, number: str) -> dict:
        path = self._path(number, "json")
        if not path.is_file():
            raise NotFound(f"no report {number!r}: take the number POST /reports answered")
        return json.loads(path.read_text(encoding="utf-8"))

    def html(self, number: str) -> bytes:
        self.meta(number)
        return self._path(number, "html").read_bytes()

    def pdf(self, number: str) -> bytes:
        """The stored PDF; printed from the stored page and stored on the first request."""
        path = self._path(number, "pdf")
        if not path.is_file():
            pdf = render_pdf(self.html(number).decode("utf-8"), self.chromium)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{id(pdf)}.tmp")
            with open_private(tmp, "wb") as f:
                f.write(pdf)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # no clobber: a PDF printed meanwhile by another request stays
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
            fsync_dir(self.dir)
        return path.read_bytes()


def produce_offline(resolved_dir: Path | None, neo4j_uri: str | None, settings: Settings, entity_id: str,
                    as_of: str, *, reference: str, purpose: str, who: str) -> dict:
    """`creditgraph report`: a report produced without the server (the store as `serve` opens
    it), audited as the API audits one, before its number is given out."""
    from creditgraph.api.app import build_store
    from creditgraph.api.audit import AuditTrail
    from creditgraph.api.credit import Credit
    from creditgraph.api.queries import Queries
    from creditgraph.base.privacy import scrub
    store = build_store(resolved_dir, neo4j_uri, settings=settings)
    try:
        meta = Reports(settings).produce(Credit(Queries(store, resolved_dir, settings)), entity_id, as_of,
                                         reference=reference, purpose=purpose, who=who, roles=["cli"])
    finally:
        store.close()
    AuditTrail(settings.audit_path).append({
        "who": who, "roles": ["cli"], "method": "CLI", "endpoint": "creditgraph report",
        "params": {"entity_id": entity_id, "as_of": as_of, "reference": scrub(reference)},
        "purpose": scrub(purpose), "status": 201, "client": "cli", "returned": [entity_id],
        "report": meta["number"], "reached": meta["reached"]})
    return meta
