"""Fixtures for the attacks: the API over the resolved_small fixture (both stores) and over a small
synthetic city resolved by the real pipeline (memory store), with a key per role."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "api"))  # the API tests' helpers

from api_helpers import TEST_ID_KEY, make_keys, resolved_copy  # noqa: E402

from creditgraph.base.settings import Settings  # noqa: E402


CITY = {"enterprises": 80, "persons": 120, "seed": 1}  # its queue holds a person pair; a court list a year-bearing mask


@pytest.fixture(scope="module")
def fixture_resolved(tmp_path_factory):
    return resolved_copy(tmp_path_factory.mktemp("resolved") / "resolved_small")


@pytest.fixture(scope="module")
def city_resolved(tmp_path_factory):
    """A synthetic city through `creditgraph resolve`'s own job: real evidence, public-list masks, rejects."""
    from creditgraph.pipeline import run_resolve
    from creditgraph.synth import generate
    root = tmp_path_factory.mktemp("city")
    generate(root / "city", CITY["enterprises"], CITY["persons"], seed=CITY["seed"])
    run_resolve(root / "city" / "manifest.yaml", root / "resolved",
                Settings(data=root / "resolve-data", id_key=TEST_ID_KEY))
    return root / "resolved"


def api_client(store, resolved: Path, data: Path, **settings):
    """(TestClient context manager, keys by role) for the API over `store`."""
    from fastapi.testclient import TestClient

    from creditgraph.api.app import create_app
    os.environ.pop("CREDITGRAPH_API_KEYS_FILE", None)
    config = Settings(data=data, id_key=TEST_ID_KEY, **settings)
    keys = make_keys(config.data / "api_keys.json")
    return TestClient(create_app(store=store, resolved_dir=resolved, settings=config)), keys, config


# --- the audit trail's attacks (test_audit_*.py, test_decisions_log.py) ---------------------------

@pytest.fixture
def api(tmp_path):
    """A fresh app over the embedded store, keys per role: .client, .settings, .keys, .app and
    .lines(), the audit trail's records. Each test gets its own, so an attack on the trail or the
    keys file cannot reach another test."""
    import json
    from types import SimpleNamespace

    from fastapi.testclient import TestClient

    from api_helpers import memory_app
    app, settings, keys = memory_app(tmp_path)

    def lines() -> list[dict]:
        return [json.loads(x) for x in settings.audit_path.read_text(encoding="utf-8").splitlines() if x.strip()]

    with TestClient(app) as client:
        yield SimpleNamespace(client=client, settings=settings, keys=keys, app=app, lines=lines)
