"""An item with candidates through the API and the stewards' page: a name-only mention that fits
several firms, decided as "this one" (same with that candidate) or "none of them" (different
from every one). Its own app over resolved_small plus tests/fixtures/review_choice.csv."""
import os
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from api_helpers import hdr, memory_app
from creditgraph.linkage.decisions import DecisionLog, Verdict
from creditgraph.linkage.review import queue
from live_server import serve_in_thread

CHOICE = Path(__file__).resolve().parent.parent / "fixtures" / "review_choice.csv"
CHROMIUM = "/usr/bin/chromium"
LEFT = "social_insured:0500:employer"


def _app(root: Path):
    app, settings, keys = memory_app(root)
    resolved = root / "resolved_small"
    q = pd.concat([queue(resolved), pd.read_csv(CHOICE, dtype=str, keep_default_na=False)])
    q.fillna("").to_csv(resolved / "review_queue.csv", index=False)
    return app, settings, keys


@pytest.fixture
def api(tmp_path):
    app, settings, keys = _app(tmp_path)
    with TestClient(app) as client:
        yield client, settings, hdr(keys["steward"])


def _item(client, h, pair_id="rq-0003", **params):
    items = client.get("/review/queue", params=params, headers=h).json()["items"]
    return next((i for i in items if i["pair_id"] == pair_id), None)


def test_the_queue_lists_the_candidates_with_who_they_are(api):
    client, _, h = api
    item = _item(client, h)
    assert [c["entity_id"] for c in item["candidates"]] == ["E-0001", "E-0009"]
    assert [c["party"]["name"] for c in item["candidates"]] == ["营口市鑫达贸易有限公司", "营口新达商贸有限公司"]
    assert item["candidates"][1]["evidence"]["name"]["level"] == "pinyin"
    assert _item(client, h, "rq-0001")["candidates"] == []      # a pair stays a pair


def test_this_one_is_a_same_with_that_candidate(api):
    client, settings, h = api
    r = client.post("/review/decisions", json={"pair_id": "rq-0003", "verdict": "same"}, headers=h)
    assert r.status_code == 400 and "E-0009" in r.json()["detail"]    # which one?
    r = client.post("/review/decisions", json={"pair_id": "rq-0001", "verdict": "same", "candidate": "1"},
                    headers=h)
    assert r.status_code == 400                                        # a pair has no candidates
    r = client.post("/review/decisions", json={"pair_id": "rq-0003", "verdict": "same", "candidate": "E-0009",
                                               "note": "its code on the insurance form"}, headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["candidate"] == "E-0009" and r.json()["pairs"] == [[LEFT, "market_registry:0090:subject"]]
    d = DecisionLog(settings.decisions_path).latest()[tuple(sorted((LEFT, "market_registry:0090:subject")))]
    assert d.verdict is Verdict.SAME and d.note == "its code on the insurance form"
    assert _item(client, h) is None
    assert _item(client, h, include_decided="true")["decision"] == "same"


def test_none_of_them_is_a_different_with_every_candidate(api):
    client, settings, h = api
    r = client.post("/review/decisions", json={"pair_id": "rq-0003", "verdict": "different"}, headers=h)
    assert r.status_code == 201, r.text
    assert {p[1] for p in r.json()["pairs"]} == {"market_registry:0001:subject", "market_registry:0090:subject"}
    latest = DecisionLog(settings.decisions_path).latest()
    assert {latest[tuple(sorted((LEFT, c)))].verdict for c in ("market_registry:0001:subject",
                                                               "market_registry:0090:subject")} == {Verdict.DIFFERENT}
    assert _item(client, h) is None


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")
def test_the_page_offers_each_candidate_and_none(tmp_path):
    from playwright.sync_api import expect, sync_playwright
    app, settings, keys = _app(tmp_path)
    errors = []
    with serve_in_thread(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/review")
            page.fill("#key", keys["steward"])
            page.click("#load")
            item = page.locator('section.pair[data-pair-id="rq-0003"]')
            expect(item.locator(".choice")).to_have_count(2)
            expect(item.locator(".choice").nth(1)).to_contain_text("营口新达商贸有限公司")
            expect(item.locator("button.different")).to_have_text("None of them")
            expect(item.locator("button.same")).to_be_hidden()
            page.screenshot(path="/tmp/creditgraph_review_choices.png", full_page=True)
            item.locator(".choice").nth(1).locator("button.pick").click()
            expect(page.locator("#status")).to_contain_text("Recorded same for rq-0003")
            expect(page.locator('section.pair[data-pair-id="rq-0003"]')).to_have_count(0)
        finally:
            browser.close()
    assert not errors
    d = DecisionLog(settings.decisions_path).latest()[tuple(sorted((LEFT, "market_registry:0090:subject")))]
    assert d.verdict is Verdict.SAME and d.who == "test-steward"
