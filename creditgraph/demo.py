"""`creditgraph demo`: the main job end to end on a synthetic city, with no server by default."""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.text import Text

from creditgraph import render
from creditgraph.base.settings import Settings, get_settings
from creditgraph.pipeline import run_resolve

RELATED_DEPTH = 2


def run_demo(workdir: Path, enterprises: int, persons: int, seed: int, neo4j: str | None, settings: Settings,
             console: Console) -> Path:
    """Synthesise, resolve, evaluate, load and query; returns the resolve output directory."""
    from creditgraph.synth import generate
    from creditgraph.linkage.evaluate import evaluate, save as save_evaluation

    city, resolved = workdir / "city", workdir / "resolved"
    with render.steps("1/4 synthesising the city") as step:
        counts = generate(city, enterprises=enterprises, persons=persons, seed=seed, progress=step)
    console.print(Text("1. the city", style="bold"))
    render.print_synth(console, city, counts, enterprises, persons, seed, 1.0)
    with render.steps("2/4 resolving") as step:
        report = run_resolve(city / "manifest.yaml", resolved, settings, step)
    console.print(Text("2. resolved", style="bold"))
    render.print_report(console, report, resolved)
    quality = evaluate(*render.evaluation_inputs(city / "truth", resolved))
    console.print(Text("3. quality against the generator's truth", style="bold"))
    render.print_quality(console, quality)
    save_evaluation(quality, resolved)
    _graph(resolved, neo4j, settings, console)
    return resolved


def demo_settings(workdir: Path) -> Settings:
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
        where = f"Neo4j at {neo4j}" if neo4j else f"the embedded store ({settings.data / 'graph.pickle'})"
        console.print(Text("4. the graph, and an investigator's questions", style="bold"))
        console.print(Text(f"Loaded {load.nodes_total:,} nodes and {load.relations_total:,} relations into {where} "
                           f"in {time.perf_counter() - t:.1f} s."))
        _answers(store, resolved, console)
    finally:
        store.close()


def _answers(store, resolved: Path, console: Console) -> None:
    """A few investigator questions on entities picked from the outputs."""
    entities = pd.read_csv(resolved / "entities.csv", dtype=str).set_index("entity_id")
    names = entities["name"].to_dict()
    lists = pd.read_csv(resolved / "list_records.csv", dtype=str)
    debtors = lists[lists["list"] == "dishonest_debtor"]["entity_id"]
    firm = next((e for e in debtors if entities.loc[e, "kind"] == "enterprise"), None)
    if firm:
        name = names[firm]
        render.print_discipline(console, name, store.query("joint_discipline_forward", entity_id=firm), names)
        related = store.query("related_parties", entity_id=firm, depth=RELATED_DEPTH)
        render.print_related(console, name, RELATED_DEPTH, related[:8], len(related), names)
        render.print_search(console, name[2:8], store.query("search_name", q=name[2:8], limit=5))
    relations = pd.read_csv(resolved / "relations.csv", dtype=str)
    owned = relations[relations["type"] == "SHAREHOLDER_OF"]["to_id"].value_counts().index[:1]
    for target in owned:
        render.print_owners(console, names[target], store.query("beneficial_owners", entity_id=target), names)
    render.print_circles(console, store.query("guarantee_circles", max_len=5)[:3], names)
