"""Finding 1 of issue 9, replayed: a key that sees a person's masked number and birth year tries
the checksum-valid numbers of that year against /search/identifier until one hits. Now services
get 403 whatever the number (no oracle), investigators 429 after their burst, and every
identity-number search is audited with the masked number and hit or miss."""
from __future__ import annotations

import datetime
import json

import pytest

from api_helpers import hdr, open_loaded_store, vault_numbers
from creditgraph.linkage.identifiers import ric_check_char

from .conftest import api_client

BURST = 3
TARGET = "P-0001"


def year_guesses(number: str) -> list[str]:
    """The attack as found: area code and last four as the old mask showed them, the birth year
    as /entities showed it; every date of the year whose check character fits."""
    area, year, tail = number[:6], int(number[6:10]), number[-4:]
    day, out = datetime.date(year, 1, 1), []
    while day.year == year:
        body = area + day.strftime("%Y%m%d") + tail[:3]
        if ric_check_char(body) == tail[3]:
            out.append(body + tail[3])
        day += datetime.timedelta(1)
    return out


@pytest.fixture(scope="module")
def search_api(fixture_resolved, tmp_path_factory):
    store = open_loaded_store("memory", fixture_resolved)
    client, keys, settings = api_client(store, fixture_resolved, tmp_path_factory.mktemp("data"),
                                        id_search_burst=BURST, id_search_per_minute=1.0)
    with client:
        yield client, keys, settings, vault_numbers(fixture_resolved)
    store.close()


def audit_lines(settings) -> list[dict]:
    return [json.loads(x) for x in settings.audit_path.read_text(encoding="utf-8").splitlines() if x.strip()]


def field(record: dict, name: str):
    """A field of an audit line, at its top level or in a nested part (the trail's layout is
    api/audit.py's; the search route adds its fields through request.state.audit_extra)."""
    if name in record:
        return record[name]
    return next((field(v, name) for v in record.values() if isinstance(v, dict) and field(v, name) is not None),
                None)


def test_the_guesses_contain_the_number(search_api):
    *_, numbers = search_api
    guesses = year_guesses(numbers[TARGET])
    assert numbers[TARGET] in guesses and len(guesses) < 40  # what made the attack take 0.24 s


def test_service_gets_403_for_any_identity_number(search_api):
    client, keys, _, numbers = search_api
    answers = set()
    for guess in year_guesses(numbers[TARGET]):
        r = client.get("/search/identifier", params={"value": guess}, headers=hdr(keys["service"]))
        assert r.status_code == 403, r.text
        answers.add(r.text)
    assert len(answers) == 1  # the right guess answers exactly as the wrong ones: no oracle
    assert "investigator" in answers.pop()


def test_service_still_checks_bidders_by_enterprise_identifiers(search_api):
    client, keys, *_ = search_api
    for _ in range(BURST + 2):  # not rate limited
        r = client.get("/search/identifier", params={"value": "91210800710001374U"}, headers=hdr(keys["service"]))
        assert r.status_code == 200 and [h["entity_id"] for h in r.json()["hits"]] == ["E-0001"]
    r = client.get("/search/identifier", params={"value": "71000137-4"}, headers=hdr(keys["service"]))
    assert r.status_code == 200 and r.json()["identifier_type"] == "org_code"


def test_investigator_is_limited_per_key_and_every_search_audited(search_api):
    client, keys, settings, numbers = search_api
    guesses = [g for g in year_guesses(numbers[TARGET]) if g != numbers[TARGET]]
    for guess in guesses[:BURST]:
        r = client.get("/search/identifier", params={"value": guess}, headers=hdr(keys["investigator"]))
        assert r.status_code == 200 and r.json()["hits"] == []
        line = audit_lines(settings)[-1]
        assert field(line, "result") == "miss" and field(line, "identifier") == "*" * 14 + guess[-4:]
    r = client.get("/search/identifier", params={"value": numbers[TARGET]}, headers=hdr(keys["investigator"]))
    assert r.status_code == 429 and "hits" not in r.text   # past the burst even the right number waits
    assert 0 < int(r.headers["Retry-After"]) <= 60
    assert audit_lines(settings)[-1]["status"] == 429
    r = client.get("/search/identifier", params={"value": numbers[TARGET]}, headers=hdr(keys["admin"]))
    assert r.status_code == 200 and [h["entity_id"] for h in r.json()["hits"]] == [TARGET]  # its own bucket
    assert field(audit_lines(settings)[-1], "result") == "hit"
    trail = settings.audit_path.read_text(encoding="utf-8")
    assert not [n for n in numbers.values() if n in trail], "a number in clear in the audit trail"


def test_token_bucket_refills_at_its_rate():
    from creditgraph.api.ratelimit import TokenBuckets
    now = [0.0]
    buckets = TokenBuckets(burst=2, per_minute=6.0, clock=lambda: now[0])
    assert buckets.take("a") == 0 and buckets.take("a") == 0
    assert buckets.take("a") == pytest.approx(10.0)   # one token per 10 s
    assert buckets.take("b") == 0                     # per key
    now[0] = 10.0
    assert buckets.take("a") == 0 and buckets.take("a") > 0
    now[0] = 1000.0                                    # a long pause refills the burst, no more
    assert [buckets.take("a") for _ in range(3)][:2] == [0, 0] and buckets.take("a") > 0
