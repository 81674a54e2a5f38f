"""Re-identification from a role's whole view: after every endpoint a service or steward key may
call (every response field, the review queue behind the /review page, every error message), how
many valid identity numbers still fit what it saw of each person? At least 100,000, or the mask
gives the number away (issue 9: area code + last four + birth year left 15 candidates)."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from api_helpers import hdr, open_loaded_store

from .candidates import Seen
from .conftest import api_client

ROLES = ("service", "steward")
MIN_CANDIDATES = 100_000
# Every GET endpoint of the API, with how to fill it: {id} every entity, {other} another entity,
# {name} every name, {value} every identifier (enterprises' and persons' numbers, clear and masked),
# {report} a credit report the key produced on every entity, {first_report} the first of them.
URLS = [
    "/health",
    "/search/name?q={name}&limit=100",
    "/search/identifier?value={value}",
    "/entities/{id}",
    "/entities/{id}/records",
    "/entities/{id}/related?depth=3&limit=500",
    "/entities/{id}/shared-contacts?limit=500",
    "/entities/{id}/joint-discipline",
    "/entities/{id}/joint-discipline/reverse",
    "/entities/{id}/beneficial-owners?threshold=0",
    "/entities/{id}/credit",
    "/reports/{report}.html",
    "/reports/{first_report}.pdf",
    "/guarantee-circles?entity_id={id}",
    "/path?from_id={id}&to_id={other}",
    "/review/queue?include_decided=true&limit=200",
    "/audit?limit=1000",
]
# an identity number shown masked, anywhere in any text
MASKED = re.compile(r"(?<![0-9A-Za-z*-])[0-9Xx*]{15,18}(?![0-9A-Za-z*])")


def entities(resolved: Path) -> list[dict]:
    with open(resolved / "entities.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def vault(resolved: Path) -> dict[str, set[str]]:
    """entity id -> every number in clear the identity vault holds for it (typo variants too)."""
    out: dict[str, set[str]] = {}
    with open(resolved / "identity_vault.csv", encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            out.setdefault(r["entity_id"], set()).add(r["id_number"])
    return out


def fillings(resolved: Path) -> dict[str, list[str]]:
    rows = entities(resolved)
    clear = [n for numbers in vault(resolved).values() for n in numbers]
    return {"id": [r["entity_id"] for r in rows], "other": [rows[0]["entity_id"]],
            "name": sorted({r["name"] for r in rows if r["name"]}),
            "value": sorted({r["identifier"] for r in rows if r["identifier"]} | set(clear))}


def expand(url: str, values: dict[str, list[str]]):
    slots = re.findall(r"\{(\w+)\}", url)
    if not slots:
        yield url
        return
    for v in values[slots[0]]:
        yield from expand(url.replace("{" + slots[0] + "}", v, 1), values)


def produced_reports(client, key: str, ids: list[str]) -> dict[str, list[str]]:
    """Credit reports the key produces (POST /reports), one per entity; none when it may not."""
    numbers = []
    for entity_id in ids:
        r = client.post("/reports", json={"entity_id": entity_id}, headers=hdr(key))
        if r.status_code == 403:
            break
        numbers.append(r.json()["number"])
    return {"report": numbers, "first_report": numbers[:1]}


def text_of(r) -> str:
    """A response's text; a PDF's as pypdf extracts it."""
    if r.headers.get("content-type") != "application/pdf":
        return r.text
    from pypdf import PdfReader
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)


def role_view(client, key: str, resolved: Path) -> list[str]:
    """The text of every response the key gets; an endpoint that answers 403 is asked once."""
    values = fillings(resolved)
    values.update(produced_reports(client, key, values["id"]))
    texts = []
    for url in URLS:
        for target in expand(url, values):
            r = client.get(target, headers=hdr(key))
            texts.append(text_of(r))
            if r.status_code == 403 and "{value}" not in url:  # the role may not call it
                break
    return texts


def learn(texts: list[str]) -> dict[str, Seen]:
    """What the texts tell about each person: numbers and birth dates in objects naming them, and
    the review evidence of pairs they are in."""
    seen: dict[str, Seen] = {}

    def person(entity_id) -> Seen | None:
        return seen.setdefault(entity_id, Seen()) if str(entity_id or "").startswith("P-") else None

    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for v in node.values():
                yield from strings(v)
        elif isinstance(node, list):
            for v in node:
                yield from strings(v)

    def walk(node):
        if isinstance(node, dict):
            who = person(node.get("entity_id"))
            if who:
                for s in strings({k: v for k, v in node.items() if k != "birth_date"}):
                    for token in MASKED.findall(s):
                        who.number(token)
                if node.get("birth_date"):
                    who.birth(str(node["birth_date"]))
            for side, other in (("left", "right"), ("right", "left")):
                who = person(node.get(f"{side}_entity"))
                for field, ev in (node.get("evidence") or {}).items() if who else ():
                    mine = {k: v for k, v in ev.items() if k != other}
                    for s in strings(mine):
                        for token in MASKED.findall(s):
                            who.number(token)
                    if field == "birth_date" and ev.get(side):
                        who.birth(str(ev[side]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for text in texts:
        try:
            walk(json.loads(text))
        except ValueError:
            continue
    return seen


def test_every_get_endpoint_is_attacked(tmp_path):
    from creditgraph.api.app import create_app
    from creditgraph.base.settings import Settings
    app = create_app(store=object(), settings=Settings(data=tmp_path, id_key="k"))
    routes = {re.sub(r"\{\w+\}", "{}", p) for p, ops in app.openapi()["paths"].items() if "get" in ops}
    assert routes == {re.sub(r"\{\w+\}", "{}", u.split("?")[0]) for u in URLS}


@pytest.fixture(scope="module", params=[
    pytest.param(("fixture", "memory"), id="fixture-memory"),
    pytest.param(("fixture", "neo4j"), id="fixture-neo4j", marks=pytest.mark.neo4j),
    pytest.param(("city", "memory"), id="city-memory")])
def views(request, tmp_path_factory):
    dataset, store_kind = request.param
    resolved = request.getfixturevalue(f"{dataset}_resolved")
    store = open_loaded_store(store_kind, resolved)
    client, keys, _ = api_client(store, resolved, tmp_path_factory.mktemp("data"))
    with client:
        yield {role: role_view(client, keys[role], resolved) for role in ROLES}, resolved
    store.close()


@pytest.mark.parametrize("role", ROLES)
def test_no_number_or_mask_beyond_the_last_four(views, role):
    texts, resolved = views
    clear = [n for numbers in vault(resolved).values() for n in numbers]
    blob = "\n".join(texts[role])
    assert not [n for n in clear if n in blob or n.lower() in blob], f"{role} saw clear numbers"
    shown = {t for t in MASKED.findall(blob) if "*" in t}
    assert shown and all(set(t[:-4]) == {"*"} for t in shown), sorted(shown)


@pytest.mark.parametrize("role", ROLES)
def test_at_least_100000_numbers_fit_each_person(views, role):
    texts, resolved = views
    numbers = vault(resolved)
    persons = [r["entity_id"] for r in entities(resolved) if r["kind"] == "person"]
    seen = learn(texts[role])
    counts = {}
    for pid in persons:
        s = seen.get(pid, Seen())
        if pid in numbers:  # what was learnt is true of the person: the extraction reads the view right
            assert any(s.agrees_with(n) for n in numbers[pid]), (pid, s.fixed)
        counts[pid] = s.count()
    fewest = min(counts, key=counts.get)
    print(f"\n{role} over {resolved.name}: {len(persons)} persons, {len(seen)} seen; fewest candidate "
          f"numbers {counts[fewest]:,} ({fewest}: {seen.get(fewest, Seen()).fixed})")
    assert counts[fewest] >= MIN_CANDIDATES, (
        f"{role}: only {counts[fewest]:,} valid identity numbers fit what it sees of {fewest} "
        f"({seen[fewest].fixed})")
