"""One display mask (creditgraph.base.privacy.mask) on every face: resolve outputs, the graph,
API models, the audit scrubber, rejects; and stewards compare numbers and birth dates without
seeing them. Every input shape that used to show more than the last four is tried."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from creditgraph.base.privacy import mask

NUMBER = "210802197503153015"
SHOWN = "**************3015"


@pytest.mark.parametrize("value,shown", [
    (NUMBER, SHOWN),
    ("21080219850505105x", "**************105X"),        # lower-case check character
    ("２１０８０２１９７５０３１５３０１５", SHOWN),          # full-width digits
    ("2108021975****3015", SHOWN),                       # public list, birth year kept
    ("210802********3015", SHOWN),                       # public list, area code kept
    ("210802750315301", "*" * 14 + "301*"),             # legacy 15 digits: no check character
    ("210802******301", "*" * 18),                       # a legacy mask: nothing sure to show
    ("2108****3015", "*" * 18),                          # an odd mask
])
def test_the_display_mask_shows_the_last_four_at_most(value, shown):
    assert mask(value) == shown


def test_scrub_masks_numbers_in_text_and_leaves_enterprise_codes():
    from creditgraph.base.privacy import scrub
    text = f"法定代表人 {NUMBER}，18xx births too: 110101188001010018; USCC 912108007100027483"
    assert scrub(text) == f"法定代表人 {SHOWN}，18xx births too: **************0018; USCC 912108007100027483"


def test_api_models_mask_any_shape_for_masked_roles():
    from creditgraph.api.models import EntityDetail, Party
    assert Party(entity_id="P-1", kind="person", identifier="2108021975****3015").model_dump()["identifier"] == SHOWN
    detail = EntityDetail(entity_id="P-1", kind="person", identifier=NUMBER, birth_date="1975-03-15",
                          addresses=["营口市站前区渤海大街西12号"], phones=["13904171234"]).model_dump()
    assert (detail["identifier"], detail["birth_date"], detail["addresses"]) == (SHOWN, None, [])
    assert detail["phones"] == ["139****1234"]


def test_graph_loader_masks_whatever_the_resolve_output_holds(tmp_path):
    from creditgraph.graph.load import read_resolved
    rows = [["P-1", "person", "甲", NUMBER, "{}"],                       # in clear
            ["P-2", "person", "乙", "2108021975****3016", "{}"],          # a public-list mask
            ["P-3", "person", "丙", "", json.dumps({"证件": "110101188001010018"})]]  # born 1880, in attrs
    with open(tmp_path / "entities.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["entity_id", "kind", "name", "identifier", "attrs"])
        w.writerows(rows)
    persons = {r["id"]: r["props"] for r in read_resolved(tmp_path).nodes["Person"]}
    assert persons["P-1"]["id_masked"] == SHOWN and persons["P-2"]["id_masked"] == "**************3016"
    assert "110101188001010018" not in persons["P-3"]["attrs"] and "**************0018" in persons["P-3"]["attrs"]


@pytest.mark.parametrize("a,b,said", [
    ((NUMBER,), (NUMBER,), "same"),
    ((NUMBER,), ("210802197503163015",), "one character differs: position 14 (birth date)"),
    ((NUMBER,), ("210802197503153016",), "one character differs: position 18 (check character)"),
    ((NUMBER,), ("2108021975****3015",), "agrees with a masked number where it shows digits"),
    ((NUMBER,), ("210803198001012213",), "different"),
    ((NUMBER,), (), "missing on one side"),
])
def test_stewards_see_where_numbers_differ_not_the_numbers(a, b, said):
    from creditgraph.linkage.compare import describe_ids
    assert describe_ids(a, b) == said
    assert not any(x[:14] in said for x in a + b)


def test_birth_dates_compare_as_same_or_differ():
    from creditgraph.linkage.compare import describe_dates
    assert describe_dates(("1975-03-15",), ("1975-03-15",)) == "same"
    assert describe_dates(("1975-03-15",), ("1975-03-16",)) == "differ"


def test_resolve_writes_comparisons_and_display_masks(city_resolved):
    """A synthetic city through the real job: no number beyond its last four, no birth date in
    the review queue; a person pair's id and birth date come as comparisons."""
    with open(city_resolved / "review_queue.csv", encoding="utf-8", newline="") as f:
        queue = list(csv.DictReader(f))
    persons = [json.loads(r["evidence"]) for r in queue if r["kind"] == "person"]
    assert persons, "the city's queue has a person pair"
    for ev in persons:
        assert {"left", "right"}.isdisjoint(ev["id"]) and {"left", "right"}.isdisjoint(ev["birth_date"])
        assert ev["id"]["compare"] and ev["birth_date"]["compare"] in ("same", "differ", "missing on one side")
    with open(city_resolved / "entities.csv", encoding="utf-8", newline="") as f:
        shown = {r["identifier"] for r in csv.DictReader(f) if r["kind"] == "person" and r["identifier"]}
    assert shown and all(s[:14] == "*" * 14 for s in shown)
    with open(city_resolved.parent / "city" / "exports" / "court_dishonest.csv", encoding="utf-8-sig") as f:
        court = {r["证件号码"] for r in csv.DictReader(f) if "*" in r["证件号码"] and r["证件号码"][6:10] != "****"}
    assert court, "the court list has masks that keep the birth year"
    assert {mask(c) for c in court} <= shown   # shown by the display mask, the year dropped


