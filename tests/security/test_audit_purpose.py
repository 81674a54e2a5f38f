"""X-Purpose: exactly one header, printable, not blank once invisible characters are gone, at
most 200 characters; the audit records the purpose that was checked, never another one."""
import pytest

ENTITY = "/entities/P-0001"


def _get(api, purposes: list[bytes], path: str = ENTITY):
    headers = [(b"X-API-Key", api.keys["investigator"].encode())] + [(b"X-Purpose", p) for p in purposes]
    return api.client.get(path, headers=headers)


@pytest.mark.parametrize("purposes", [
    [b"tender 2024-117 check", b""],       # the check read the first, the audit the last
    [b"", b"tender 2024-117 check"],
    [b"tender 2024-117 check", b"another reason"],
], ids=["valid-then-empty", "empty-then-valid", "two-valid"])
def test_two_purpose_headers_are_refused(api, purposes):
    r = _get(api, purposes)
    assert r.status_code == 400, r.text
    assert "one X-Purpose" in r.json()["detail"]
    assert "entity_id" not in r.text  # no person data
    last = api.lines()[-1]
    assert last["status"] == 400 and last["purpose"] is None


@pytest.mark.parametrize("raw", [
    b"%00", b"%00%00", b"x%00y",               # NUL, decoded
    b"%E2%80%8B", b"\xe2\x80\x8b",             # zero-width space, percent-encoded or raw UTF-8
    b"%E2%80%8B%E2%80%8C%E2%80%8D%EF%BB%BF",   # ZWSP, ZWNJ, ZWJ, BOM
    b"%E3%85%A4",                               # Hangul filler: a letter that shows nothing
    b"%20%E2%80%8B%20", b"%09", b"ok%0Anext",  # blank, tab, a line break
    b"%FF%FE",                                  # not UTF-8
], ids=repr)
def test_invisible_or_control_purpose_is_refused(api, raw):
    r = _get(api, [raw])
    assert r.status_code == 400, r.text
    assert "X-Purpose" in r.json()["detail"]
    assert api.lines()[-1]["purpose"] is None


def test_purpose_length_bound(api):
    assert _get(api, [b"a" * 200]).status_code == 200
    r = _get(api, [b"a" * 201])
    assert r.status_code == 400 and "200" in r.json()["detail"]
    # counted after decoding: 67 CJK characters are 603 bytes percent-encoded, and fine
    assert _get(api, [b"%E5%AE%A1" * 67]).status_code == 200


def test_audited_purpose_is_the_checked_one(api):
    r = _get(api, [b"  tender%E2%80%8B 2024-117  "])
    assert r.status_code == 200
    assert api.lines()[-1]["purpose"] == "tender 2024-117"
    r = _get(api, ["采购审查".encode()])  # raw UTF-8 (not percent-encoded) reads as sent
    assert r.status_code == 200 and api.lines()[-1]["purpose"] == "采购审查"
