"""Identity numbers typed into a query string or a purpose reach audit.jsonl masked, whatever
their shape: separators, spaces, full-width digits."""
import json
import re
import unicodedata
from urllib.parse import quote

import pytest

from api_helpers import vault_numbers

FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def shapes(n: str) -> list[str]:
    return [n, f"{n[:6]}-{n[6:14]}-{n[14:]}", f"{n[:6]} {n[6:14]} {n[14:]}", f"{n[:6]}.{n[6:14]}.{n[14:]}",
            n.translate(FULL_WIDTH), f"{n[:6]}－{n[6:14]}－{n[14:]}".translate(FULL_WIDTH),
            f"{n[:6]}\u200b{n[6:]}", f"{n[:3]} {n[3:6]} {n[6:10]} {n[10:14]} {n[14:]}"]


def digits(text: str) -> str:
    return re.sub(r"[^0-9X]", "", unicodedata.normalize("NFKC", text).upper())


def assert_hidden(number: str, recorded) -> None:
    """Neither the number nor its birth date survives in the recorded text (the mask keeps at
    most the area code and the last four)."""
    flat = digits(json.dumps(recorded, ensure_ascii=False))
    assert number not in flat and number[6:14] not in flat, recorded


@pytest.fixture
def number(api):
    return vault_numbers(api.app.state.queries.resolved_dir)["P-0001"]


@pytest.mark.parametrize("shape", range(8))
def test_number_in_query_string_is_masked(api, number, shape):
    value = shapes(number)[shape]
    r = api.client.get("/search/identifier", params={"value": value},
                       headers={"X-API-Key": api.keys["investigator"], "X-Purpose": "bank credit check"})
    assert r.status_code in (200, 400), r.text
    assert_hidden(number, api.lines()[-1]["params"])


@pytest.mark.parametrize("shape", range(8))
def test_number_in_purpose_is_masked(api, number, shape):
    purpose = f"check of {shapes(number)[shape]} for tender 7"
    r = api.client.get("/entities/E-0001", headers={"X-API-Key": api.keys["service"],
                                                    "X-Purpose": quote(purpose)})
    assert r.status_code == 200
    last = api.lines()[-1]
    assert_hidden(number, last["purpose"])
    assert last["purpose"].startswith("check of ") and last["purpose"].endswith(" for tender 7")


def test_number_in_a_path_or_unknown_parameter_is_masked(api, number):
    sep = shapes(number)[1]
    api.client.get(f"/entities/{sep}", params={"note": shapes(number)[2]},
                   headers={"X-API-Key": api.keys["investigator"], "X-Purpose": "check"})
    assert_hidden(number, api.lines()[-1])
    assert number[6:14] not in digits(api.settings.audit_path.read_text(encoding="utf-8"))
