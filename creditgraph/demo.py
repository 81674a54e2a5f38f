"""`creditgraph demo`: the main job end to end on a synthetic city, with no server by default."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from creditgraph.pipeline import run_resolve
from creditgraph.base.settings import Settings, get_settings


def run_demo(workdir: Path, enterprises: int, persons: int, seed: int, neo4j: str | None, console: Console):
    from creditgraph.cli import _print_quality, _print_report, _evaluation_inputs, steps
    from creditgraph.synth import generate
    from creditgraph.linkage.evaluate import evaluate

    city, resolved = workdir / "city", workdir / "resolved"
    with steps("1/4 synthesising the city") as step:
        counts = generate(city, enterprises=enterprises, persons=persons, seed=seed, progress=step)
    console.print(f"[bold]1. city[/] {city}: {counts['mentions']} mentions in {len(counts['rows'])} exports")
    settings = _demo_settings(workdir)
    with steps("2/4 resolving") as step:
        report = run_resolve(city / "manifest.yaml", resolved, settings, step)
    console.print(f"[bold]2. resolved[/] into {resolved}")
    _print_report(report)
    quality = evaluate(*_evaluation_inputs(city / "truth", resolved))
    console.print("[bold]3. quality against the generator's truth[/]")
    _print_quality(quality)
    (resolved / "evaluation.json").write_text(json.dumps(quality, ensure_ascii=False, indent=1), encoding="utf-8")
    _graph(resolved, neo4j, settings, console)


def _demo_settings(workdir: Path) -> Settings:
    """The demo keeps its steward log and embedded graph beside its data, apart from real runs."""
    base = get_settings()
    return Settings(data=base.data, id_key=base.id_key) if workdir.is_relative_to(base.data) else \
        Settings(data=workdir, id_key=base.id_key)


def _graph(resolved: Path, neo4j: str | None, settings: Settings, console: Console):
    from creditgraph.graph.factory import open_store
    store = open_store(neo4j, path=settings.data / "graph.pickle")  # the demo's own embedded graph
    try:
        t = time.perf_counter()
        load = store.load(resolved)
        console.print(f"[bold]4. graph[/] ({type(store).__name__}) loaded {load.nodes_total} nodes, "
                      f"{load.relations_total} relations in {time.perf_counter() - t:.1f} s")
        entities = pd.read_csv(resolved / "entities.csv", dtype=str).set_index("entity_id")
        names = entities["name"].to_dict()
        for title, rows in _answers(store, resolved, entities):
            _print_rows(console, title, rows, names)
    finally:
        store.close()


def _answers(store, resolved: Path, entities: pd.DataFrame):
    """A few investigator questions on entities picked from the outputs (`entities` by id)."""
    lists = pd.read_csv(resolved / "list_records.csv", dtype=str)
    debtors = lists[lists["list"] == "dishonest_debtor"]["entity_id"]
    firm = next((e for e in debtors if entities.loc[e, "kind"] == "enterprise"), None)
    if firm:
        name = entities.loc[firm, "name"]
        yield f"joint discipline reaches, from dishonest debtor {name}", \
            store.query("joint_discipline_forward", entity_id=firm)
        yield f"related parties of {name} (depth 2)", store.query("related_parties", entity_id=firm, depth=2)[:8]
        yield f"name search '{name[2:8]}'", store.query("search_name", q=name[2:8], limit=5)
    relations = pd.read_csv(resolved / "relations.csv", dtype=str)
    owned = relations[relations["type"] == "SHAREHOLDER_OF"]["to_id"].value_counts().index[:1]
    for target in owned:
        yield f"beneficial owners of {entities.loc[target, 'name']}", store.query("beneficial_owners", entity_id=target)
    yield "guarantee circles", store.query("guarantee_circles", max_len=5)[:3]


PATH_COLUMNS = ("path", "steps", "chains", "via")


def _print_rows(console: Console, title: str, rows: list[dict], names: dict):
    if not rows:
        console.print(f"{title}: none")
        return
    columns = [c for c in rows[0] if c not in ("aliases", "records", "attrs", *PATH_COLUMNS)][:5]
    why = next((c for c in PATH_COLUMNS if c in rows[0]), None)
    table = Table(*columns, *([why] if why else []), title=title, title_justify="left")
    for row in rows[:8]:
        cells = [_short(row.get(c)) for c in columns]
        table.add_row(*cells, *([_explain(row[why], names)] if why else []))
    console.print(table)


def _explain(value, names: dict) -> str:
    """A path as `A -TYPE-> B -TYPE-> C` with names, the way an investigator reads it."""
    if isinstance(value, list) and value and isinstance(value[0], dict) and "path" in value[0]:
        return "\n".join(_explain(v["path"], names) for v in value[:2])
    if isinstance(value, list) and value and isinstance(value[0], dict) and "type" in value[0]:
        text = names.get(value[0]["from"], value[0]["from"])
        for step in value:
            text += f" -{step['type']}-> {names.get(step['to'], step['to'])}"
        return text
    return _short(value)


def _short(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
