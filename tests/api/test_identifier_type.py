"""The API's `identifier_type` is the one entities.csv holds, for persons too (id18, id_masked)
and whatever the caller's role: a masked number is still an identity number."""
from __future__ import annotations

import csv

import pytest
from fastapi.testclient import TestClient

from api_helpers import hdr, make_keys
from creditgraph.api.app import create_app
from creditgraph.base.settings import Settings
from creditgraph.pipeline import run_resolve
from creditgraph.synth import generate


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    root = tmp_path_factory.mktemp("idtype")
    generate(root / "city", enterprises=40, persons=40, seed=3)
    settings = Settings(data=root / "data", id_key="identifier-type-test")
    run_resolve(root / "city" / "manifest.yaml", root / "out", settings)
    return root / "out", settings


def test_entity_identifier_type_is_the_resolve_outputs(resolved):
    out, settings = resolved
    with open(out / "entities.csv", encoding="utf-8", newline="") as f:
        written = {r["entity_id"]: (r["kind"], r["identifier_type"] or None) for r in csv.DictReader(f)}
    assert {"id18"} <= {t for kind, t in written.values() if kind == "person"}
    keys = make_keys(settings.data / "api_keys.json")
    with TestClient(create_app(resolved_dir=out, settings=settings)) as client:
        for role in ("service", "investigator"):  # masked and in clear
            served = {eid: client.get(f"/entities/{eid}", headers=hdr(keys[role])).json()["identifier_type"]
                      for eid in written}
            assert served == {eid: t for eid, (_, t) in written.items()}, role
