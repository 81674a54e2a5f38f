"""API tests run through HTTP on the memory store, and on Neo4j when NEO4J_URI is set."""
from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient

from creditgraph.api.app import create_app
from creditgraph.base.settings import Settings
from api_helpers import TEST_ID_KEY, make_keys, open_loaded_store, resolved_copy

STORES = ["memory", pytest.param("neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(scope="module")
def resolved(tmp_path_factory):
    return resolved_copy(tmp_path_factory.mktemp("resolved") / "resolved_small")


@pytest.fixture(scope="module", params=STORES)
def store(request, resolved):
    s = open_loaded_store(request.param, resolved)
    yield s
    s.close()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory, store):
    """Per store run: its own keys file, audit trail and decision log."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def settings(data_dir):
    return Settings(data=data_dir, id_key=TEST_ID_KEY)


@pytest.fixture(scope="module")
def keys(settings):
    return make_keys(settings.data / "api_keys.json")


@pytest.fixture(scope="module")
def app(store, resolved, settings, keys):
    os.environ.pop("CREDITGRAPH_API_KEYS_FILE", None)
    return create_app(store=store, resolved_dir=resolved, settings=settings)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app) as c:
        yield c
