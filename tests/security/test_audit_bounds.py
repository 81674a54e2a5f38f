"""What a caller without a key can make the server write is bounded and rate-limited, and
/audit pages through a large trail without reading all of it."""
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from creditgraph.api.audit import GENESIS

BIG = "x" * 65_000


def test_unauthenticated_query_string_is_not_written(api):
    r = api.client.get("/nope", params={"x": BIG})
    assert r.status_code == 404
    line = api.settings.audit_path.read_bytes().splitlines()[-1]
    assert len(line) < 1000 and b"xxxxxxxxxx" not in line
    assert json.loads(line)["params"] == {}


@pytest.mark.parametrize("path", ["/" + BIG, "/entities/" + BIG, "/entities/E-0001/" + BIG])
def test_unauthenticated_long_path_is_cut(api, path):
    api.client.get(path, headers={"X-API-Key": "cg_wrong"})
    line = api.settings.audit_path.read_bytes().splitlines()[-1]
    assert len(line) < 1000 and b"x" * 300 not in line


def test_authenticated_long_parameters_are_cut(api):
    params = {f"p{i}": "x" * 2_000 for i in range(25)}  # about what a URL may hold
    api.client.get("/entities/E-0001", params=params,
                   headers={"X-API-Key": api.keys["service"], "X-Purpose": "long parameters"})
    line = api.settings.audit_path.read_bytes().splitlines()[-1]
    assert len(line) < 10_000, len(line)
    assert json.loads(line)["params"]["entity_id"] == "E-0001"


def test_unauthenticated_requests_are_rate_limited(api):
    """A budget of bytes per address (about 800 bounded lines at once, then 3 a second)."""
    statuses = []
    for i in range(3000):
        statuses.append(api.client.get("/nope", params={"n": i}).status_code)
        if statuses[-1] == 429:
            break
    assert statuses[0] == 404 and statuses[-1] == 429, statuses[-3:]
    r = api.client.get("/entities/E-0001")
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    unauthenticated = [x for x in api.settings.audit_path.read_bytes().splitlines() if b'"who":null' in x]
    assert sum(map(len, unauthenticated)) <= 300_000
    # a caller with a key from the same address is still served
    r = api.client.get("/entities/E-0001", headers={"X-API-Key": api.keys["service"], "X-Purpose": "still served"})
    assert r.status_code == 200


# --- paging a large trail -------------------------------------------------------------------

START = datetime(2024, 1, 1, tzinfo=timezone.utc)
N = 50_000


@pytest.fixture
def big_trail(api):
    """A 50k-line chained trail, one line a second from 2024-01-01, written as the server would."""
    prev, out = GENESIS, []
    for seq in range(1, N + 1):
        rec = {"seq": seq, "prev": prev, "when": (START + timedelta(seconds=seq)).isoformat(timespec="milliseconds"),
               "who": "bank-a" if seq % 1000 else "rare", "roles": ["service"], "method": "GET",
               "endpoint": "/entities/{entity_id}", "params": {"entity_id": f"E-{seq:05d}"},
               "purpose": "bank credit check " + "y" * 150, "status": 200, "ms": 3.1, "client": "10.0.0.9",
               "returned": [f"E-{seq:05d}"]}
        line = json.dumps(rec, separators=(",", ":")).encode()
        prev = hashlib.sha256(line).hexdigest()
        out.append(line)
    api.settings.audit_path.write_bytes(b"\n".join(out) + b"\n")
    assert api.settings.audit_path.stat().st_size > 10_000_000
    return api


def _read_bytes() -> int:
    with open("/proc/self/io") as f:
        return int(next(x for x in f if x.startswith("rchar:")).split()[1])


def _page(api, **params):
    before = _read_bytes()
    r = api.client.get("/audit", params=params, headers={"X-API-Key": api.keys["admin"], "X-Purpose": "paging"})
    read = _read_bytes() - before
    assert r.status_code == 200, r.text
    return r.json(), read


def test_newest_page_reads_only_the_end(big_trail):
    page, read = _page(big_trail, limit=50, who="bank-a")
    assert [e["seq"] for e in page["entries"]] == [s for s in range(N, 0, -1) if s % 1000][:50]
    assert read < 1_000_000, f"read {read} bytes of a {big_trail.settings.audit_path.stat().st_size}-byte trail"
    nxt, read = _page(big_trail, limit=50, who="bank-a", before=page["next_before"])
    assert nxt["entries"][0]["seq"] == page["entries"][-1]["seq"] - 1
    assert read < 1_000_000


def test_time_range_in_the_middle_reads_little(big_trail):
    until = (START + timedelta(seconds=20_001)).isoformat()  # until is exclusive
    since = (START + timedelta(seconds=19_990)).isoformat()
    page, read = _page(big_trail, since=since, until=until, limit=100)
    assert [e["seq"] for e in page["entries"]] == list(range(20_000, 19_989, -1))
    assert page["next_before"] is None  # nothing older inside the range
    assert read < 1_000_000, read


def test_cursor_walks_the_whole_range(big_trail):
    since = (START + timedelta(seconds=N - 250)).isoformat()
    seen, before = [], None
    while True:
        params = {"since": since, "limit": 100, **({"before": before} if before else {})}
        page, _ = _page(big_trail, **params)
        seen += [e["seq"] for e in page["entries"] if e.get("endpoint") == "/entities/{entity_id}"]
        before = page["next_before"]
        if before is None:
            break
    assert seen == list(range(N, N - 251, -1))
