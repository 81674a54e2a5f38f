"""Review queue from review_queue.csv; decisions land in the DecisionLog; decided pairs leave."""
from creditgraph.linkage.decisions import DecisionLog, Verdict
from api_helpers import hdr


def test_queue_lists_pairs_with_evidence(client, keys):
    r = client.get("/review/queue", headers=hdr(keys["steward"]))
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2                          # the fixture's two pairs, decided or not
    item = next(i for i in body["items"] if i["pair_id"] == "rq-0001")
    assert item["evidence"]["name"]["level"] == "close"
    assert item["left"]["entity_id"] == "E-0001" and item["score"] == 0.78


def test_decision_lands_in_log_and_leaves_queue(client, keys, settings):
    before = client.get("/review/queue", headers=hdr(keys["steward"])).json()
    pair = before["items"][-1]
    r = client.post("/review/decisions", json={"pair_id": pair["pair_id"], "verdict": "different",
                                               "note": "different birth dates"},
                    headers=hdr(keys["steward"]))
    assert r.status_code == 201, r.text
    assert r.json()["who"] == "test-steward"
    d = DecisionLog(settings.decisions_path).latest()[tuple(sorted((pair["left_mention"], pair["right_mention"])))]
    assert d.verdict is Verdict.DIFFERENT and d.who == "test-steward" and d.note == "different birth dates"
    after = client.get("/review/queue", headers=hdr(keys["steward"])).json()
    assert pair["pair_id"] not in [i["pair_id"] for i in after["items"]]
    assert after["pending"] == before["pending"] - 1
    shown = client.get("/review/queue?include_decided=true", headers=hdr(keys["steward"])).json()
    assert next(i for i in shown["items"] if i["pair_id"] == pair["pair_id"])["decision"] == "different"


def test_decision_validation(client, keys):
    h = hdr(keys["steward"])
    assert client.post("/review/decisions", json={"pair_id": "rq-0001", "verdict": "maybe"}, headers=h).status_code == 422
    r = client.post("/review/decisions", json={"pair_id": "rq-9999", "verdict": "same"}, headers=h)
    assert r.status_code == 404 and "GET /review/queue" in r.json()["detail"]


def test_unsure_keeps_a_pair_pending_behind_the_others(client, keys):
    h = hdr(keys["steward"])
    before = client.get("/review/queue", headers=h).json()
    first = before["items"][0]
    r = client.post("/review/decisions", json={"pair_id": first["pair_id"], "verdict": "unsure",
                                               "note": "ask the registry"}, headers=h)
    assert r.status_code == 201, r.text
    after = client.get("/review/queue", headers=h).json()
    assert after["pending"] == before["pending"]
    assert after["items"][-1]["pair_id"] == first["pair_id"]
    assert after["items"][-1]["decision"] == "unsure"
    assert [i["pair_id"] for i in after["items"][:-1]] == [i["pair_id"] for i in before["items"][1:]]
