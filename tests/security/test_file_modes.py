"""An insider with a shell as another (non-root) user reads nothing: every resolve output and
the embedded graph are 0600 in 0700 directories, whatever the umask, and rejects.csv holds no
identity number in clear (its vault does, 0600)."""
from __future__ import annotations

import os
import stat

import pytest

from creditgraph.base.settings import Settings

from .conftest import CITY


@pytest.fixture
def open_umask():
    """The loosest umask: modes must come from the code, not from the environment."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_resolve_outputs_are_owner_only(tmp_path, open_umask):
    from creditgraph.pipeline import run_resolve
    from creditgraph.synth import generate
    generate(tmp_path / "city", CITY["enterprises"], CITY["persons"], seed=CITY["seed"])
    out = tmp_path / "out" / "resolved"   # the job makes both directories
    run_resolve(tmp_path / "city" / "manifest.yaml", out, Settings(data=tmp_path / "data", id_key="k"))
    files = sorted(p.name for p in out.iterdir())
    assert {"entities.csv", "mentions.csv", "relations.csv", "list_records.csv", "review_queue.csv",
            "rejects.csv", "rejects_vault.csv", "identity_vault.csv", "run_report.json"} <= set(files)
    assert {name: mode(out / name) for name in files} == {name: 0o600 for name in files}
    assert mode(out) == mode(out.parent) == 0o700


def test_rerun_tightens_files_an_earlier_version_left_readable(tmp_path, open_umask):
    from creditgraph.base.files import open_private, write_private
    path = tmp_path / "d" / "entities.csv"
    path.parent.mkdir()
    path.write_text("old")
    os.chmod(path, 0o644)
    with write_private(path, encoding="utf-8") as f:
        f.write("new")
    assert (mode(path), path.read_text()) == (0o600, "new")
    os.chmod(path, 0o644)
    with open_private(path, "a", encoding="utf-8") as f:   # an append log (decisions, audit)
        f.write("+")
    assert (mode(path), path.read_text()) == (0o600, "new+")


def test_private_dir_makes_missing_parents_0700_and_leaves_existing_ones(tmp_path, open_umask):
    from creditgraph.base.files import private_dir
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    made = private_dir(shared / "a" / "b")
    assert (mode(shared / "a"), mode(made), mode(shared)) == (0o700, 0o700, 0o755)


def test_embedded_graph_is_owner_only(fixture_resolved, tmp_path, open_umask):
    from creditgraph.graph.memory_store import MemoryStore
    path = tmp_path / "data" / "graph.pickle"
    MemoryStore(path).load(fixture_resolved)
    assert (mode(path), mode(path.parent)) == (0o600, 0o700)
    assert [p.name for p in path.parent.iterdir()] == ["graph.pickle"]  # no readable temporary left


def test_data_directory_secrets_are_owner_only(tmp_path, open_umask):
    """The identity-hash key, the API keys and their last-use file, and an evaluation (it names
    persons) are 0600 in a 0700 data directory that the code made."""
    from datetime import datetime, timezone

    from creditgraph.api.keys import KeyRing, create_key, record_use, used_path
    from creditgraph.base.settings import id_key
    from creditgraph.linkage.evaluate import save

    data = tmp_path / "data"
    id_key(Settings(data=data))
    keys = data / "keys" / "api_keys.json"
    create_key("alice", ["investigator"], path=keys)
    KeyRing(keys).lookup("cg_not-a-key")
    record_use(keys, "0" * 64, datetime.now(timezone.utc))
    save({"person": {"false_merges": [{"names": "张伟"}]}}, data / "resolved")
    for f in (data / "secret.key", keys, used_path(keys), data / "resolved" / "evaluation.json"):
        assert mode(f) == 0o600, f
    for d in (data, keys.parent, data / "resolved"):
        assert mode(d) == 0o700, d
