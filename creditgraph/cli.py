"""The `creditgraph` command line: synth, resolve, evaluate, review, load, neo4j, serve, demo."""
from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from creditgraph.base.settings import get_settings

app = typer.Typer(help="Resolve a city's department credit exports into one entity graph.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
review_app = typer.Typer(help="The data stewards' review queue.", no_args_is_help=True)
neo4j_app = typer.Typer(help="A local Neo4j Community server assembled from Maven Central.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the query API.", no_args_is_help=True)
app.add_typer(review_app, name="review")
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(apikey_app, name="apikey")
console = Console(stderr=True)

OutDir = Annotated[Path, typer.Option("--out", help="Directory for the resolve outputs.")]
FromDir = Annotated[Path, typer.Option("--from", help="A resolve output directory.")]
Neo4jUri = Annotated[Optional[str], typer.Option("--neo4j", envvar="NEO4J_URI",
                                                 help="Bolt URI; without it, the embedded store.")]


@contextmanager
def steps(title: str):
    """A spinner naming the current step of a long job."""
    with console.status(title) as status:
        yield lambda name: status.update(f"{title}: {name}")


@app.command()
def synth(out: Path, enterprises: int = 2000, persons: int = 3000, seed: int = 0, noise: float = 1.0):
    """Generate a synthetic city: department exports, their manifest and the truth."""
    from creditgraph.synth import generate
    with steps("generating") as step:
        counts = generate(out, enterprises=enterprises, persons=persons, seed=seed, noise=noise, progress=step)
    console.print(f"[green]wrote[/] {out}: {json.dumps(counts, ensure_ascii=False)}")


@app.command()
def resolve(manifest: Annotated[Path, typer.Option(help="The exports' manifest (YAML).")], out: OutDir):
    """Load every export of a manifest, resolve entities, write the outputs and a run report."""
    from creditgraph.pipeline import run_resolve
    from creditgraph.loaders.manifest import ManifestError
    try:
        with steps("resolving") as step:
            report = run_resolve(manifest, out, get_settings(), step)
    except ManifestError as e:
        console.print(f"[red]{e}[/]")
        raise typer.Exit(2)
    _print_report(report)
    if report["failed_sources"]:  # the others were resolved, but the run is not a success
        raise typer.Exit(1)


def _print_report(report: dict) -> None:
    rows = report["rows"]
    table = Table("source", "encoding", "read", "accepted", "rejected", "mentions", title="loaded")
    for s in report["sources"]:
        table.add_row(s["source"], s["encoding"], *(str(s[k]) for k in ("rows_read", "accepted", "rejected", "mentions")))
    console.print(table)
    for s in report["sources"]:
        if s["error"]:
            console.print(f"[red]{s['error']}[/]")
    console.print(f"rows read {rows['read']} = accepted {rows['accepted']} + rejected {rows['rejected']}"
                  f" ({'adds up' if rows['adds_up'] else 'DOES NOT ADD UP'})")
    console.print(f"mentions {report['mentions']}, entities {report['entities']}, relations {report['relations']},"
                  f" list records {report['list_records']}, review queue {report['review_queue']}")
    console.print(f"timings {report['timings_s']} ({report['mentions_per_s']} mentions/s)")


@app.command()
def evaluate(truth: Annotated[Path, typer.Option(help="The truth directory (or its mentions.csv).")],
             out: OutDir, examples: int = 5):
    """Pairwise precision, recall and F1 per kind against the truth, with false merges."""
    from creditgraph.linkage.evaluate import evaluate as run
    result = run(*_evaluation_inputs(truth, out), examples=examples)
    _print_quality(result)
    (out / "evaluation.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")


def _evaluation_inputs(truth: Path, out: Path):
    truth_file = truth / "mentions.csv" if truth.is_dir() else truth
    mentions = pd.read_csv(out / "mentions.csv", dtype=str)
    entities = pd.read_csv(out / "entities.csv", dtype=str, usecols=["entity_id", "kind"])
    mentions = mentions.merge(entities, on="entity_id", how="left")
    return mentions, pd.read_csv(truth_file, dtype=str)


def _print_quality(result: dict) -> None:
    table = Table("kind", "precision", "recall", "F1", "true pairs", "false merges", title="pairwise quality")
    for kind in ("enterprise", "person"):
        if kind in result:
            q = result[kind]
            table.add_row(kind, f"{q['precision']:.4f}", f"{q['recall']:.4f}", f"{q['f1']:.4f}",
                          str(q["true_pairs"]), str(len(q["false_merges"])))
    console.print(table)
    for kind in ("enterprise", "person"):
        for fm in result.get(kind, {}).get("false_merges", []):
            console.print(f"  false merge ({kind}) {fm['entity_id']}: {fm['names']} <- {fm['true_entities']}")


# -- review -----------------------------------------------------------------------------------

@review_app.command("list")
def review_list(from_: FromDir, limit: int = 20):
    """The pairs waiting for a steward (already decided pairs are left out)."""
    from creditgraph.linkage.review import pending
    queue = pending(from_, get_settings())
    table = Table("pair", "kind", "score", "reason", "left", "right", title=f"review queue ({len(queue)} pending)")
    for row in queue.head(limit).itertuples():
        table.add_row(row.pair_id, row.kind, f"{row.score:.3f}", row.reason, row.left_mention, row.right_mention)
    console.print(table)


@review_app.command("show")
def review_show(pair_id: str, from_: FromDir):
    """One pair with its field-by-field evidence."""
    from creditgraph.linkage.review import find_pair
    console.print(_evidence_table(find_pair(from_, pair_id)))


@review_app.command("decide")
def review_decide(pair_id: str, verdict: Annotated[str, typer.Argument(help="same | different | unsure")],
                  from_: FromDir, who: Annotated[str, typer.Option(envvar="USER")], note: str = ""):
    """Record a decision; it holds as a must-link or cannot-link on every later resolve."""
    from creditgraph.linkage.review import decide
    decision = decide(from_, pair_id, verdict, who, note, get_settings())
    console.print(f"[green]decided[/] {decision.left} / {decision.right}: {decision.verdict.value} by {decision.who}")


@review_app.command("next")
def review_next(from_: FromDir, who: Annotated[str, typer.Option(envvar="USER")]):
    """Work through the queue: s(ame), d(ifferent), u(nsure), k (skip), q(uit)."""
    from creditgraph.linkage.review import pending, record
    answers = {"s": "same", "d": "different", "u": "unsure"}
    for row in pending(from_, get_settings()).to_dict("records"):
        console.print(_evidence_table(row))
        choice = typer.prompt("[s]ame / [d]ifferent / [u]nsure / s[k]ip / [q]uit", default="k")
        if choice == "q":
            break
        if choice in answers:
            note = typer.prompt("note", default="")
            record(row, answers[choice], who, note, get_settings())


def _evidence_table(row: dict) -> Table:
    table = Table("field", "left", "right", "level", "weight",
                  title=f"{row['pair_id']} {row['kind']} score {float(row['score']):.3f} ({row['reason']})")
    for field, ev in json.loads(row["evidence"]).items():
        table.add_row(field, str(ev.get("left", "")), str(ev.get("right", "")), ev["level"], f"{ev['weight']:+.2f}")
    return table


# -- graph, API, demo -------------------------------------------------------------------------

@app.command()
def load(from_: FromDir, neo4j: Neo4jUri = None):
    """Load a resolve output into the graph store (Neo4j with --neo4j, else the embedded one)."""
    from creditgraph.graph.factory import open_store
    store = open_store(neo4j)
    try:
        report = store.load(from_)
    finally:
        store.close()
    console.print(f"[green]loaded[/] {from_}: {report}")


@neo4j_app.command("start")
def neo4j_start():
    """Install (first time) and start the local server; wait until it answers."""
    from creditgraph.graph import server
    server.start()
    console.print(server.status())


@neo4j_app.command("stop")
def neo4j_stop():
    from creditgraph.graph import server
    server.stop()
    console.print(server.status())


@neo4j_app.command("status")
def neo4j_status():
    from creditgraph.graph import server
    console.print(server.status())


@app.command()
def serve(from_: Annotated[Optional[Path], typer.Option("--from", help="A resolve output directory "
                                                        "(default: the demo's).")] = None,
          neo4j: Neo4jUri = None, host: str = "127.0.0.1", port: int = 8000,
          load: Annotated[bool, typer.Option(help="Load DIR into Neo4j first (the embedded store always loads)."
                                             )] = False,
          workers: Annotated[int, typer.Option(min=1, max=64, envvar="CREDITGRAPH_API_WORKERS",
                                               help="Server processes; one per core serves the most. "
                                                    "Each embedded-store worker holds its own graph.")] = 1):
    """Serve the query API, docs at /docs, and the stewards' page at /review."""
    from creditgraph.api.app import serve as run
    run(from_ or get_settings().data / "demo" / "resolved", neo4j_uri=neo4j, host=host, port=port,
        load=load or None, workers=workers)


@apikey_app.command("create")
def apikey_create(name: str, role: Annotated[list[str], typer.Option("--role")]):
    """Create an API key; it is printed once and only its hash is stored."""
    from creditgraph.api.keys import create_key
    key = create_key(name, role)
    typer.echo(key)


@app.command()
def demo(enterprises: int = 2000, persons: int = 3000, seed: int = 7, neo4j: Neo4jUri = None,
         workdir: Optional[Path] = None):
    """The main job end to end: synthesise a city, resolve it, measure it, load it, query it."""
    from creditgraph.demo import run_demo
    run_demo(workdir or get_settings().data / "demo", enterprises, persons, seed, neo4j, console)


if __name__ == "__main__":
    app()
