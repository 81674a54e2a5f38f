"""The bulk import's CSVs (graph/bulk.py), without a server: headers typed as the driver stores
values, person data kept private, and what the importer would load differently refused."""
from __future__ import annotations

import csv
import shutil
import stat
from pathlib import Path

import pytest

from creditgraph.graph.bulk import BulkImportError, import_type, targets, write_import_files
from creditgraph.graph.load import ResolvedReader

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"


def _write(out_dir: Path, tmp_path: Path, batch_size: int = 5000):
    return write_import_files(ResolvedReader(out_dir), tmp_path / "import", run_id="r1",
                              loaded_at="2026-12-02T00:00:00+00:00", batch_size=batch_size)


def _header(files, kind: str, name: str) -> list[str]:
    with files.files[(kind, name)][0].path.open(encoding="utf-8") as f:
        return next(csv.reader(f))


def test_keys_and_id_spaces_come_from_the_loaders_merge_statements():
    nodes, relations = targets()
    assert nodes["Person"].labels == ("Entity", "Person") and nodes["Person"].key == "entity_id"
    assert nodes["Phone"].labels == ("Phone",) and nodes["Phone"].key == "number"
    assert relations["HAS_RECORD"] == ("Entity", "ListRecord")


@pytest.mark.parametrize("value,expected", [(3, "long"), (0.25, "double"), ("a", "string"),
                                            (["a", "b"], "string[]"), (True, "boolean")])
def test_types_are_those_the_driver_stores(value, expected):
    assert import_type(value) == expected


def test_headers_typed_and_files_private(tmp_path):
    files, batches = _write(FIXTURE, tmp_path)
    assert batches > 0 and files.counts["nodes"] > 0 and files.counts["relations"] > 0
    enterprise = _header(files, "node", "Enterprise")
    assert enterprise[0] == "entity_id:ID(Entity)"
    assert {"aliases:string[]", "n_sources:long", "run_id:string"} <= set(enterprise)
    assert _header(files, "relation", "SHAREHOLDER_OF")[:2] == [":START_ID(Entity)", ":END_ID(Entity)"]
    assert "ratio:double" in _header(files, "relation", "SHAREHOLDER_OF")
    assert stat.S_IMODE(files.dir.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in files.dir.iterdir()} == {0o600}
    assert any(a.startswith("--nodes=Entity:Enterprise=") for a in files.arguments())


def test_a_relation_key_twice_is_refused(tmp_path):
    """Across the reader's chunks MERGE keeps one relation and the importer would keep both."""
    out = tmp_path / "resolved"
    shutil.copytree(FIXTURE, out)
    rows = (out / "relations.csv").read_text(encoding="utf-8").splitlines()
    (out / "relations.csv").write_text("\n".join([*rows, rows[1]]) + "\n", encoding="utf-8")
    with pytest.raises(BulkImportError, match="occur twice"):
        _write(out, tmp_path, batch_size=5)
