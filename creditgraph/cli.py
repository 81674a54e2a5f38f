"""The `creditgraph` command line: synth, resolve, evaluate, review, load, neo4j, apikey, serve, demo.

A mistake in what was typed (an unknown pair, a directory that is not a resolve output, a role
that does not exist) is a usage error: one message saying what is wrong and what to do, exit
status 2. A traceback means a bug. Results go to stdout, progress and errors to stderr.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from creditgraph import render
from creditgraph.api.access import Role
from creditgraph.base.settings import get_settings
from creditgraph.linkage.decisions import Verdict

app = typer.Typer(help="Resolve a city's department credit exports into one entity graph.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
review_app = typer.Typer(help="The data stewards' review queue.", no_args_is_help=True)
neo4j_app = typer.Typer(help="A local Neo4j Community server assembled from Maven Central.", no_args_is_help=True)
apikey_app = typer.Typer(help="API keys for the query API.", no_args_is_help=True)
app.add_typer(review_app, name="review")
app.add_typer(neo4j_app, name="neo4j")
app.add_typer(apikey_app, name="apikey")

DEFAULT_SEED = 7  # the one default seed, for synth and demo alike
LAST_RESOLVE = "last_resolve"  # DATA/last_resolve: the output dir `resolve` or `demo` wrote last


# -- the resolve output every stage reads -----------------------------------------------------

def _last_resolve() -> Path | None:
    """The recorded last resolve output, else the demo's, else None."""
    data = get_settings().data
    recorded = data / LAST_RESOLVE
    if recorded.is_file():
        return Path(recorded.read_text(encoding="utf-8").strip())
    demo = data / "demo" / "resolved"
    return demo if demo.is_dir() else None


def _remember_resolve(data: Path, resolved: Path) -> None:
    data.mkdir(parents=True, exist_ok=True)
    (data / LAST_RESOLVE).write_text(f"{resolved.resolve()}\n", encoding="utf-8")


NO_OUTPUT = ("no resolve output yet: run `creditgraph demo` or `creditgraph resolve --manifest M --out DIR` "
             "first, or pass --from DIR")


def _resolve_output(value: Optional[Path]) -> Path:
    """--from: the directory given, or by default the last resolve output."""
    path = _optional_resolve_output(value)
    if path is None:
        raise typer.BadParameter(NO_OUTPUT)
    return path


def _optional_resolve_output(value: Optional[Path]) -> Path | None:
    path = value or _last_resolve()
    if path is not None and not (path / "entities.csv").is_file():
        which = "" if value else " (the default: the last resolve output)"
        raise typer.BadParameter(f"{path}{which} is not a resolve output (no entities.csv in it): "
                                 "pass the --out directory of `creditgraph resolve`")
    return path


FromDir = Annotated[Optional[Path], typer.Option(
    "--from", callback=_resolve_output, show_default=False,
    help="A resolve output directory. Default: the last one `resolve` or `demo` wrote "
         "(recorded in $CREDITGRAPH_DATA/last_resolve), else $CREDITGRAPH_DATA/demo/resolved.")]
Neo4jUri = Annotated[Optional[str], typer.Option("--neo4j", envvar="NEO4J_URI",
                                                 help="Bolt URI; without it, the embedded store.")]
Json = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout, for a program to read.")]
Seed = Annotated[int, typer.Option(help="Random seed: the same seed and sizes give the same city.")]
Enterprises = Annotated[int, typer.Option(min=1, help="Firms to draw.")]
Persons = Annotated[int, typer.Option(min=2, help="People to draw; only those some export mentions end up in "
                                               "the data (the summary says how many and why).")]


def _fail(message: str) -> typer.Exit:
    """A failure outside what was typed (a server down): one red line on stderr, exit status 1."""
    render.console(stderr=True).print(Text(message, style="red"), soft_wrap=True)
    return typer.Exit(1)


def _json(value) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=1, default=str))


# -- synth, resolve, evaluate -----------------------------------------------------------------

