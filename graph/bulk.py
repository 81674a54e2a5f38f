"""Bulk first load: a resolve output through ``neo4j-admin database import full`` (``load --bulk``).

For a large first load the transactional loader (graph/neo4j_store.py) spends most of its time in
MERGE and commits; Neo4j's offline importer writes the store files directly. The result is the
same graph as the transactional load of the same output (tests/integration/test_bulk_import.py):

1. import CSVs are written from the resolve output into a 0700 directory beside the server's
   home, files 0600 (they hold person data as the graph does), removed afterwards;
2. the local server of that home is stopped, ``neo4j-admin database import full
   --overwrite-destination`` replaces its ``neo4j`` database (Community has one user database);
3. the server is started on the ports it had, then the loader's own schema (cypher/schema.cypher:
   constraints, indexes, the full-text index) is created and populated, and the load state is
   written with the loader's own statements, as a completed transactional load leaves it.

Later outputs go through the transactional loader as usual: it MERGEs on the same keys, stamps a
new run_id and retires what the new output lacks.

Where the CSVs come from. The issue asks for "CSV headers written by the resolve"; here
``load --bulk`` derives headers and rows from the resolve output instead, through the same
``graph.load.ResolvedReader`` the transactional loader and the embedded store read. The reader is
where graph properties are shaped (aliases with the name, address and phone keys, role classes,
the display mask, review pairs aggregated per entity pair); a second writer in the resolve would
be a second definition of the graph to keep equal, and every resolve would write the data twice
whether or not it is ever bulk loaded. Node keys, labels and id spaces are read from the
loader's MERGE statements (cypher/load.cypher), and column types from the values the reader
yields (str -> string, int -> long, float -> double, lists -> arrays, dates -> date), so the
import follows the loader when either changes.

Each label or type gets one CSV file per set of columns: a file's header is fixed when it starts,
so a row with a property the current file lacks (or of another type) starts a new file whose
header is the union. Typical outputs give one file per label and type.
"""
from __future__ import annotations

import csv
import math
import os
import re
import subprocess
import tempfile
import time
from array import array
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from creditgraph.base.files import open_private, private_dir
from creditgraph.graph import server
from creditgraph.graph.load import NODE_LABELS, RELATION_TYPES, ResolvedReader
from creditgraph.graph.queries import QueryLibrary, library
from creditgraph.graph.store import LoadReport

#: between array elements; no name, address or identifier holds it (checked per element)
ARRAY_DELIMITER = "\x1f"
DATABASE = "neo4j"  # Community's one user database
#: a label or type whose rows change columns more often than this is a loader bug, not data
MAX_FILES_PER_NAME = 64
SCHEMA_WAIT = 3600  # seconds to wait for the indexes over an imported graph

_NODE_MERGE = re.compile(r"MERGE \(n:(\w+) \{(\w+): row\.id\}\)")
_SET_LABEL = re.compile(r"\bn:(\w+)")
_RELATION_ENDS = re.compile(r"\(a:(\w+) \{(\w+): row\.from\}\).*?\(b:(\w+) \{(\w+): row\.to\}\)",
                            re.S)


class BulkImportError(RuntimeError):
    """The output cannot be imported as the transactional loader would load it, or the import
    failed; the message says why."""


@dataclass(frozen=True)
class NodeTarget:
    labels: tuple[str, ...]  # the MERGE label first: it is the id space
    key: str                 # the property MERGE matches on; the import's :ID column


def targets(queries: QueryLibrary | None = None) -> tuple[dict[str, NodeTarget],
                                                          dict[str, tuple[str, str]]]:
    """Node targets by reader label, and (start, end) id spaces by relation type, from the
    loader's merge_* statements."""
    q = queries or library()
    nodes: dict[str, NodeTarget] = {}
    for label in NODE_LABELS:
        text = q[f"merge_{label}"].statements[0].text
        m = _NODE_MERGE.search(text)
        if not m:
            raise BulkImportError(f"load.cypher: merge_{label} has no `MERGE (n:Label {{key: row.id}})`"
                                  " to import like")
        space, key = m.groups()
        extra = [lb for lb in _SET_LABEL.findall(text[m.end():]) if lb != space]
        nodes[label] = NodeTarget((space, *dict.fromkeys(extra)), key)
    keys = {t.labels[0]: t.key for t in nodes.values()}
    relations: dict[str, tuple[str, str]] = {}
    for typ in RELATION_TYPES:
        m = _RELATION_ENDS.search(q[f"merge_{typ}"].statements[0].text)
        if not m or keys.get(m.group(1)) != m.group(2) or keys.get(m.group(3)) != m.group(4):
            raise BulkImportError(f"load.cypher: merge_{typ} does not match both ends on a node key")
        relations[typ] = (m.group(1), m.group(3))
    return nodes, relations


