"""A credit report in Debian's chromium (Playwright) against a live server, its PDF read back by
pypdf, and the same number giving the same bytes after the data changed."""
import csv
import io
import os
import shutil
from pathlib import Path

import httpx
import pytest

from api_helpers import hdr, memory_app
from live_server import serve_in_thread

CHROMIUM = "/usr/bin/chromium"
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")]
SCREENSHOT = Path("/tmp/creditgraph_credit_report.png")
AS_OF = "2024-01-01"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    app, settings, keys = memory_app(root)
    with serve_in_thread(app) as base:
        yield base, keys, app, root / "resolved_small"


def produce(base, key, entity_id="E-0012"):
    r = httpx.post(base + "/reports", json={"entity_id": entity_id, "as_of": AS_OF, "reference": "tender 2024-9"},
                   headers=hdr(key), timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def test_report_renders_in_chromium(live):
    from playwright.sync_api import expect, sync_playwright
    base, keys, _, _ = live
    report = produce(base, keys["service"])
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 900},
                                    extra_http_headers=hdr(keys["service"]))
            errors, console = [], []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.goto(base + report["html"])
            expect(page.locator("#number")).to_have_text(report["number"])
            expect(page.locator("#as-of")).to_have_text(AS_OF)
            expect(page.locator("#answer")).to_contain_text("REACHED")
            expect(page.locator("#subject")).to_contain_text("营口金桥电子科技有限公司")
            # the stylesheet applied under the page's content security policy
            assert page.locator("#answer").evaluate("e => getComputedStyle(e).borderTopStyle") == "solid"
            page.screenshot(path=str(SCREENSHOT), full_page=True)
        finally:
            browser.close()
    assert errors == [] and console == []


def test_pdf_text_and_same_bytes(live):
    from pypdf import PdfReader
    base, keys, _, _ = live
    report = produce(base, keys["service"])
    first = httpx.get(base + report["pdf"], headers=hdr(keys["service"]), timeout=60)
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(first.content)).pages)
    assert report["number"] in text and AS_OF in text and "REACHED: under joint discipline" in text
    again = httpx.get(base + report["pdf"], headers=hdr(keys["investigator"]), timeout=60)
    assert again.content == first.content


def test_same_number_same_bytes_after_the_data_changed(live, tmp_path):
    base, keys, app, resolved = live
    report = produce(base, keys["service"])
    html = httpx.get(base + report["html"], headers=hdr(keys["service"])).content
    changed = shutil.copytree(resolved, tmp_path / "changed")  # the court listing of E-0012's legal rep gone
    with open(resolved / "list_records.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["entity_id"] != "P-0007"]
    with open(changed / "list_records.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    app.state.store.load(changed)
    try:
        now = produce(base, keys["service"])
        assert now["reached"] is False  # the change shows in a new report...
        assert httpx.get(base + report["html"], headers=hdr(keys["service"])).content == html  # ...not in the old
    finally:
        app.state.store.load(resolved)
