"""A pair's score as a waterfall of its field weights (issue 10): the API's `weights` and the
steward page's chart, in Debian's chromium against a live server."""
import json
import math
import os

import pytest
from fastapi.testclient import TestClient

from api_helpers import hdr, memory_app
from live_server import serve_in_thread

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    app, settings, keys = memory_app(tmp_path_factory.mktemp("waterfall"))
    return app, keys


def _items(app, key) -> dict:
    with TestClient(app) as client:
        r = client.get("/review/queue", headers=hdr(key))
    assert r.status_code == 200, r.text
    return {i["pair_id"]: i for i in r.json()["items"]}


def _model(app, kind: str) -> dict:
    report = json.loads((app.state.queries.resolved_dir / "run_report.json").read_text(encoding="utf-8"))
    return report["linkage"][kind]["model"]


def test_weights_are_the_prior_then_each_model_field_in_order(served):
    app, keys = served
    items = _items(app, keys["steward"])
    for pair_id, item in items.items():
        model, w = _model(app, item["kind"]), item["weights"]
        assert [f["field"] for f in w["fields"]] == list(model["weights"])
        assert w["prior"] == round(math.log2(model["prior"] / (1 - model["prior"])), 2)
        for f in w["fields"]:  # each field's weight and level as its evidence says; missing adds 0
            ev = item["evidence"].get(f["field"])
            assert (f["level"], f["weight"]) == ((ev["level"], ev["weight"]) if ev else ("missing", 0.0))
        assert w["match_weight"] == pytest.approx(w["prior"] + sum(f["weight"] for f in w["fields"]), abs=0.01)
        assert w["probability"] == pytest.approx(1 / (1 + 2 ** -w["match_weight"]), abs=1e-3)
    # the fixture's enterprise prior makes rq-0001's waterfall end at its recorded score
    assert items["rq-0001"]["weights"]["probability"] == pytest.approx(items["rq-0001"]["score"], abs=1e-3)


def test_weights_carry_no_values(served):
    app, keys = served
    person = _items(app, keys["steward"])["rq-0002"]
    assert person["kind"] == "person"
    text = json.dumps(person["weights"], ensure_ascii=False)
    for ev in person["evidence"].values():
        for side in ("left", "right"):
            assert not ev.get(side) or str(ev[side]) not in text
    assert "4416" not in text and "张伟" not in text


def test_no_weights_without_the_run_report(tmp_path):
    app, _, keys = memory_app(tmp_path)
    (app.state.queries.resolved_dir / "run_report.json").unlink()
    assert all(i["weights"] is None for i in _items(app, keys["steward"]).values())


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="apt-get install chromium")
def test_the_steward_page_draws_the_waterfall(served, tmp_path):
    from playwright.sync_api import expect, sync_playwright
    app, keys = served
    expected = _items(app, keys["steward"])
    shot = tmp_path / "waterfall.png"
    errors = []
    with serve_in_thread(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            # the browser asks for /favicon.ico on its own (the page links none): its 404 is no page error
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and not (
                m.text.startswith("Failed to load resource") and m.location.get("url", "").endswith("/favicon.ico"))
                else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 and not
                    r.url.endswith("/favicon.ico") else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(base + "/review")
            page.fill("#key", keys["steward"])
            page.click("#load")
            for pair_id, item in expected.items():
                w = item["weights"]
                steps = page.locator(f'section.pair[data-pair-id="{pair_id}"] svg.waterfall rect.step')
                expect(steps).to_have_count(len(w["fields"]) + 2)  # the prior, each field, the match weight
                bits = [float(b) for b in steps.evaluate_all("rs => rs.map(r => r.dataset.bits)")]
                assert bits[0] == pytest.approx(w["prior"], abs=0.01)
                assert bits[1:-1] == pytest.approx([f["weight"] for f in w["fields"]], abs=0.01)
                assert bits[-1] == pytest.approx(w["match_weight"], abs=0.01)
                fields = steps.evaluate_all("rs => rs.map(r => r.dataset.field)")
                assert fields == ["prior", *(f["field"] for f in w["fields"]), "match weight"]
                assert steps.last.bounding_box()["height"] > 5
            caption = page.locator('section.pair[data-pair-id="rq-0001"] figure.waterfall figcaption')
            expect(caption).to_contain_text("probability 0.7800")
            expect(caption).not_to_contain_text("is not this sum")
            # the fixture's person pair: a conflict whose recorded score is no sum of its evidence
            expect(page.locator('section.pair[data-pair-id="rq-0002"] figcaption')).to_contain_text(
                "The recorded score, 0.41, is not this sum")
            page.locator('section.pair[data-pair-id="rq-0001"]').screenshot(path=str(shot))
        finally:
            browser.close()
    assert errors == []
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 5_000