# --------------------------------------------------------------------------- CSV writing


#: the import type of a value of exactly this Python type: one dict lookup per cell, where the
#: isinstance chain below (for subclasses) cost a fifth of writing the CSVs
_EXACT_TYPES = {str: "string", int: "long", float: "double", bool: "boolean", date: "date"}


def _scalar_type(value: Any) -> str:
    exact = _EXACT_TYPES.get(type(value))
    if exact:
        return exact
    # bool before int, datetime before date: each is a subclass of the other
    for kind, name in ((bool, "boolean"), (int, "long"), (float, "double"), (str, "string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, datetime):
        return "datetime" if value.tzinfo else "localdatetime"
    if isinstance(value, date):
        return "date"
    raise BulkImportError(f"no import type for a {type(value).__name__} value ({value!r})")


def import_type(value: Any) -> str:
    """The import header type of a value as the driver would store it (Python float is a
    64-bit double: `double`, never the import's 32-bit `float`)."""
    if isinstance(value, (list, tuple)):
        inner = {_scalar_type(v) for v in value}
        if len(inner) != 1:
            raise BulkImportError(f"an array must hold values of one type, got {value!r}")
        return inner.pop() + "[]"
    return _scalar_type(value)


class _File:
    """One import CSV: a header fixed when it starts, then the rows that fit it."""

    def __init__(self, path: Path, head: list[str], columns: dict[str, str]):
        self.path, self.columns, self.rows = path, columns, 0
        self.fh = open_private(path, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.fh, lineterminator="\n")
        self.writer.writerow([*head, *(f"{k}:{t}" for k, t in columns.items())])

    def fits(self, types: dict[str, str]) -> bool:
        return all(self.columns.get(k) == t for k, t in types.items())


class ImportFiles:
    """The import CSVs of one output, written as the reader's batches go by."""

    def __init__(self, directory: Path, stamps: dict[str, str],
                 queries: QueryLibrary | None = None):
        self.dir = private_dir(directory)
        self.stamps = stamps
        self.nodes, self.relations = targets(queries)
        self.files: dict[tuple[str, str], list[_File]] = {}
        self.multiline = False
        self.counts = {"nodes": 0, "relations": 0}
        self._keys = array("q")  # hashes of relation keys: a key twice is refused (see check)

    def add(self, kind: str, name: str, rows: list[dict]) -> None:
        if kind == "node":
            target = self.nodes[name]
            head = [f"{target.key}:ID({target.labels[0]})"]
            for row in rows:
                props = dict(row["props"])
                if props.pop(target.key, None) != row["id"]:
                    raise BulkImportError(f"a {name} row's {target.key} is not its id: {row['id']!r}")
                self._write(kind, name, head, [row["id"]], props)
            self.counts["nodes"] += len(rows)
        else:
            start, end = self.relations[name]
            head = [f":START_ID({start})", f":END_ID({end})"]
            for row in rows:
                if "key" in row["props"]:
                    self._keys.append(hash(row["props"]["key"]))
                self._write(kind, name, head, [row["from"], row["to"]], row["props"])
            self.counts["relations"] += len(rows)

    def _write(self, kind: str, name: str, head: list[str], cells: list[str],
               props: dict[str, Any]) -> None:
        props = {**props, **self.stamps}  # as the loader's SET x = row.props, x.run_id = ...
        types = {k: import_type(v) for k, v in props.items() if v is not None}
        files = self.files.setdefault((kind, name), [])
        current = files[-1] if files else None
        if current is None or not current.fits(types):
            if len(files) >= MAX_FILES_PER_NAME:
                raise BulkImportError(f"the properties of {name} change columns or types row by row")
            if current is not None:
                current.fh.close()
            columns = {**(current.columns if current else {}), **types}
            current = _File(self.dir / f"{kind}-{name}-{len(files):02d}.csv", head, columns)
            files.append(current)
        current.writer.writerow([*cells, *(self._cell(props.get(k)) for k in current.columns)])
        current.rows += 1

    def _cell(self, value: Any) -> str:
        if type(value) is str and value and "\n" not in value and "\r" not in value:
            return value  # most cells: the checks below would end the same way
        if value is None:
            return ""  # no property, as the loader's SET drops a null
        if isinstance(value, (list, tuple)):
            parts = [self._cell(v) for v in value]
            if any(ARRAY_DELIMITER in p or p == "" for p in parts):
                raise BulkImportError(f"an array element is empty or holds U+001F: {value!r}")
            return ARRAY_DELIMITER.join(parts)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float):
            if not math.isfinite(value):
                raise BulkImportError(f"{value!r} cannot be imported")
            return repr(value)  # shortest text that reads back as the same double
        if isinstance(value, (int, date)):
            return value.isoformat() if isinstance(value, date) else str(value)
        if value == "":
            # an empty field is no value to the importer; the reader drops empty strings
            raise BulkImportError("an empty string property cannot be imported as one")
        if "\n" in value or "\r" in value:
            self.multiline = True
        return value

    def close(self) -> None:
        for files in self.files.values():
            for f in files:
                f.fh.close()

    def check(self) -> None:
        """Refuse a relation key written twice: MERGE would keep one, the import both.
        (relations.csv is deduplicated by contract; the reader merges duplicates in a chunk.)"""
        keys = sorted(self._keys)
        twice = sum(1 for a, b in zip(keys, keys[1:]) if a == b)
        if twice:
            raise BulkImportError(f"{twice} relation key(s) occur twice in the output (relations.csv "
                                  "is not deduplicated on from, to, type, role): load it without --bulk")

    def arguments(self) -> list[str]:
        """The importer's --nodes and --relationships arguments."""
        out = []
        for (kind, name), files in self.files.items():
            for f in files:
                if kind == "node":
                    out.append(f"--nodes={':'.join(self.nodes[name].labels)}={f.path}")
                else:
                    out.append(f"--relationships={name}={f.path}")
        return out


# --------------------------------------------------------------------------- the import


def write_import_files(reader: ResolvedReader, directory: Path, *, run_id: str, loaded_at: str,
                       batch_size: int = 5000) -> tuple[ImportFiles, int]:
    """Write the import CSVs of the reader's output under ``directory``; returns (files, batches)."""
    files = ImportFiles(directory, {"run_id": run_id, "loaded_at": loaded_at})
    batches = 0
    try:
        for batches, batch in enumerate(reader.batches(batch_size), start=1):
            for kind, name, rows in batch:
                files.add(kind, name, rows)
    finally:
        files.close()
    files.check()
    return files, batches


def import_command(home: Path, files: ImportFiles, heap: str = "1g",
                   memory: str | None = None) -> list[str]:
    cmd = [server.java(), f"-Xmx{heap}", *server.JVM_FLAGS, "-cp", str(home / "lib" / "*"),
           # the database first: --nodes and --relationships take any number of files after them
           server.ADMIN_TOOL, "database", "import", "full", DATABASE, "--overwrite-destination=true",
           "--bad-tolerance=0", f"--array-delimiter=U+{ord(ARRAY_DELIMITER):04X}",
           f"--report-file={files.dir / 'import.report'}"]
    if memory:  # off-heap caches; the importer's default is 90% of free memory
        cmd.append(f"--max-off-heap-memory={memory}")
    if files.multiline:  # slower: the importer cannot split the files between threads
        cmd.append("--multiline-fields=true")
    return [*cmd, *files.arguments()]


def run_import(home: Path, files: ImportFiles, heap: str = "1g", memory: str | None = None) -> None:
    """Run the importer on the (stopped) server's home; raise with its output on failure."""
    env = dict(os.environ, NEO4J_HOME=str(home), NEO4J_CONF=str(home / "conf"))
    proc = subprocess.run(import_command(home, files, heap, memory), capture_output=True, text=True,
                          env=env, cwd=files.dir)
    if proc.returncode != 0:
        out = (proc.stdout + proc.stderr).strip().splitlines()
        report = files.dir / "import.report"
        tail = report.read_text(errors="replace").splitlines()[-10:] if report.exists() else []
        raise BulkImportError(
            "neo4j-admin database import full failed (exit %d); the server of %s is stopped and "
            "its neo4j database may be empty: start it and load without --bulk, or fix and run "
            "again:\n%s" % (proc.returncode, home, "\n".join(out[-30:] + tail)))


def _auth(running_auth: bool) -> tuple[str, str] | None:
    if not running_auth:
        return None
    password = os.environ.get("NEO4J_PASSWORD")
    if not password:
        raise BulkImportError("this Neo4j home has a password: set NEO4J_PASSWORD")
    return (os.environ.get("NEO4J_USER") or "neo4j", password)


def bulk_load(out_dir: Path | str, home: Path | str | None = None, *, batch_size: int = 5000,
              import_heap: str = "1g", import_memory: str | None = None,
              bolt_port: int | None = None,
              http_port: int | None = None) -> LoadReport:
    """Replace the ``neo4j`` database of the local server at ``home`` with the graph of
    ``out_dir``, imported offline; the server is (re)started and left running, on the ports
    given, else on those it last had (the defaults for a home never started)."""
    from creditgraph.graph.neo4j_store import Neo4jStore

    t0 = time.perf_counter()
    home = server.resolve_home(home)
    info = server.status(home)
    auth = _auth(info["auth"])  # before anything stops: a missing password fails first
    server.install(home)
    now = datetime.now(timezone.utc)
    loaded_at = now.isoformat(timespec="seconds")
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="bulk-import-", dir=home) as tmp:  # 0700
        t = time.perf_counter()
        reader = ResolvedReader(out_dir)
        run_id = f"{reader.content_hash}-{now:%Y%m%dT%H%M%S%fZ}"  # the loader's form
        files, batches = write_import_files(reader, Path(tmp), run_id=run_id,
                                            loaded_at=loaded_at, batch_size=batch_size)
        timings["write_csv"] = time.perf_counter() - t
        t = time.perf_counter()
        server.stop(home)
        timings["stop"] = time.perf_counter() - t
        t = time.perf_counter()
        run_import(home, files, import_heap, import_memory)
        timings["import"] = time.perf_counter() - t
    t = time.perf_counter()
    bolt_port = bolt_port or info["bolt_port"]
    server.start(home, bolt_port=bolt_port, http_port=http_port or info["http_port"],
                 heap=info["heap"] or "1g", pagecache=info["pagecache"] or "512m")
    timings["start"] = time.perf_counter() - t
    store = Neo4jStore(f"bolt://{server.LISTEN_HOST}:{bolt_port}", auth=auth, database=DATABASE)
    try:
        t = time.perf_counter()
        _create_schema(store)
        timings["schema"] = time.perf_counter() - t
        _record_state(store, run_id, reader.content_hash, batch_size, batches, loaded_at)
        counts = store.counts()
    finally:
        store.close()
    report = LoadReport(store="neo4j", out_dir=str(out_dir), run_id=run_id,
                        content_hash=reader.content_hash, nodes_created=files.counts["nodes"],
                        relations_created=files.counts["relations"],
                        nodes_total=counts["nodes"], relations_total=counts["relations"],
                        batches=batches, skipped=dict(reader.skipped))
    timings["total"] = time.perf_counter() - t0
    report.timings = {k: round(v, 4) for k, v in timings.items()}
    return report


def _create_schema(store) -> None:
    """The loader's schema (Neo4jStore.ensure_schema), waiting as long as populating its
    indexes over a whole imported graph takes (the loader's 300 s is for empty or small ones)."""
    for st in store.queries.statements_of("schema.cypher"):
        store.driver.execute_query(st.text, database_=DATABASE)
    store.driver.execute_query("CALL db.awaitIndexes($s)", {"s": SCHEMA_WAIT}, database_=DATABASE)
    store.driver.execute_query("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()",
                               database_=DATABASE)


def _record_state(store, run_id: str, content_hash: str, batch_size: int, batches: int,
                  loaded_at: str) -> None:
    """The load state a completed transactional load of the same output leaves."""
    store._run("load_begin", run_id=run_id, content_hash=content_hash, batch_size=batch_size,
               loaded_at=loaded_at)
    store._run("load_checkpoint", run_id=run_id, batches_done=batches)
    store._run("load_complete", run_id=run_id,
               loaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))


__all__ = ["BulkImportError", "bulk_load", "write_import_files", "targets", "import_type"]
