"""Load benchmark: a synthetic resolve output (default 1M entities, 3M relations) into Neo4j.

    python benchmarks/graph_load.py --uri bolt://127.0.0.1:7687 [--entities 1000000]
        [--relations 3000000] [--batch-size 10000] [--naive-sample 50000] [--out DIR]

1. Generates the resolve output directly in the CSV contract (docs/architecture.md) with numpy:
   enterprises and persons, LEGAL_REP_OF (one per firm), SHAREHOLDER_OF {ratio},
   EXECUTIVE_OF {role}, GUARANTEES {amount}, BRANCH_OF, EMPLOYED_BY, list records (3% of
   entities), review pairs, addresses (one per firm, shared) and phones (30% of firms).
2. Naive baseline on a sample: the first N entities and the relations among them, one MERGE
   per row and transaction (what a first attempt looks like), into an empty database.
3. The real loader (graph.neo4j_store.Neo4jStore.load) on the same sample, then on the whole
   output. Reports nodes/s and relations/s for each, and the speed-up on the sample.

WIPES the database at --uri (refuses a non-loopback address). Prints a JSON summary last.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国海波鑫达")
TRADE = list("鑫达华信恒通宏远盛世新金桥海港众创云帆蓝天博泰隆兴瑞丰源汇嘉禾永安德利中和")
INDUSTRY = ["贸易", "物流", "建材", "机械", "化工", "投资", "商贸", "物业管理", "电子科技",
            "网络科技", "文化传媒", "食品", "服装", "建筑工程", "农业发展"]
DISTRICTS = ["站前区", "西市区", "鲅鱼圈区", "老边区", "盖州市", "大石桥市"]
ROLES = ["董事", "监事", "总经理", "财务负责人", "执行董事", "董事长", "副总经理", "执行董事兼总经理"]
LISTS = ["dishonest_debtor", "consumption_restriction", "major_tax_violation", "customs_dishonest",
         "wage_arrears", "serious_illegal", "tax_grade_a"]


def _pick(rng, pool, n):
    return np.array(pool, dtype=object)[rng.integers(0, len(pool), n)]


def generate(out: Path, n_entities: int = 1_000_000, n_relations: int = 3_000_000,
             seed: int = 7) -> dict:
    """Write entities.csv, relations.csv, list_records.csv, review_queue.csv under out."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    n_e = int(n_entities * 0.6)
    n_p = n_entities - n_e
    e_ids = np.char.add("E-", np.char.zfill(np.arange(n_e).astype(str), 7)).astype(object)
    p_ids = np.char.add("P-", np.char.zfill(np.arange(n_p).astype(str), 7)).astype(object)

    trade = _pick(rng, TRADE, n_e) + _pick(rng, TRADE, n_e)
    e_names = "营口" + trade + _pick(rng, INDUSTRY, n_e) + "有限公司" + \
        np.char.zfill(np.arange(n_e).astype(str), 6).astype(object)  # unique-ish names
    e_names = np.where(rng.random(n_e) < 0.9, "营口" + trade + _pick(rng, INDUSTRY, n_e) + "有限公司",
                       e_names)
    uscc = "91210800" + np.char.zfill(np.arange(n_e).astype(str), 9).astype(object) + "X"
    n_addr = max(1, n_e * 2 // 3)
    addr_idx = rng.integers(0, n_addr, n_e)
    addresses = "营口市" + np.array(DISTRICTS, dtype=object)[addr_idx % len(DISTRICTS)] + "渤海大街" + \
        addr_idx.astype(str).astype(object) + "号"
    phones = np.where(rng.random(n_e) < 0.3,
                      "0417" + np.char.zfill(rng.integers(0, n_e, n_e).astype(str), 7).astype(object), "")
    ent = pd.DataFrame({
        "entity_id": e_ids, "kind": "enterprise", "name": e_names, "identifier": uscc,
        "identifier_type": "uscc", "id_hash": "", "aliases": e_names, "n_aliases": 1,
        "n_sources": 1, "departments": "market", "records": "market_registry:" + e_ids,
        "addresses": addresses, "phones": phones, "birth_date": "", "attrs": ""})
    p_names = _pick(rng, SURNAMES, n_p) + _pick(rng, GIVEN, n_p) + \
        np.where(rng.random(n_p) < 0.6, _pick(rng, GIVEN, n_p), "")
    tail = np.char.zfill(rng.integers(0, 10000, n_p).astype(str), 4).astype(object)
    hashes = [hashlib.blake2b(p.encode(), digest_size=16).hexdigest() for p in p_ids]
    per = pd.DataFrame({
        "entity_id": p_ids, "kind": "person", "name": p_names,
        "identifier": "210802********" + tail, "identifier_type": "id18", "id_hash": hashes,
        "aliases": p_names, "n_aliases": 1, "n_sources": 1, "departments": "market",
        "records": "market_registry:" + p_ids, "addresses": "", "phones": "",
        "birth_date": "1980-01-01", "attrs": ""})
    pd.concat([ent, per]).to_csv(out / "entities.csv", index=False)

    share = {"LEGAL_REP_OF": n_e / n_relations, "SHAREHOLDER_OF": 0.40, "EXECUTIVE_OF": 0.27,
             "GUARANTEES": 0.07, "BRANCH_OF": 0.02}
    share["EMPLOYED_BY"] = max(0.0, 1 - sum(share.values()))
    frames = []
    for typ, frac in share.items():
        n = int(n_relations * frac)
        if typ == "LEGAL_REP_OF":
            n = n_e
            frm = p_ids[rng.integers(0, n_p, n)]
            to = e_ids
        elif typ == "SHAREHOLDER_OF":
            is_p = rng.random(n) < 0.7
            frm = np.where(is_p, p_ids[rng.integers(0, n_p, n)], e_ids[rng.integers(0, n_e, n)])
            to = e_ids[rng.integers(0, n_e, n)]
        elif typ in ("EXECUTIVE_OF", "EMPLOYED_BY"):
            frm = p_ids[rng.integers(0, n_p, n)]
            to = e_ids[rng.integers(0, n_e, n)]
        else:
            frm = e_ids[rng.integers(0, n_e, n)]
            to = e_ids[rng.integers(0, n_e, n)]
        frames.append(pd.DataFrame({
            "from_id": frm, "to_id": to, "type": typ,
            "ratio": np.round(rng.uniform(0.05, 1.0, n), 4) if typ == "SHAREHOLDER_OF" else np.nan,
            "role": _pick(rng, ROLES, n) if typ == "EXECUTIVE_OF" else "",
            "amount": np.round(rng.uniform(1e5, 1e8, n), -3) if typ == "GUARANTEES" else np.nan,
            "source": "market_registry", "record_id": np.arange(n).astype(str)}))
    rel = pd.concat(frames)
    rel = rel[rel["from_id"] != rel["to_id"]].drop_duplicates(["from_id", "to_id", "type", "role"])
    rel.to_csv(out / "relations.csv", index=False)

    all_ids = np.concatenate([e_ids, p_ids])
    n_l = max(1, n_entities * 3 // 100)
    pd.DataFrame({
        "record_uid": "src:" + np.arange(n_l).astype(str).astype(object),
        "entity_id": all_ids[rng.integers(0, len(all_ids), n_l)],
        "list": _pick(rng, LISTS, n_l), "grade": "", "authority": "营口市中级人民法院",
        "case_no": "", "date": "2024-01-01", "source": "src", "record_id": np.arange(n_l)}
    ).to_csv(out / "list_records.csv", index=False)
    n_r = max(1, n_entities // 100)
    pd.DataFrame({
        "pair_id": np.arange(n_r), "kind": "enterprise", "left_mention": "", "right_mention": "",
        "left_entity": e_ids[rng.integers(0, n_e, n_r)],
        "right_entity": e_ids[rng.integers(0, n_e, n_r)], "score": 0.7, "reason": "uncertain",
        "evidence": "{}"}).to_csv(out / "review_queue.csv", index=False)
    return {"entities": n_entities, "relations_csv": len(rel), "list_records": n_l,
            "review_pairs": n_r, "seconds": round(time.perf_counter() - t0, 1)}


def sample(src: Path, dst: Path, n: int) -> dict:
    """The first n entities (by id order in the file) and the rows that touch only them."""
    dst.mkdir(parents=True, exist_ok=True)
    ent = pd.read_csv(src / "entities.csv", dtype=str, keep_default_na=False)
    keep = pd.concat([ent[ent.kind == "enterprise"].head(n * 6 // 10),
                      ent[ent.kind == "person"].head(n - n * 6 // 10)])
    keep.to_csv(dst / "entities.csv", index=False)
    ids = set(keep.entity_id)
    rel = pd.read_csv(src / "relations.csv", dtype=str, keep_default_na=False)
    rel = rel[rel.from_id.isin(ids) & rel.to_id.isin(ids)]
    rel.to_csv(dst / "relations.csv", index=False)
    for name, col in (("list_records.csv", "entity_id"),):
        df = pd.read_csv(src / name, dtype=str, keep_default_na=False)
        df[df[col].isin(ids)].to_csv(dst / name, index=False)
    rq = pd.read_csv(src / "review_queue.csv", dtype=str, keep_default_na=False)
    rq[rq.left_entity.isin(ids) & rq.right_entity.isin(ids)].to_csv(dst / "review_queue.csv",
                                                                    index=False)
    return {"entities": len(keep), "relations_csv": len(rel)}


NAIVE_NODE = {  # one row, one transaction; the same MERGE keys as the real loader
    "Enterprise": "MERGE (n:Entity {entity_id: $id}) SET n = $props, n:Enterprise",
    "Person": "MERGE (n:Entity {entity_id: $id}) SET n = $props, n:Person",
    "ListRecord": "MERGE (n:ListRecord {record_uid: $id}) SET n = $props",
    "Address": "MERGE (n:Address {key: $id}) SET n = $props",
    "Phone": "MERGE (n:Phone {number: $id}) SET n = $props",
}
NAIVE_END = {"HAS_RECORD": "(b:ListRecord {record_uid: $to})", "AT": "(b:Address {key: $to})",
             "HAS_PHONE": "(b:Phone {number: $to})"}


def naive_load(store, out_dir: Path) -> dict:
    from creditgraph.graph.load import read_resolved
    data = read_resolved(out_dir)
    store.ensure_schema()
    t = time.perf_counter()
    n_nodes = n_rels = 0
    with store.driver.session(database=store.database) as session:
        for label, rows in data.nodes.items():
            q = NAIVE_NODE[label]
            for row in rows:
                session.execute_write(lambda tx: tx.run(q, id=row["id"], props=row["props"]).consume())
                n_nodes += 1
        t_nodes = time.perf_counter() - t
        t = time.perf_counter()
        for typ, rows in data.relations.items():
            end = NAIVE_END.get(typ, "(b:Entity {entity_id: $to})")
            q = (f"MATCH (a:Entity {{entity_id: $from}}) MATCH {end} "
                 f"MERGE (a)-[r:{typ} {{key: $props.key}}]->(b) SET r = $props")
            for row in rows:
                session.execute_write(lambda tx: tx.run(q, **{"from": row["from"], "to": row["to"],
                                                              "props": row["props"]}).consume())
                n_rels += 1
        t_rels = time.perf_counter() - t
    return {"nodes": n_nodes, "relations": n_rels, "nodes_s": round(t_nodes, 2),
            "relations_s": round(t_rels, 2), "nodes_per_s": round(n_nodes / t_nodes),
            "relations_per_s": round(n_rels / t_rels)}


def rates(report) -> dict:
    rows_n = report.nodes_created + report.nodes_updated
    rows_r = report.relations_created + report.relations_updated
    t = report.timings
    # nodes_s / relations_s: server time of the MERGE statements; write_s: the whole batch loop
    # (reading and shaping the CSV rows, sending them, committing), the end-to-end figure
    return {"nodes": rows_n, "relations": rows_r, "nodes_s": t.get("nodes"),
            "write_s": t.get("write"),
            "rows_per_s_end_to_end": round((rows_n + rows_r) / t["write"]) if t.get("write") else None,
            "relations_s": t.get("relations"), "read_s": t.get("read"), "total_s": t.get("total"),
            "nodes_per_s": round(rows_n / t["nodes"]) if t.get("nodes") else None,
            "relations_per_s": round(rows_r / t["relations"]) if t.get("relations") else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--entities", type=int, default=1_000_000)
    ap.add_argument("--relations", type=int, default=3_000_000)
    ap.add_argument("--batch-size", type=int, default=10_000)
    ap.add_argument("--naive-sample", type=int, default=50_000)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "bench" / "graph_synthetic")
    ap.add_argument("--skip-full", action="store_true", help="only the sample comparison")
    args = ap.parse_args(argv)
    if (urlparse(args.uri).hostname or "") not in ("127.0.0.1", "localhost", "::1"):
        ap.error("refusing to wipe a non-local Neo4j")

    from creditgraph.graph.neo4j_store import Neo4jStore
    summary: dict = {"uri": args.uri, "batch_size": args.batch_size}
    full = args.out / f"{args.entities}_{args.relations}"
    if not (full / "entities.csv").exists():
        summary["generate"] = generate(full, args.entities, args.relations)
        print("generated", summary["generate"], flush=True)
    small = args.out / f"sample_{args.naive_sample}_of_{args.entities}_{args.relations}"
    if not (small / "entities.csv").exists():
        summary["sample"] = sample(full, small, args.naive_sample)

    store = Neo4jStore(args.uri)
    try:
        store.wipe()
        summary["naive_sample"] = naive_load(store, small)
        print("naive", summary["naive_sample"], flush=True)
        store.wipe()
        summary["batched_sample"] = rates(store.load(small, batch_size=args.batch_size,
                                                     progress=False))
        print("batched sample", summary["batched_sample"], flush=True)
        nv, bt = summary["naive_sample"], summary["batched_sample"]
        summary["speedup_nodes"] = round(bt["nodes_per_s"] / nv["nodes_per_s"], 1)
        summary["speedup_relations"] = round(bt["relations_per_s"] / nv["relations_per_s"], 1)
        naive_rows_per_s = (nv["nodes"] + nv["relations"]) / (nv["nodes_s"] + nv["relations_s"])
        summary["speedup_end_to_end"] = round(bt["rows_per_s_end_to_end"] / naive_rows_per_s, 1)
        if not args.skip_full:
            store.wipe()
            report = store.load(full, batch_size=args.batch_size)
            summary["full"] = {**rates(report), "nodes_total": report.nodes_total,
                               "relations_total": report.relations_total,
                               "timings": report.timings}
            print("full", summary["full"], flush=True)
            t = time.perf_counter()
            again = store.load(full, batch_size=args.batch_size)
            summary["full_reload_unchanged"] = {"total_s": round(time.perf_counter() - t, 1),
                                                "nodes_created": again.nodes_created,
                                                "relations_created": again.relations_created,
                                                "retired": again.nodes_retired + again.relations_retired}
    finally:
        store.close()
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