def test_rejects_mask_numbers_and_the_vault_keeps_them(city_resolved):
    from creditgraph.base.privacy import scrub
    with open(city_resolved / "rejects.csv", encoding="utf-8", newline="") as f:
        rejects = list(csv.DictReader(f))
    with open(city_resolved / "rejects_vault.csv", encoding="utf-8", newline="") as f:
        vault = list(csv.DictReader(f))
    assert vault, "the city has rejected rows with identity numbers"
    assert {(r["file"], r["line"]) for r in vault} <= {(r["file"], r["line"]) for r in rejects}
    for clear in vault:
        row = next(r for r in rejects if (r["file"], r["line"]) == (clear["file"], clear["line"]))
        assert row["raw"] == scrub(clear["raw"]) != clear["raw"]
        assert row["column"] == clear["column"] and row["reason"] == scrub(clear["reason"])


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="apt-get install chromium")
def test_review_page_shows_the_comparison(city_resolved, tmp_path):
    """The steward page renders a person pair's id and birth date as the comparison resolve wrote."""
    import threading
    import time

    import uvicorn
    from playwright.sync_api import expect, sync_playwright

    from live_server import free_port
    from api_helpers import open_loaded_store

    from .conftest import api_client
    store = open_loaded_store("memory", city_resolved)
    client, keys, _ = api_client(store, city_resolved, tmp_path / "data")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    with open(city_resolved / "review_queue.csv", encoding="utf-8", newline="") as f:
        pair = next(r for r in csv.DictReader(f) if r["kind"] == "person")
    compared = json.loads(pair["evidence"])
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/review")
            page.fill("#key", keys["steward"])
            page.click("#load")
            section = page.locator(f'section.pair[data-pair-id="{pair["pair_id"]}"]')
            for field in ("id", "birth_date"):
                row = section.locator("tr.evidence", has=page.locator("td.field", has_text=field))
                expect(row.locator("td.compare")).to_have_text(compared[field]["compare"])
            assert not [n for n in _clear_numbers(city_resolved) if n in page.content()]
            browser.close()
    finally:
        server.should_exit = True
        thread.join(5)
        store.close()


def _clear_numbers(resolved: Path) -> list[str]:
    with open(resolved / "identity_vault.csv", encoding="utf-8", newline="") as f:
        return [r["id_number"] for r in csv.DictReader(f)]
