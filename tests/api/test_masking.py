"""Identity numbers: clear only for investigator and admin (from the vault), masked for the rest."""
import pytest

from api_helpers import ROLES, hdr, vault_numbers

PERSON_PATHS = [
    "/entities/P-0001",
    "/entities/E-0001/related?depth=2",
    "/entities/E-0001/joint-discipline",
    "/entities/P-0001/joint-discipline/reverse",
    "/entities/E-0001/beneficial-owners",
    "/search/name?q=张伟",
    "/path?from_id=P-0001&to_id=E-0003",
    "/review/queue?include_decided=true",
]
CLEAR = {"investigator", "admin"}


@pytest.mark.parametrize("role", ROLES)
def test_no_clear_number_outside_allowed_roles(client, keys, resolved, role):
    numbers = vault_numbers(resolved).values()
    served = 0
    for path in PERSON_PATHS:
        r = client.get(path, headers=hdr(keys[role]))
        if r.status_code == 403:
            continue
        assert r.status_code == 200, (path, r.text)
        served += 1
        if role not in CLEAR:
            leaked = [n for n in numbers if n in r.text]
            assert not leaked, f"{role} saw clear numbers at {path}"
    assert served


def test_service_sees_masked_person(client, keys):
    body = client.get("/entities/P-0001", headers=hdr(keys["service"])).json()
    assert body["kind"] == "person"
    assert body["identifier"] == "**************3015"  # no area code, no birth date (docs/api.md)
    assert body["birth_date"] is None and body["addresses"] == []   # the fixture has both
    assert body["phones"] == ["139****1234"]
    assert "id_hash" not in body


@pytest.mark.parametrize("role", ROLES)
def test_a_public_list_mask_shows_only_its_last_four(client, keys, role):
    """P-0011 is known from a court list only (2108041992****5542): its year and area never show."""
    body = client.get("/entities/P-0011", headers=hdr(keys[role])).json()
    assert body["identifier"] == "**************5542"


@pytest.mark.parametrize("role", sorted(CLEAR))
def test_allowed_roles_see_clear_from_vault(client, keys, resolved, role):
    body = client.get("/entities/P-0001", headers=hdr(keys[role])).json()
    assert body["identifier"] == vault_numbers(resolved)["P-0001"]


def test_enterprise_codes_never_masked(client, keys):
    body = client.get("/entities/E-0002", headers=hdr(keys["service"])).json()
    assert body["identifier"] == "912108007100027483"


def test_related_masks_persons_for_service_free_roles(client, keys, resolved):
    numbers = set(vault_numbers(resolved).values())
    inv = client.get("/entities/E-0001/related", headers=hdr(keys["investigator"])).json()
    persons = [p for p in inv["parties"] if p["kind"] == "person"]
    assert persons and all(p["identifier"] in numbers for p in persons)


def test_masking_default_is_masked():
    """A model serialised outside a request (no principal) masks."""
    from creditgraph.api.models import Party
    p = Party(entity_id="P-1", kind="person", identifier="210802197503153015")
    assert p.model_dump()["identifier"] == "**************3015"
    assert "210802197503153015" not in p.model_dump_json()