@app.command()
def synth(out: Annotated[Path, typer.Argument(help="Directory for the city: exports/, truth/, manifest.yaml.")],
          enterprises: Enterprises = 2000, persons: Persons = 3000, seed: Seed = DEFAULT_SEED,
          noise: Annotated[float, typer.Option(min=0, help="Scale of the departments' mistakes (typos, name "
                                                           "variants, blanks, traditional characters): 0 clean, "
                                                           "1 the usual rates, 2 twice as many.")] = 1.0,
          profile: Annotated[str, typer.Option(help="Noise profile (creditgraph/synth/data/profiles): vocabularies, "
                                                    "rates, column names. held_out is never tuned on.")] = "yingkou",
          as_json: Json = False):
    """Generate a synthetic city: department exports, their manifest and the truth."""
    from creditgraph.synth import generate
    from creditgraph.synth.profile import profiles
    if profile not in profiles():
        raise typer.BadParameter(f"unknown profile {profile!r}; one of {', '.join(profiles())}",
                                 param_hint="'--profile'")
    with render.steps("generating") as step:
        counts = generate(out, enterprises=enterprises, persons=persons, seed=seed, noise=noise, progress=step,
                          profile=profile)
    if as_json:
        return _json(counts)
    console = render.console()
    render.print_synth(console, out, counts, enterprises, persons, seed, noise)
    console.print(Text(f"Next: creditgraph resolve --manifest {out / 'manifest.yaml'} --out DIR"))


def _check_engine(engine: str, master: str, parquet: bool, shuffle_partitions: int | None = None,
                  driver_memory: str | None = None) -> None:
    if engine not in ("embedded", "spark"):
        raise typer.BadParameter(f"unknown engine {engine!r}; one of embedded, spark", param_hint="'--engine'")
    if engine == "embedded" and (parquet or master != "local[*]" or shuffle_partitions is not None
                                 or driver_memory is not None):
        raise typer.BadParameter("--master, --parquet, --shuffle-partitions and --driver-memory go with --engine spark",
                                 param_hint="'--engine'")
    if driver_memory is not None and not re.fullmatch(r"[1-9][0-9]*[kmgt]", driver_memory.lower()):
        raise typer.BadParameter(f"{driver_memory!r} is not a JVM memory size such as 4g or 6144m",
                                 param_hint="'--driver-memory'")
    if engine == "spark":
        from creditgraph.linkage import spark
        if not spark.available():
            raise _fail("--engine spark needs PySpark: pip install 'creditgraph[spark]' (and a Java 17 runtime)")


def _engine_of(resolved: Path) -> str:
    try:
        return json.loads((resolved / "run_report.json").read_text(encoding="utf-8")).get("engine", "embedded")
    except (OSError, ValueError):
        return "embedded"


def _not_from_spark(resolved: Path, needed: str) -> None:
    """Stop, saying why, when a command needs a file the Spark engine does not write yet."""
    if _engine_of(resolved) == "spark":
        raise _fail(f"{resolved} was resolved with --engine spark, which does not write {needed} yet: "
                    "resolve with --engine embedded for this command")


def _print_spark_report(report: dict, out: Path) -> None:
    """The Spark engine's report, and plainly what it does not write yet (the commands that need it)."""
    console = render.console()
    rows, ents = report["rows"], report["entities"]
    console.print(Text(f"Spark ({report['master']}): read {rows['read']:,} rows ({rows['rejected']:,} rejected), "
                       f"resolved {report['mentions']:,} mentions into {ents.get('enterprise', 0):,} enterprises and "
                       f"{ents.get('person', 0):,} persons, {report['relations']:,} relations; "
                       f"{report['timings_s']['total']:.1f} s. Outputs in {out}."))
    console.print(Text(render.queue_sentence(report["review_queue"], report["review_workload"])))
    console.print(Text("Not produced by the Spark engine yet (run --engine embedded for them):", style="yellow"))
    for name, why in report["not_produced"].items():
        console.print(Text(f"  {name}: {why}", style="yellow"))


