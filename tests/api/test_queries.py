"""Each endpoint over the resolved_small fixture, through HTTP (memory store; Neo4j when set)."""
from api_helpers import hdr, vault_numbers


def get(client, keys, path, role="admin", **params):
    r = client.get(path, params=params, headers=hdr(keys[role]))
    assert r.status_code == 200, r.text
    return r.json()


def test_search_name(client, keys):
    body = get(client, keys, "/search/name", q="鑫达贸易")
    ids = [h["entity_id"] for h in body["hits"]]
    assert "E-0001" in ids and "E-0010" in ids
    persons = get(client, keys, "/search/name", q="张伟", kind="person")["hits"]
    assert {h["entity_id"] for h in persons} == {"P-0003", "P-0012"}


def test_search_identifier_uscc_and_org_code(client, keys):
    body = get(client, keys, "/search/identifier", value="91210800710001374U")
    assert body["identifier_type"] == "uscc" and [h["entity_id"] for h in body["hits"]] == ["E-0001"]
    body = get(client, keys, "/search/identifier", value="71000137-4")
    assert body["identifier_type"] == "org_code"
    assert {h["entity_id"] for h in body["hits"]} == {"E-0001", "E-0010"}


def test_search_identity_number_by_hash(client, keys, resolved):
    number = vault_numbers(resolved)["P-0005"]  # ends in X
    body = get(client, keys, "/search/identifier", role="investigator", value=number.lower())
    assert body["identifier_type"] == "id18" and body["query"] == "(identity number)"
    assert [h["entity_id"] for h in body["hits"]] == ["P-0005"]
    assert body["hits"][0]["identifier"] == number  # investigators see it in clear, from the vault


def test_entity_detail_with_provenance(client, keys):
    e = get(client, keys, "/entities/E-0001")
    assert e["name"] == "营口市鑫达贸易有限公司" and e["identifier"] == "91210800710001374U"
    assert set(e["departments"]) == {"market", "courts", "tax"}
    assert {"source": "courts", "record_id": "00011"} in e["records"]
    assert {r["list"] for r in e["list_records"]} >= {"dishonest_debtor", "consumption_restriction"}
    assert e["attrs"] == {"industry": "批发业"} and len(e["aliases"]) == 3
    records = get(client, keys, "/entities/E-0001/records")
    assert [r["record_uid"] for r in records] == [r["record_uid"] for r in e["list_records"]]


def test_related_depth_and_types(client, keys):
    one = get(client, keys, "/entities/E-0001/related", depth=1)
    assert one["parties"] and all(p["distance"] == 1 for p in one["parties"])
    two = get(client, keys, "/entities/E-0001/related", depth=2)
    assert len(two["parties"]) > len(one["parties"])
    reps = get(client, keys, "/entities/E-0001/related", depth=1, types=["LEGAL_REP_OF"])
    assert [p["entity_id"] for p in reps["parties"]] == ["P-0001"]
    assert reps["parties"][0]["path"] == [{"from_id": "P-0001", "to_id": "E-0001", "type": "LEGAL_REP_OF",
                                           "ratio": None, "role": None, "amount": None}]
    capped = get(client, keys, "/entities/E-0001/related", depth=2, limit=2)
    assert len(capped["parties"]) == 2 and capped["truncated"]


def test_joint_discipline_forward(client, keys):
    body = get(client, keys, "/entities/E-0001/joint-discipline", role="investigator")
    reached = {(h["reached"]["entity_id"], h["relation"]) for h in body["hits"]}
    assert ("P-0001", "legal_rep") in reached
    assert all(h["listed"]["entity_id"] == "E-0001" for h in body["hits"])


def test_joint_discipline_reverse(client, keys):
    # P-0001 is E-0001's legal representative; is P-0001 reached? Is E-0002 (its other firm)?
    body = get(client, keys, "/entities/E-0002/joint-discipline/reverse", role="service")
    assert {h["list"] for h in body["hits"]} >= {"major_tax_violation"}
    assert body["hits"][0]["relation"] == "self"
    clean = get(client, keys, "/entities/E-0015/joint-discipline/reverse", role="service")
    assert clean["hits"] == []


def test_beneficial_owners(client, keys):
    body = get(client, keys, "/entities/E-0001/beneficial-owners", role="service")
    shares = {o["entity_id"]: o["share"] for o in body["owners"]}
    assert shares == {"P-0004": 0.42, "P-0002": 0.3}
    assert body["owners"][0]["chains"][0]["path"][0]["from_id"] == "P-0004"
    high = get(client, keys, "/entities/E-0001/beneficial-owners", threshold=0.4)
    assert [o["entity_id"] for o in high["owners"]] == ["P-0004"]


def test_guarantee_circles(client, keys):
    body = get(client, keys, "/guarantee-circles", entity_id="E-0006")
    assert [[m["entity_id"] for m in c["members"]] for c in body["circles"]] == [["E-0005", "E-0006", "E-0007"]]
    assert body["circles"][0]["total_amount"] == 16_000_000
    assert body["circles"][0]["members"][0]["name"] == "营口华信建材有限公司"
    assert get(client, keys, "/guarantee-circles", entity_id="E-0001")["circles"] == []
    assert len(get(client, keys, "/guarantee-circles")["circles"]) == 1


def test_path(client, keys):
    body = get(client, keys, "/path", from_id="P-0001", to_id="E-0003")
    assert body["found"] and body["paths"][0]["length"] == 2
    assert [n["entity_id"] for n in body["paths"][0]["nodes"]] == ["P-0001", "E-0001", "E-0003"]
    far = get(client, keys, "/path", from_id="P-0001", to_id="E-0015", max_length=2)
    assert far["found"] is False and far["paths"] == []


def test_shared_contacts(client, keys):
    body = get(client, keys, "/entities/E-0012/shared-contacts")
    assert body["parties"][0]["entity_id"] == "E-0005"
    assert body["parties"][0]["contacts"][0]["type"] == "phone"
