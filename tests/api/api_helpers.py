"""Factories for the API tests: a resolve output with hashes under the test key, keys per role."""
from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from creditgraph.api.keys import create_key
from creditgraph.base.privacy import id_hash

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"
TEST_ID_KEY = "test-id-key-for-api-tests"
ROLES = ("service", "investigator", "steward", "admin")
PURPOSE = {"X-Purpose": "unit test: api suite"}


def resolved_copy(dest: Path) -> Path:
    """resolved_small, with persons' id_hash recomputed by creditgraph.base.privacy.id_hash under the
    test key (so identifier search by a clear number finds them)."""
    shutil.copytree(FIXTURE, dest)
    vault = vault_numbers(dest)
    with open(dest / "entities.csv", encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        fields, rows = reader.fieldnames, list(reader)
    for r in rows:
        if r["entity_id"] in vault:
            r["id_hash"] = id_hash(vault[r["entity_id"]], TEST_ID_KEY.encode())
    with open(dest / "entities.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return dest


def vault_numbers(resolved: Path) -> dict[str, str]:
    with open(resolved / "identity_vault.csv", encoding="utf-8", newline="") as f:
        return {r["entity_id"]: r["id_number"] for r in csv.DictReader(f)}


def make_keys(path: Path) -> dict[str, str]:
    keys = {role: create_key(f"test-{role}", [role], path) for role in ROLES}
    return keys


def hdr(key: str | None, purpose: bool = True) -> dict[str, str]:
    h = dict(PURPOSE) if purpose else {}
    if key:
        h["X-API-Key"] = key
    return h


def memory_app(root: Path):
    """The API over the embedded store (create_app loads it) from a copy of the fixture under
    `root`: (app, settings, keys by role), for tests that need their own app outside conftest."""
    from creditgraph.api.app import create_app
    from creditgraph.base.settings import Settings
    resolved = resolved_copy(root / "resolved_small")
    settings = Settings(data=root / "data", id_key=TEST_ID_KEY)
    keys = make_keys(settings.data / "api_keys.json")
    return create_app(resolved_dir=resolved, settings=settings), settings, keys


def open_loaded_store(kind: str, resolved: Path):
    """A store of `kind` ("neo4j": $NEO4J_URI, else "memory" beside `resolved`), loaded from it."""
    from creditgraph.graph.factory import open_store
    if kind == "neo4j":
        uri = os.environ.get("NEO4J_URI")
        if not uri:
            pytest.skip("NEO4J_URI not set (scripts/test starts the local server)")
        store = open_store(uri)
    else:
        store = open_store(f"memory://{resolved.parent / 'graph.pickle'}")
    store.load(resolved)
    return store