@app.command()
def resolve(manifest: Annotated[Path, typer.Option(help="The exports' manifest (YAML).", exists=True,
                                                   dir_okay=False)],
            out: Annotated[Path, typer.Option("--out", help="Directory for the resolve outputs; later stages "
                                                            "read it by default.")],
            engine: Annotated[str, typer.Option(help="embedded (one process) or spark (Apache Spark: "
                                                     "pip install 'creditgraph\\[spark]').")] = "embedded",
            master: Annotated[str, typer.Option(help="With --engine spark: the Spark master URL (local[*], "
                                                     "spark://HOST:7077, yarn, k8s://...).")] = "local[*]",
            parquet: Annotated[bool, typer.Option(help="With --engine spark: also write mentions, entities and "
                                                       "relations as Parquet under OUT/parquet/.")] = False,
            shuffle_partitions: Annotated[int | None, typer.Option(
                min=1, help="With --engine spark: spark.sql.shuffle.partitions, the partitions of every "
                            "shuffle (default 8; about one per 50,000 mentions on a cluster, docs/scale.md).")] = None,
            driver_memory: Annotated[str | None, typer.Option(
                help="With --engine spark: the driver's heap, as 4g or 6144m (default 4g; in local mode the "
                     "executor's too; the 2M city needs more than 2g).")] = None,
            as_json: Json = False):
    """Load every export of a manifest, resolve entities, write the outputs and a run report."""
    from creditgraph.pipeline import run_resolve
    from creditgraph.linkage.model import ModelRefused
    from creditgraph.loaders.manifest import ManifestError
    _check_engine(engine, master, parquet, shuffle_partitions, driver_memory)
    try:
        with render.steps("resolving") as step:
            report = run_resolve(manifest, out, get_settings(), step, engine, master, parquet, shuffle_partitions,
                                 driver_memory)
    except ManifestError as e:
        raise typer.BadParameter(str(e), param_hint="'--manifest'") from None
    except (ModelRefused, NotImplementedError) as e:  # the data, not a bug: the message says what to change
        raise _fail(str(e)) from None
    _remember_resolve(get_settings().data, out)
    if as_json:
        _json(report)
    elif report.get("engine") == "spark":
        _print_spark_report(report, out)
    else:
        render.print_report(render.console(), report, out)
    if report["failed_sources"]:  # the others were resolved, but the run is not a success
        raise typer.Exit(1)


@app.command()
def ingest(manifest: Annotated[Path, typer.Option(help="The day's batch manifest: sources with `mode: delta` "
                                                   "(and `op: <column>`) or `mode: snapshot`.", exists=True,
                                                   dir_okay=False)],
           into: Annotated[Path, typer.Option("--into", help="A resolve output directory, updated in place.",
                                              exists=True, file_okay=False)],
           as_json: Json = False):
    """Apply a day's batches to a resolve output incrementally; writes DIR/changes.json."""
    from creditgraph.base.settings import id_key
    from creditgraph.linkage.decisions import DecisionLog
    from creditgraph.linkage.incremental import ingest as run_ingest
    from creditgraph.loaders.manifest import ManifestError
    settings = get_settings()
    _not_from_spark(into, "incremental_state.pkl")
    try:
        with render.steps("ingesting") as step:
            changes = run_ingest(manifest, into, DecisionLog(settings.decisions_path).latest(), id_key(settings), step)
    except ManifestError as e:
        raise typer.BadParameter(str(e), param_hint="'--manifest'") from None
    except FileNotFoundError as e:
        raise typer.BadParameter(str(e), param_hint="'--into'") from None
    if as_json:
        return _json(changes)
    console = render.console()
    if changes.get("already_applied"):
        console.print(Text(f"Batch {changes['batch']} was already applied to {into}: nothing changed."))
        return
    e = changes["entities"]
    console.print(Text(f"Rows {changes['rows']}; entities: {len(e['new'])} new, {len(e['merged'])} merges, "
                       f"{len(e['split'])} splits, {len(e['renamed'])} renamed, {len(e['retired'])} retired, "
                       f"{len(e['changed'])} changed; list records {', '.join(f'{len(v)} {k}' for k, v in changes['records'].items())}; "
                       f"{changes['timings_s']['total']} s. Details: {into / 'changes.json'}; "
                       f"next: creditgraph load --changes --from {into}"))


