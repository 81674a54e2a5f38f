"""Start-up: the long-lived objects are frozen out of Python's full collections."""
import gc

from fastapi.testclient import TestClient

from api_helpers import memory_app


def test_startup_freezes_what_lives_as_long_as_the_process(tmp_path):
    app, _, _ = memory_app(tmp_path)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 10_000  # modules, routes, the store's graph
    gc.unfreeze()  # give the rest of the test session its collector back
