"""Neo4jStore: the graph on a Neo4j server (5.26), loaded in batches, queried by name.

Load: schema (cypher/schema.cypher, IF NOT EXISTS), then the batches of
graph.load.ResolvedReader (entities, list records, relations, review pairs; in each batch the
node parts before the relation parts), each part an ``UNWIND $rows AS row MERGE ... SET ...``
(cypher/load.cypher), a batch committed in one transaction together with the checkpoint
``(:LoadState {key: 'current'}).batches_done``. A load that is
killed leaves the state ``running``; the next load of the same resolve output (same content
hash and batch size) resumes after the last committed batch with the same ``run_id``. Then
stale relations and nodes (another run_id) are deleted (see graph/store.py for the rule).
Every call passes ``database_``.
"""
from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import neo4j
from neo4j import GraphDatabase, RoutingControl

from creditgraph.graph.load import NODE_LABELS, RELATION_TYPES, ResolvedReader
from creditgraph.graph.queries import QueryLibrary
from creditgraph.graph.store import BaseStore, BatchHook, LoadReport

GRAPH_LABELS = ["Entity", "ListRecord", "Address", "Phone"]


class Neo4jStore(BaseStore):
    kind = "neo4j"

    def __init__(self, uri: str, auth: tuple[str, str] | None = None, database: str = "neo4j",
                 queries: QueryLibrary | None = None, driver: neo4j.Driver | None = None):
        super().__init__(queries)
        self.uri = uri
        self.database = database
        self.driver = driver or GraphDatabase.driver(
            uri, auth=auth, notifications_min_severity="OFF")

    # ------------------------------------------------------------------ helpers
    def _text(self, name: str):
        return self.queries[name].statements[0].text

    def _run(self, name: str, **params: Any) -> list[dict]:
        records, _, _ = self.driver.execute_query(self._text(name), params,
                                                  database_=self.database)
        return [r.data() for r in records]

    def _autocommit(self, name: str, **params: Any) -> neo4j.SummaryCounters:
        """For CALL ... IN TRANSACTIONS, which needs an implicit transaction."""
        with self.driver.session(database=self.database) as session:
            return session.run(self._text(name), params).consume().counters

    def ensure_schema(self) -> None:
        for st in self.queries.statements_of("schema.cypher"):
            self.driver.execute_query(st.text, database_=self.database)
        self.driver.execute_query("CALL db.awaitIndexes(300)", database_=self.database)

    def counts(self) -> dict[str, int]:
        rows = self._run("count_graph", labels=GRAPH_LABELS, types=list(RELATION_TYPES))
        return rows[0] if rows else {"nodes": 0, "relations": 0}

    # ------------------------------------------------------------------ load
    def load(self, out_dir: Path | str, *, batch_size: int = 5000,
             on_batch: BatchHook | None = None, progress: bool | None = None) -> LoadReport:
        t0 = time.perf_counter()
        reader = ResolvedReader(out_dir)
        timings = {"read": time.perf_counter() - t0, "nodes": 0.0, "relations": 0.0}
        t = time.perf_counter()
        self.ensure_schema()
        timings["schema"] = time.perf_counter() - t

        state = self._run("load_state")
        state = state[0] if state else None
        loaded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        if (state and state["status"] == "running" and state["content_hash"] == reader.content_hash
                and state["batch_size"] == batch_size):
            run_id, done = state["run_id"], int(state["batches_done"] or 0)
        else:
            run_id = f"{reader.content_hash}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%fZ}"
            done = 0
            self._run("load_begin", run_id=run_id, content_hash=reader.content_hash,
                      batch_size=batch_size, loaded_at=loaded_at)
        report = LoadReport(store=self.kind, out_dir=str(out_dir), run_id=run_id,
                            content_hash=reader.content_hash, resumed_from=done)
        checkpoint = self._text("load_checkpoint")
        texts = {name: self._text(f"merge_{name}") for name in (*NODE_LABELS, *RELATION_TYPES)}

        def write(tx, batch, n):
            out = []
            for kind, name, rows in batch:
                t = time.perf_counter()
                c = tx.run(texts[name], rows=rows, run_id=run_id, loaded_at=loaded_at).consume()
                out.append((kind, len(rows), c.counters, time.perf_counter() - t))
            tx.run(checkpoint, run_id=run_id, batches_done=n).consume()
            return out

        show = sys.stderr.isatty() if progress is None else progress
        estimate = reader.estimate_batches(batch_size)
        from rich.progress import Progress
        t = time.perf_counter()
        with Progress(disable=not show, transient=True) as bar:
            task = bar.add_task("loading graph", total=estimate, completed=done)
            i = 0
            for i, batch in enumerate(reader.batches(batch_size), start=1):
                if i <= done:
                    continue
                bar.update(task, description=f"batch {i}: {', '.join(n for _, n, _ in batch)}")
                with self.driver.session(database=self.database) as session:
                    parts = session.execute_write(write, batch, i)
                for kind, n_rows, c, secs in parts:
                    if kind == "node":
                        report.nodes_created += c.nodes_created
                        report.nodes_updated += n_rows - c.nodes_created
                        timings["nodes"] += secs
                    else:
                        report.relations_created += c.relationships_created
                        report.relations_updated += n_rows - c.relationships_created
                        timings["relations"] += secs
                bar.advance(task)
                if on_batch:
                    on_batch(i, max(i, estimate))
            report.batches = i
        timings["write"] = time.perf_counter() - t
        report.skipped = dict(reader.skipped)

        t = time.perf_counter()
        c = self._autocommit("retire_relations", types=list(RELATION_TYPES), run_id=run_id)
        report.relations_retired += c.relationships_deleted
        c = self._autocommit("retire_nodes", labels=GRAPH_LABELS, run_id=run_id)
        report.nodes_retired += c.nodes_deleted
        report.relations_retired += c.relationships_deleted
        self.driver.execute_query("CALL db.index.fulltext.awaitEventuallyConsistentIndexRefresh()",
                                  database_=self.database)
        self._run("load_complete", run_id=run_id,
                  loaded_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        timings["retire"] = time.perf_counter() - t
        counts = self.counts()
        report.nodes_total, report.relations_total = counts["nodes"], counts["relations"]
        timings["total"] = time.perf_counter() - t0
        report.timings = {k: round(v, 4) for k, v in timings.items()}
        return report

    # ------------------------------------------------------------------ query
    def query(self, name: str, **params: Any) -> list[dict]:
        nq, merged = self.prepare(name, params)
        st, bound = nq.bind(merged)
        records, _, _ = self.driver.execute_query(st.text, bound, database_=self.database,
                                                  routing_=RoutingControl.READ)
        return [r.data() for r in records]

    def wipe(self) -> None:
        """Delete every node of the graph's labels and the load state (tests, benchmarks)."""
        with self.driver.session(database=self.database) as session:
            session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                        ).consume()

    def close(self) -> None:
        self.driver.close()


__all__ = ["Neo4jStore", "NODE_LABELS"]