@app.command()
def evaluate(truth: Annotated[Path, typer.Option(help="The truth `synth` wrote (OUT/truth) or its mentions.csv.",
                                                 exists=True)],
             from_: FromDir = None,
             examples: Annotated[int, typer.Option(min=0, help="False and missed merges to show per kind, "
                                                               "with their names.")] = 5,
             html: Annotated[Optional[Path], typer.Option(
                 "--html", dir_okay=False, show_default=False,
                 help="Where to write the HTML report. Default: evaluation.html in the resolve output.")] = None,
             as_json: Json = False):
    """Pairwise and B-cubed precision, recall and F1 per kind against the truth, with false merges;
    writes evaluation.json into the resolve output, and an HTML report of precision and recall
    against the match threshold, the review queue against the review threshold and each field's
    weights."""
    from creditgraph.linkage import report
    from creditgraph.linkage.evaluate import evaluate as run, save
    mentions, truth_frame = render.evaluation_inputs(truth, from_)
    result = run(mentions, truth_frame, examples=examples)
    save(result, from_)
    if _engine_of(from_) == "spark":  # the figures hold; the charts need the scored pairs
        if as_json:
            return _json(result)
        render.print_quality(render.console(), result)
        render.console().print(Text(f"No charts: {from_} was resolved with --engine spark, which does not write "
                                    "scored_pairs.npz yet (resolve with --engine embedded for them)."))
        return
    html = html or from_ / report.FILE
    report.write(html, report.build(result, from_, report.truth_by_mention(mentions, truth_frame),
                                      f"{truth.parent.name}/{truth.name}"))
    if as_json:
        return _json(result)
    render.print_quality(render.console(), result)
    render.console().print(Text(f"The charts: {html}"))


# -- review -----------------------------------------------------------------------------------

Who = Annotated[str, typer.Option(envvar="USER", help="Who decides (recorded in the log); default $USER.")]
PairId = Annotated[str, typer.Argument(help="An item's id (a pair, or a mention with candidates), as "
                                            "`creditgraph review list` shows it.")]


def _pending(from_: Path):
    from creditgraph.linkage.review import pending
    try:
        return pending(from_, get_settings())
    except FileNotFoundError as e:
        raise typer.BadParameter(str(e), param_hint="'--from'") from None


def _pair(from_: Path, pair_id: str) -> dict:
    from creditgraph.linkage.review import find_pair, with_parties
    _pending(from_)  # a missing queue says so on --from
    try:
        return with_parties(from_, [find_pair(from_, pair_id)])[0]
    except KeyError:
        raise typer.BadParameter(f"no pair {pair_id!r} in {from_ / 'review_queue.csv'}: "
                                 "`creditgraph review list` shows the pending pairs", param_hint="PAIR_ID") from None


@review_app.command("list")
def review_list(from_: FromDir = None,
                limit: Annotated[int, typer.Option(min=1, help="How many pairs to show.")] = 20,
                as_json: Json = False):
    """The items waiting for a steward, with who each side is (items decided are left out; items
    marked unsure come after the others)."""
    from creditgraph.linkage.review import with_parties
    queue = _pending(from_)
    rows = with_parties(from_, queue.head(limit).to_dict("records"))
    if as_json:
        return _json({"pending": len(queue), "pairs": [
            {**{k: v for k, v in r.items() if k != "choices"}, "evidence": json.loads(r["evidence"]),
             "candidates": r["choices"]} for r in rows]})
    render.print_queue(render.console(), rows, len(queue))


@review_app.command("show")
def review_show(pair_id: PairId, from_: FromDir = None):
    """One item: who the two are, and the evidence field by field (an item with candidates:
    each candidate's)."""
    from creditgraph.linkage.review import entity_names
    render.print_item(render.console(), _pair(from_, pair_id), entity_names(from_))


