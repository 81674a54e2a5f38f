"""Security headers (api/headers.py) on every kind of response, and the two pages the app renders,
/review and /docs, still working in headless Chromium under that policy."""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))  # the API tests' helpers
from api_helpers import hdr, memory_app  # noqa: E402
from live_server import serve_in_thread  # noqa: E402

from creditgraph.api.headers import inline_hashes  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    """The API over the embedded store: .client and .keys by role."""
    from fastapi.testclient import TestClient
    app, _, keys = memory_app(tmp_path_factory.mktemp("headers"))
    with TestClient(app) as client:
        yield SimpleNamespace(client=client, keys=keys)


def directives(csp: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}


def check_common(r) -> dict[str, list[str]]:
    policy = directives(r.headers["content-security-policy"])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["default-src"] == ["'none'"]
    for d in ("script-src", "style-src"):
        assert policy[d][0] == "'self'" and "'unsafe-inline'" not in policy[d]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    return policy


@pytest.mark.parametrize("path,role,status", [
    ("/entities/E-0001", "investigator", 200),
    ("/search/name?q=张伟", "service", 200),
    ("/entities/P-0003/related", "investigator", 200),
    ("/entities/E-0001", None, 401),                     # no key
    ("/entities/E-9999", "investigator", 404),           # the query layer's error
    ("/search/name?q=鑫达&limit=1000", "service", 422),  # a bound
    ("/review/queue", "service", 403),                   # the wrong role
    ("/no/such/route", None, 404),
])
def test_data_and_error_responses(api, path, role, status):
    r = api.client.get(path, headers=hdr(api.keys[role] if role else None))
    assert r.status_code == status
    policy = check_common(r)
    assert r.headers["cache-control"] == "no-store"
    assert not any(h.startswith("'sha256-") for d in policy.values() for h in d)  # hashes only on the pages


@pytest.mark.parametrize("path", ["/review", "/docs"])
def test_pages_carry_the_hashes_of_their_inline_blocks(api, path):
    r = api.client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    policy = check_common(r)
    scripts, styles = inline_hashes(r.text, "script"), inline_hashes(r.text, "style")
    assert scripts, "each page starts itself with an inline script"
    assert [f"'{h}'" for h in scripts] == policy["script-src"][1:]
    assert [f"'{h}'" for h in styles] == policy["style-src"][1:]
    assert not re.search(r"<[a-z][^>]*\sstyle\s*=", r.text, re.I)  # style attributes would be refused
    assert r.headers["cache-control"] == "no-store"


def test_static_assets_stay_cacheable(api):
    docs = api.client.get("/docs").text
    css = re.search(r'href="([^"]+\.css)"', docs).group(1)
    r = api.client.get(css)
    assert r.status_code == 200
    check_common(r)
    assert "no-store" not in r.headers.get("cache-control", "")


def test_inline_hashes_are_what_chromium_hashes():
    # the sha256 of `alert(1)` as CSP writes it (base64 of the digest of the text between the tags)
    page = '<script src="/x.js"></script><script>alert(1)</script><style>b{}</style>'
    assert inline_hashes(page, "script") == ["sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI="]
    assert len(inline_hashes(page, "style")) == 1


# --- in Chromium ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    app, settings, keys = memory_app(tmp_path_factory.mktemp("csp"))
    with serve_in_thread(app) as base:
        yield base, keys


@pytest.fixture()
def page():
    if not os.path.exists(CHROMIUM):
        pytest.skip("apt-get install chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        try:
            pg = browser.new_page(viewport={"width": 1200, "height": 800})
            pg.console_lines = []
            pg.on("console", lambda m: pg.console_lines.append(f"{m.type}: {m.text}"))
            pg.add_init_script("window.__violations = [];"
                               "document.addEventListener('securitypolicyviolation',"
                               " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));")
            yield pg
        finally:
            browser.close()


def assert_no_violation(page):
    assert page.evaluate("window.__violations") == []
    assert not [line for line in page.console_lines if "Content Security Policy" in line], page.console_lines


@pytest.mark.browser
def test_review_page_runs_under_the_policy(live, page):
    from playwright.sync_api import expect
    base, keys = live
    page.goto(base + "/review")
    # the inline style applied: the header's dark background
    assert page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor") == "rgb(29, 35, 48)"
    assert page.eval_on_selector("#count", "e => getComputedStyle(e).marginLeft") != "0px"
    page.fill("#key", keys["steward"])
    page.click("#load")  # the inline script runs: it fetches the queue and renders it
    expect(page.locator("section.pair").first).to_be_visible()
    expect(page.locator("#count")).to_contain_text("pending of")
    assert_no_violation(page)


@pytest.mark.browser
def test_docs_render_under_the_policy(live, page):
    from playwright.sync_api import expect
    base, _ = live
    page.goto(base + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("creditgraph")
    expect(page.locator(".opblock-summary-path", has_text="/search/name")).to_be_visible()
    assert_no_violation(page)
