"""/docs works without internet: Swagger UI's files come from the API itself (fastapi-offline's
wheel), checked in Debian's chromium with every request off loopback refused."""
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from api_helpers import memory_app
from live_server import serve_in_thread

CHROMIUM = "/usr/bin/chromium"
SCREENSHOT = Path("/tmp/creditgraph_docs_page.png")


@pytest.fixture(scope="module")
def docs_app(tmp_path_factory):
    return memory_app(tmp_path_factory.mktemp("docs"))[0]


def test_docs_page_names_only_local_assets(docs_app):
    client = TestClient(docs_app)
    page = client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/static/docs/") for a in assets), assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


@pytest.fixture(scope="module")
def live(docs_app):
    with serve_in_thread(docs_app) as base:
        yield base


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")
def test_docs_render_offline(live):
    from playwright.sync_api import expect, sync_playwright
    refused = []

    def offline(route):  # the network is off: only loopback answers
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            return route.continue_()
        refused.append(route.request.url)
        return route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.route("**/*", offline)
            page.goto(live + "/docs")
            entity = page.locator(".opblock-get .opblock-summary-path[data-path='/entities/{entity_id}']")
            expect(entity).to_be_visible(timeout=20_000)
            entity.click()  # Swagger UI works, not only draws: the operation opens
            expect(page.locator(".opblock.is-open .parameters-container")).to_contain_text("entity_id")
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
    assert refused == []