OUTCOME = {Verdict.SAME: "the next resolve puts them in one entity",
           Verdict.DIFFERENT: "the next resolve keeps them apart, whatever they share",
           Verdict.UNSURE: "the item stays in the queue, behind the items nobody has looked at"}


def _decided(decisions) -> None:
    for decision in decisions:
        render.console().print(Text(
            f"Recorded {decision.left} / {decision.right}: {decision.verdict.value}, by {decision.who}; "
            f"{OUTCOME[decision.verdict]}."))


def _record(row: dict, verdict: Verdict, who: str, note: str, candidate: str | None = None):
    from creditgraph.linkage.review import NeedsCandidate, record
    try:
        return record(row, verdict.value, who, note, get_settings(), candidate)
    except NeedsCandidate as e:
        raise typer.BadParameter(str(e), param_hint="'--candidate'") from None


@review_app.command("decide")
def review_decide(pair_id: PairId,
                  verdict: Annotated[Verdict, typer.Argument(help="Whether the two are one entity; for an item with "
                                                                  "candidates, same (with --candidate) or different "
                                                                  "(none of them).")],
                  who: Who, from_: FromDir = None,
                  note: Annotated[str, typer.Option(help="Why (recorded with the decision).")] = "",
                  candidate: Annotated[Optional[str], typer.Option(
                      help="For an item with candidates: the one chosen, by number (1 first), entity id or "
                           "mention id.", show_default=False)] = None):
    """Record a decision; it holds as a must-link or cannot-link on every later resolve."""
    _decided(_record(_pair(from_, pair_id), verdict, who, note, candidate))


ANSWERS = {"s": Verdict.SAME, "d": Verdict.DIFFERENT, "u": Verdict.UNSURE}
CHOICES = (*ANSWERS, "k", "q")


def _ask(choices: int = 0) -> str:
    """A pair: s, d, u, k or q. An item with `choices` candidates: a number, d (none), u, k or q."""
    allowed = (*(str(i) for i in range(1, choices + 1)), "d", "u", "k", "q") if choices else CHOICES
    text = (f"[1-{choices}] this one / [d] none of them / [u]nsure / s[k]ip / [q]uit" if choices else
            "[s]ame / [d]ifferent / [u]nsure / s[k]ip / [q]uit")
    while (choice := typer.prompt(text, default="k")) not in allowed:
        typer.echo(f"type one of {', '.join(allowed)}", err=True)
    return choice


@review_app.command("next")
def review_next(who: Who, from_: FromDir = None):
    """Work through the queue: s(ame), d(ifferent), u(nsure), k (skip), q(uit); an item with
    candidates takes a candidate's number, or d for none of them."""
    from creditgraph.linkage.review import entity_names, with_parties
    out, names = render.console(), entity_names(from_)
    for row in with_parties(from_, _pending(from_).to_dict("records")):
        render.print_item(out, row, names)
        choice = _ask(len(row["choices"]))
        if choice == "q":
            break
        if choice.isdigit():
            _decided(_record(row, Verdict.SAME, who, typer.prompt("note", default=""), choice))
        elif choice in ANSWERS:
            _decided(_record(row, ANSWERS[choice], who, typer.prompt("note", default="")))


# -- graph, API, demo -------------------------------------------------------------------------

@contextmanager
def _reachable(neo4j: str | None):
    """Neo4j down or refusing the credentials is a sentence, not a traceback."""
    try:
        yield
    except Exception as e:
        if type(e).__module__.startswith("neo4j"):
            raise _fail(f"Neo4j at {neo4j} did not answer ({type(e).__name__}: {e}); "
                        "start it with `creditgraph neo4j start`, or check NEO4J_PASSWORD") from None
        raise


