"""`creditgraph ingest` of batches held in PostgreSQL (`format: sql`, the real server scripts/test
starts): a synthetic city's three daily batches (deltas, and the tax export sent whole in the
last), each source a table read by a query, give what the same rows sent as CSV give: the same
outputs, the same counts per source, the same rejects."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa
import yaml

from incremental_helpers import KEYS, batch_frames, city, ingested, same_outputs, with_bad_insert
from test_sql_sources import manifest_url, pg, pg_server  # noqa: F401 (fixtures)


def as_sql(engine, batch, out, prefix: str):
    """The batch with every source a table of text (NULL for empty) read by a query in the
    rows' order, as an exchange centre holds a department's day."""
    raw, rows = batch_frames(batch)
    url = manifest_url(engine)
    with engine.begin() as conn:
        for name, frame in rows.items():
            table = sa.Table(f"{prefix}_{name}", sa.MetaData(), sa.Column("ord", sa.Integer, primary_key=True),
                             *[sa.Column(c, sa.Text) for c in frame.columns])
            table.create(conn)
            conn.execute(table.insert(), [{"ord": i, **{c: v or None for c, v in row.items()}}
                                          for i, row in enumerate(frame.to_dict("records"))])
    out.mkdir(parents=True, exist_ok=True)
    sources = []
    for source in raw["sources"]:
        columns = ", ".join(f'"{c}"' for c in rows[source["name"]].columns)
        entry = {k: v for k, v in source.items() if k not in ("file", "encoding", "delimiter")}
        sources.append(entry | {"format": "sql", "url": url,
                                "query": f'SELECT {columns} FROM "{prefix}_{source["name"]}" ORDER BY ord'})
    path = out / "manifest.yaml"
    path.write_text(yaml.safe_dump({**raw, "sources": sources}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_sql_batches_ingest_as_the_same_rows_in_csv(tmp_path, pg):
    c = city(tmp_path / "city", enterprises=600, persons=900, rows=80)
    csv_batches = [with_bad_insert(b, tmp_path / f"csv_{n}") for n, b in enumerate(c["batches"], 1)]
    sql_batches = [as_sql(pg, b, tmp_path / f"sql_{n}", f"b{n}") for n, b in enumerate(csv_batches, 1)]
    by_csv, by_sql = ingested(c, csv_batches, tmp_path / "a"), ingested(c, sql_batches, tmp_path / "b")
    assert same_outputs(tmp_path / "a", tmp_path / "b") == {name: 0 for name in KEYS}
    last = yaml.safe_load(sql_batches[-1].read_text(encoding="utf-8"))["sources"]
    assert {s.get("mode") for s in last} == {"snapshot", "delta"} and {s["format"] for s in last} == {"sql"}
    for one, other in zip(by_csv, by_sql):
        assert one["rows"] == other["rows"] and one["records"] == other["records"]
        assert one["rows"]["inserted"] and one["rows"]["deleted"]
        counts = lambda changes: {s["source"]: (s["rows_read"], s["accepted"], s["rejected"], s["mentions"])
                                  for s in changes["sources"]}
        assert counts(one) == counts(other)
        assert all(read == accepted + rejected for read, accepted, rejected, _ in counts(other).values())
        assert all("table" not in s["file"] and "query of" in s["file"] for s in other["sources"])
    rejects = [pd.read_csv(d / "rejects.csv", dtype=str, keep_default_na=False) for d in (tmp_path / "a", tmp_path / "b")]
    added = [r.iloc[len(pd.read_csv(c["full"] / "rejects.csv", dtype=str)):] for r in rejects]
    bad = [a[a["raw"].str.contains("BAD-INSERT-1")] for a in added]
    assert len(bad[0]) == len(bad[1]) == 3 and set(bad[1]["reason"]) == set(bad[0]["reason"])
    assert pg.url.password not in "".join(added[1]["file"])
    assert added[0].drop(columns=["file", "line"]).equals(added[1].drop(columns=["file", "line"]))