Bulk = Annotated[bool, typer.Option(
    "--bulk", help="First load of a large output: Neo4j's offline import (neo4j-admin database import full) into "
                   "the local server of --home, which is stopped and started again; its database is replaced. "
                   "Later outputs load without --bulk.")]
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _bulk_load(from_: Path, neo4j: str | None, home: Path | None, as_json: bool) -> None:
    """load --bulk: the import writes the database files of a home on this machine, so a URI
    given must name that home's server."""
    from dataclasses import asdict
    from urllib.parse import urlparse

    from creditgraph.graph import server
    from creditgraph.graph.bulk import BulkImportError, bulk_load
    info = server.status(home)
    if neo4j:
        url = urlparse(neo4j)
        if url.hostname not in LOOPBACK:
            raise typer.BadParameter(
                f"{neo4j} is not on this machine: --bulk imports into the files of a local server's home (--home). "
                "Load a remote server without --bulk, or run `creditgraph load --bulk` on its machine",
                param_hint="'--neo4j'")
        if (url.port or server.DEFAULT_BOLT_PORT) != info["bolt_port"]:
            raise typer.BadParameter(f"{neo4j} is not the server of {info['home']} (Bolt port {info['bolt_port']}): "
                                     "pass that server's --home", param_hint="'--neo4j'")
    with _neo4j_errors(), _reachable(info["bolt_uri"]):
        try:
            report = bulk_load(from_, home)
        except BulkImportError as e:
            raise _fail(str(e)) from None
    if as_json:
        return _json(asdict(report))
    render.print_load(render.console(), report, f"Neo4j at {info['bolt_uri']} (bulk import into {info['home']})")


@app.command()
def load(from_: FromDir = None, neo4j: Neo4jUri = None, as_json: Json = False, bulk: Bulk = False, home: Home = None,
         changes: Annotated[bool, typer.Option("--changes", help="Apply only the last ingest's change "
                                               "(DIR/changes.json) to a store that holds the output before it.")] = False):
    """Load a resolve output into the graph store (Neo4j with --neo4j, else the embedded one)."""
    if bulk and changes:  # a bulk import replaces the database: there is no change to apply after it
        raise typer.BadParameter("--bulk loads a whole output, --changes the last ingest's change: choose one",
                                 param_hint="'--changes'")
    if bulk:
        return _bulk_load(from_, neo4j, home, as_json)
    from dataclasses import asdict

    from creditgraph.graph.factory import default_memory_path, open_store
    with _reachable(neo4j):
        store = open_store(neo4j)
        try:
            if changes:
                from creditgraph.graph.apply_changes import apply_changes
                return _json(apply_changes(store, from_))
            report = store.load(from_)
        finally:
            store.close()
    if as_json:
        return _json(asdict(report))
    where = f"Neo4j at {neo4j}" if neo4j else f"the embedded store ({default_memory_path()})"
    render.print_load(render.console(), report, where)


Home = Annotated[Optional[Path], typer.Option(help="The server's home (default $CREDITGRAPH_DATA/neo4j).",
                                              show_default=False)]


@contextmanager
def _neo4j_errors():
    from creditgraph.graph.server import Neo4jServerError
    try:
        yield
    except Neo4jServerError as e:
        raise _fail(str(e)) from None


@neo4j_app.command("start")
def neo4j_start(home: Home = None,
                bolt_port: Annotated[int, typer.Option(help="Bolt port on 127.0.0.1.")] = 7687,
                http_port: Annotated[int, typer.Option(help="HTTP port of Neo4j Browser on 127.0.0.1.")] = 7474):
    """Install (first time) and start the local server; wait until it answers."""
    from creditgraph.graph import server
    with _neo4j_errors():
        server.start(home, bolt_port=bolt_port, http_port=http_port)
    _neo4j_sentence(server.status(home))


@neo4j_app.command("stop")
def neo4j_stop(home: Home = None):
    """Stop the local server (SIGTERM, SIGKILL after 30 s)."""
    from creditgraph.graph import server
    with _neo4j_errors():
        server.stop(home)
    _neo4j_sentence(server.status(home))


@neo4j_app.command("status")
def neo4j_status(home: Home = None):
    """Whether the local server runs and where to reach it; exit status 0 running, 3 stopped."""
    from creditgraph.graph import server
    info = server.status(home)
    _neo4j_sentence(info)
    if not info["running"]:
        raise typer.Exit(3)


def _neo4j_sentence(info: dict) -> None:
    if info["running"]:
        text = (f"Neo4j {info['version']} is running (pid {info['pid']}): Bolt at {info['bolt_uri']}, Neo4j Browser "
                f"at {info['browser_url']}, auth {'on' if info['auth'] else 'off'}; home {info['home']}.")
    else:
        text = (f"Neo4j is stopped (home {info['home']}"
                + (")." if info["installed"] else "; not installed yet: `creditgraph neo4j start` installs it)."))
    render.console().print(Text(text))


@app.command()
def serve(from_: Annotated[Optional[Path], typer.Option(
              "--from", callback=_optional_resolve_output, show_default=False,
              help="A resolve output directory: the embedded store's graph, and with --neo4j the review queue and "
                   "the identity vault (without one, Neo4j alone serves and the queue is empty). Default: the last "
                   "one `resolve` or `demo` wrote (recorded in $CREDITGRAPH_DATA/last_resolve), else "
                   "$CREDITGRAPH_DATA/demo/resolved.")] = None,
          neo4j: Neo4jUri = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
          load: Annotated[bool, typer.Option(help="Load DIR into Neo4j first (the embedded store always loads)."
                                             )] = False,
          workers: Annotated[int, typer.Option(min=1, max=64, envvar="CREDITGRAPH_API_WORKERS",
                                               help="Server processes; one per core serves the most. "
                                                    "Each embedded-store worker holds its own graph.")] = 1):
    """Serve the query API, docs at /docs, and the stewards' page at /review."""
    if from_ is None and not neo4j:
        raise typer.BadParameter(NO_OUTPUT, param_hint="'--from'")
    from creditgraph.api.app import serve as run
    run(from_, neo4j_uri=neo4j, host=host, port=port, load=load or None, workers=workers)


# -- API keys ---------------------------------------------------------------------------------

KeyName = Annotated[str, typer.Argument(help="Who or what uses the key (a person, a service).")]


def _expiry(expires: datetime | None, days: int | None) -> datetime | None:
    """--expires DAY: valid through that day (UTC); --days N: N days from now."""
    if expires and days:
        raise typer.BadParameter("give --expires or --days, not both", param_hint="'--expires'")
    if days:
        return datetime.now(timezone.utc) + timedelta(days=days)
    if not expires:
        return None
    until = expires.replace(tzinfo=timezone.utc) + timedelta(days=1)
    if until <= datetime.now(timezone.utc):
        raise typer.BadParameter(f"{expires:%Y-%m-%d} has passed: give a day from today on", param_hint="'--expires'")
    return until


@apikey_app.command("create")
def apikey_create(name: KeyName,
                  role: Annotated[list[Role], typer.Option("--role", help="What the key may do; repeat for "
                                                                          "several roles.")],
                  expires: Annotated[Optional[datetime], typer.Option(
                      formats=["%Y-%m-%d"], help="Last day the key works (UTC), e.g. 2027-01-31.")] = None,
                  days: Annotated[Optional[int], typer.Option(min=1, help="Days the key works, from now.")] = None):
    """Create an API key; it is printed once (on stdout) and only its hash is stored."""
    from creditgraph.api.keys import create_key
    until = _expiry(expires, days)
    try:
        key = create_key(name, [r.value for r in role], expires=until)
    except ValueError as e:
        raise typer.BadParameter(str(e), param_hint="NAME") from None
    valid = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "until revoked"
    render.console(stderr=True).print(Text(
        f"Key {name!r} ({', '.join(r.value for r in role)}), valid {valid}; it is shown once, keep it now:"))
    typer.echo(key)


@apikey_app.command("list")
def apikey_list(as_json: Json = False):
    """The keys: name, roles, created, last used, expiry (never a key nor its hash)."""
    from creditgraph.api.keys import list_keys
    keys = list_keys()
    if as_json:
        return _json(keys)
    render.print_keys(render.console(), keys)


@apikey_app.command("revoke")
def apikey_revoke(name: Annotated[str, typer.Argument(help="The key's name, as `apikey list` shows it.")]):
    """Revoke a key; a running server refuses it from its next request, without a restart."""
    from creditgraph.api.keys import keys_path, revoke_key
    if not revoke_key(name):
        raise typer.BadParameter(f"no key named {name!r} in {keys_path()}: `creditgraph apikey list` shows them",
                                 param_hint="NAME")
    render.console().print(Text(f"Revoked key {name!r}: the API refuses it from now on."))


@app.command()
def demo(enterprises: Enterprises = 2000, persons: Persons = 3000, seed: Seed = DEFAULT_SEED,
         neo4j: Neo4jUri = None,
         workdir: Annotated[Optional[Path], typer.Option(
             help="Where the city and the resolve output go (default $CREDITGRAPH_DATA/demo). Outside the data "
                  "directory the demo keeps its state there too: steward log, identity-hash key, graph, last_resolve.",
             show_default=False)] = None):
    """The main job end to end: synthesise a city, resolve it, measure it, load it, query it."""
    from creditgraph.demo import demo_settings, run_demo
    workdir = workdir or get_settings().data / "demo"
    settings = demo_settings(workdir)
    resolved = run_demo(workdir, enterprises, persons, seed, neo4j, settings, render.console())
    _remember_resolve(settings.data, resolved)


@app.command()
def report(entity: Annotated[str, typer.Argument(help="The entity's id, e.g. E-91210802269309684M.")],
           purpose: Annotated[str, typer.Option(help="Why (recorded in the audit trail), e.g. 'bid check'.")],
           as_of: Annotated[Optional[datetime], typer.Option(
               "--as-of", formats=["%Y-%m-%d"], show_default=False,
               help="The date the rules apply at. Default: today.")] = None,
           reference: Annotated[str, typer.Option(help="The bid or tender the report is filed with.")] = "",
           pdf: Annotated[Optional[Path], typer.Option(help="Also write the report as PDF here.")] = None,
           who: Annotated[Optional[str], typer.Option(
               help="Who produces it (the audit trail's who). Default: the login name.", show_default=False)] = None,
           from_: FromDir = None, neo4j: Neo4jUri = None):
    """A credit report of ENTITY at --as-of: numbered (CR-YYYYMMDD-NNNNNN), stored in
    $CREDITGRAPH_DATA/reports, audited; prints its number and where the HTML is."""
    import getpass
    from creditgraph.api.errors import NotFound
    from creditgraph.api.reports import Reports, produce_offline
    from creditgraph.base.files import open_private
    settings = get_settings()
    day = (as_of.date() if as_of else datetime.now().date()).isoformat()
    try:
        meta = produce_offline(from_, neo4j, settings, entity, day, reference=reference, purpose=purpose,
                               who=who or getpass.getuser())
    except NotFound as e:
        raise typer.BadParameter(str(e), param_hint="ENTITY") from None
    number = meta["number"]
    if pdf:
        with open_private(pdf, "wb") as f:  # it names persons, as the stored report does
            f.write(Reports(settings).pdf(number))
    answer = "REACHED by joint discipline" if meta["reached"] else "not reached by joint discipline"
    render.console().print(Text(f"{number}: {entity} on {day}: {answer}. "
                                f"HTML: {settings.reports_path / (number + '.html')}"
                                + (f"; PDF: {pdf}" if pdf else "")))


# -- audit ------------------------------------------------------------------------------------

audit_app = typer.Typer(help="The API's audit trail.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(data: Annotated[Optional[Path], typer.Option(
        help="The data directory holding audit.jsonl (default $CREDITGRAPH_DATA).", show_default=False)] = None):
    """Check the audit trail's hash chain: each edited, removed or cut line by file and line; exit 1 if any."""
    from creditgraph.api.audit import verify
    problems, summary = verify((data or get_settings().data) / "audit.jsonl")
    for problem in problems:
        typer.echo(problem)
    typer.echo(f"{'NOT INTACT' if problems else 'intact'}: {summary}" if summary else "nothing verified")
    if problems:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
