"""The command line for a newcomer: usage errors instead of tracebacks, one rule for --from,
sentences and tables instead of Python values, the review queue with names and masked numbers."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from creditgraph.base.settings import get_settings
from creditgraph.cli import DEFAULT_SEED, app
from creditgraph.render import REASONS

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "resolved_small"
runner = CliRunner()


@pytest.fixture
def data(tmp_path, monkeypatch):
    """A fresh CREDITGRAPH_DATA for the CLI (its settings are cached per process)."""
    path = tmp_path / "data"
    monkeypatch.setenv("CREDITGRAPH_DATA", str(path))
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.delenv("CREDITGRAPH_API_KEYS_FILE", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def resolved(tmp_path):
    return Path(shutil.copytree(FIXTURE, tmp_path / "resolved"))


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def flat(text: str) -> str:
    """The output as one line of words: usage errors come in a box that wraps the message."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", text).split())


# -- mistakes ---------------------------------------------------------------------------------

MISTAKES = {  # command -> what the one message must say
    "unknown pair": (["review", "show", "nosuchpair", "--from", "{resolved}"], "review list"),
    "not a resolve output": (["load", "--from", "{tmp}/nosuch"], "not a resolve output"),
    "nothing to serve": (["serve"], "no resolve output yet"),
    "unknown role": (["apikey", "create", "x", "--role", "boss"], "investigator"),
    "unknown verdict": (["review", "decide", "rq-0001", "maybe", "--who", "me", "--from", "{resolved}"], "different"),
    "bulk and changes": (["load", "--bulk", "--changes", "--from", "{resolved}"], "choose one"),
    "shuffle partitions, embedded": (["resolve", "--manifest", "{resolved}/run_report.json", "--out", "{tmp}/o",
                                      "--shuffle-partitions", "4"], "--driver-memory go with --engine spark"),
    "driver memory, embedded": (["resolve", "--manifest", "{resolved}/run_report.json", "--out", "{tmp}/o",
                                 "--driver-memory", "6g"], "--driver-memory go with --engine spark"),
}


@pytest.mark.parametrize("case", MISTAKES)
def test_an_ordinary_mistake_is_a_short_usage_error(case, data, resolved, tmp_path):
    args, says = MISTAKES[case]
    result = invoke(*(a.format(resolved=resolved, tmp=tmp_path) for a in args))
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), f"{result.exception!r} escaped as a traceback"
    assert says in flat(result.output) and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) <= 8, result.output


def test_the_real_command_prints_no_traceback_for_a_mistake(data, resolved):
    proc = subprocess.run([sys.executable, "-m", "creditgraph.cli", "review", "show", "nosuchpair",
                           "--from", str(resolved)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "no pair 'nosuchpair'" in flat(proc.stderr) and "Traceback" not in proc.stderr + proc.stdout


def _params():
    """Every parameter of every command, with the command's path."""
    def walk(cmd, path: str):
        if hasattr(cmd, "commands"):  # a group (typer may bring its own copy of click)
            for name, sub in cmd.commands.items():
                yield from walk(sub, f"{path} {name}".strip())
        else:
            for p in cmd.params:
                yield path, p
    return list(walk(typer.main.get_command(app), ""))


def test_every_option_and_argument_has_help_text():
    missing = [f"{path} {p.name}" for path, p in _params() if p.name != "help" and not getattr(p, "help", None)]
    assert not missing, f"without help text: {missing}"


def test_help_lists_the_choices_of_a_role_and_a_verdict():
    roles = invoke("apikey", "create", "--help").output
    verdicts = invoke("review", "decide", "--help").output
    assert all(r in roles for r in ("service", "investigator", "steward", "admin"))
    assert all(v in verdicts for v in ("same", "different", "unsure"))


def test_one_default_seed_and_from_everywhere_a_resolve_output_is_read():
    params = {(path, p.name): p for path, p in _params()}
    assert params[("synth", "seed")].default == params[("demo", "seed")].default == DEFAULT_SEED
    readers = {path for path, p in _params() if "--from" in p.opts}
    assert readers >= {"evaluate", "load", "serve", "review list", "review show", "review decide", "review next"}
    assert not any("--out" in p.opts for path, p in _params() if path == "evaluate")
    for path in ("neo4j start",):
        assert {"--home", "--bolt-port", "--http-port"} <= {o for p in _params() if p[0] == path for o in p[1].opts}


def test_demo_does_not_import_the_cli():
    code = "import sys, creditgraph.demo; print('creditgraph.cli' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr


def test_neo4j_status_and_stop_are_sentences_about_the_home_given(tmp_path):
    home = tmp_path / "neo4j-home"
    result = invoke("neo4j", "status", "--home", home)
    assert result.exit_code == 3  # stopped, as scripts/neo4j-local status says
    assert f"Neo4j is stopped (home {home}" in flat(result.output) and "not installed yet" in result.output
    assert "{" not in result.output
    stopped = invoke("neo4j", "stop", "--home", home)
    assert stopped.exit_code == 0 and f"Neo4j is stopped (home {home}" in flat(stopped.output)


# -- the stages, end to end on a small city ---------------------------------------------------

@pytest.fixture
def city(tmp_path, data):
    out = tmp_path / "city"
    result = invoke("synth", out, "--enterprises", 40, "--persons", 60)
    assert result.exit_code == 0, result.output
    return out, result.output


def test_synth_says_why_fewer_persons_than_asked(city):
    out, text = city
    truth = pd.read_csv(out / "truth" / "entities.csv", dtype=str)
    persons = int((truth["kind"] == "person").sum())
    assert persons < 60  # some people drawn never appear in an export
    assert f"The other {60 - persons} leave no trace in any export" in text
    assert f"the truth holds {persons} persons" in text and "{" not in text


def test_resolve_records_its_output_and_later_stages_read_it_by_default(city, tmp_path, data):
    out, _ = city
    resolved = tmp_path / "resolved"
    result = invoke("resolve", "--manifest", out / "manifest.yaml", "--out", resolved)
    assert result.exit_code == 0, result.output
    assert "{'" not in result.output and "Resolved" in result.output and "rejects.csv" in result.output
    assert Path((data / "last_resolve").read_text().strip()) == resolved.resolve()

    loaded = invoke("load", "--json")  # no --from: the last resolve output
    assert loaded.exit_code == 0, loaded.output
    report = json.loads(loaded.stdout)
    assert Path(report["out_dir"]).resolve() == resolved.resolve() and report["nodes_total"] > 0
    sentence = invoke("load").output
    assert "LoadReport(" not in sentence and f"{report['nodes_total']:,} nodes" in sentence

    quality = invoke("evaluate", "--truth", out / "truth", "--json")
    assert quality.exit_code == 0, quality.output
    assert json.loads(quality.stdout) == json.loads((resolved / "evaluation.json").read_text(encoding="utf-8"))
    assert invoke("review", "list", "--json").exit_code == 0


@pytest.mark.parametrize("given, expected", [([], (8, "4g")), (["--shuffle-partitions", "32"], (32, "4g")),
                                             (["--driver-memory", "6g"], (8, "6g"))])
def test_resolve_on_spark_passes_its_shuffle_partitions_on_and_reports_them(given, expected, city, tmp_path, data,
                                                                             monkeypatch):
    """--shuffle-partitions and --driver-memory reach spark_io.run (Spark itself replaced: only the
    plumbing is checked)."""
    from creditgraph.linkage import spark, spark_io
    seen = {}

    def fake_run(manifest_path, out_dir, decisions, key, step, master, parquet, shuffle_partitions=8,
                 driver_memory="4g"):
        seen.update(master=master, shuffle_partitions=shuffle_partitions, driver_memory=driver_memory)
        return {"engine": "spark", "master": master, "failed_sources": []}
    monkeypatch.setattr(spark, "available", lambda: True)
    monkeypatch.setattr(spark_io, "run", fake_run)
    out, _ = city
    resolved = tmp_path / "resolved"
    result = invoke("resolve", "--manifest", out / "manifest.yaml", "--out", resolved, "--engine", "spark",
                    "--master", "local[2]", *given, "--json")
    assert result.exit_code == 0, result.output
    partitions, heap = expected
    assert seen == {"master": "local[2]", "shuffle_partitions": partitions, "driver_memory": heap}
    report = json.loads((resolved / "run_report.json").read_text(encoding="utf-8"))
    assert (report["shuffle_partitions"], report["driver_memory"]) == expected
    assert json.loads(result.stdout)["shuffle_partitions"] == partitions


@pytest.mark.parametrize("given", [["--shuffle-partitions", "0"], ["--driver-memory", "6"],
                                   ["--driver-memory", "lots"]])
def test_resolve_refuses_no_shuffle_partitions_or_a_heap_that_is_no_size(given, city, tmp_path, data):
    out, _ = city
    result = invoke("resolve", "--manifest", out / "manifest.yaml", "--out", tmp_path / "o", "--engine", "spark",
                    *given)
    assert result.exit_code == 2 and not (tmp_path / "o").exists(), result.output


# -- the stewards' queue ----------------------------------------------------------------------

def _expected_parties(resolved: Path) -> list[tuple[str, str, str]]:
    """Per side of every queued pair: the entity's name, its identifier as shown (persons masked
    by creditgraph.base.privacy.mask) and, for a mention in mentions.csv, its source row."""
    from creditgraph.base.privacy import mask
    queue = pd.read_csv(resolved / "review_queue.csv", dtype=str)
    entities = pd.read_csv(resolved / "entities.csv", dtype=str, keep_default_na=False).set_index("entity_id")
    mentions = pd.read_csv(resolved / "mentions.csv", dtype=str).set_index("mention_id")
    out = []
    for side in ("left", "right"):
        for entity_id, mention_id in zip(queue[f"{side}_entity"], queue[f"{side}_mention"]):
            e = entities.loc[entity_id]
            ident = mask(e["identifier"]) if e["kind"] == "person" else e["identifier"]
            m = mentions.loc[mention_id] if mention_id in mentions.index else None
            out.append((e["name"], ident, "" if m is None else f"{m['source']} row {m['record_id']} ({m['role']})"))
    return out


def test_review_list_shows_names_masked_numbers_sources_and_reasons(data, resolved):
    clear = pd.read_csv(resolved / "identity_vault.csv", dtype=str)["id_number"]
    queue = pd.read_csv(resolved / "review_queue.csv", dtype=str)
    result = invoke("review", "list", "--from", resolved)
    assert result.exit_code == 0, result.output
    text = result.output
    for name, ident, source in _expected_parties(resolved):
        assert name in text and ident in text and source in text, (name, ident, source)
    assert all(reason in text for reason in queue["reason"])
    assert not any(number in text for number in clear), "an identity number in clear"
    listed = json.loads(invoke("review", "list", "--from", resolved, "--json").stdout)
    assert listed["pending"] == len(queue)
    assert {p[side]["identifier"] for p in listed["pairs"] for side in ("left", "right")} == \
        {ident for _, ident, _ in _expected_parties(resolved)}


def test_an_empty_queue_is_a_sentence(data, resolved):
    header = (resolved / "review_queue.csv").read_text(encoding="utf-8").splitlines()[0]
    (resolved / "review_queue.csv").write_text(header + "\n", encoding="utf-8")
    result = invoke("review", "list", "--from", resolved)
    assert result.exit_code == 0, result.output
    assert "Nothing waits for a steward" in result.output
    assert json.loads(invoke("review", "list", "--from", resolved, "--json").stdout) == {"pending": 0, "pairs": []}


def test_review_show_and_decide(data, resolved):
    from creditgraph.linkage.decisions import DecisionLog, Verdict
    queue = pd.read_csv(resolved / "review_queue.csv", dtype=str).set_index("pair_id")
    clear = pd.read_csv(resolved / "identity_vault.csv", dtype=str)["id_number"]
    shown = invoke("review", "show", "rq-0002", "--from", resolved)
    assert shown.exit_code == 0, shown.output
    assert REASONS[queue.loc["rq-0002", "reason"]] in flat(shown.output)
    assert not any(number in shown.output for number in clear)
    for field, ev in json.loads(queue.loc["rq-0002", "evidence"]).items():
        assert field in shown.output and f"{ev['weight']:+.2f}" in shown.output
    decided = invoke("review", "decide", "rq-0002", "different", "--who", "steward-a", "--from", resolved)
    assert decided.exit_code == 0, decided.output
    assert "keeps them apart" in decided.output
    latest = DecisionLog(get_settings().decisions_path).latest()
    assert [d.verdict for d in latest.values()] == [Verdict.DIFFERENT]
    assert "rq-0002" not in invoke("review", "list", "--from", resolved).output


def test_a_branch_and_the_parent_its_row_names_are_never_a_pair_to_review(tmp_path):
    """Big enough a city that branches score as their parents (same trade name, phone and legal
    representative) against different identifiers: the branch export already says how they relate."""
    from creditgraph.base.settings import Settings
    from creditgraph.linkage import resolve as R
    from creditgraph.loaders.manifest import load_manifest
    from creditgraph.loaders.reader import read_manifest
    from creditgraph.pipeline import run_resolve
    from creditgraph.synth import generate
    generate(tmp_path / "city", 1200, 500, seed=DEFAULT_SEED)
    out = tmp_path / "out"
    run_resolve(tmp_path / "city" / "manifest.yaml", out, Settings(data=tmp_path / "data", id_key="test"))
    queue = pd.read_csv(out / "review_queue.csv", dtype=str)
    relations = pd.read_csv(out / "relations.csv", dtype=str)
    branches = relations[relations["type"] == "BRANCH_OF"]
    frames = read_manifest(load_manifest(tmp_path / "city" / "manifest.yaml")).frames()
    ent = R._resolve_kind("enterprise", frames["mentions"], frames["relations"], {}, None, b"test")
    pairs, labels = ent.link.pairs, ent.link.labels
    related = R._row_related(ent.mentions, frames["relations"], len(labels))
    scored = np.isin(R._cluster_pair_codes(labels[pairs["left"]], labels[pairs["right"]], len(labels)), related)
    assert len(branches) and (pairs.loc[scored, "prob"] >= ent.link.model.review_threshold).any(), \
        "the city should have branches scoring as their parents"
    related = {frozenset(p) for p in zip(relations["from_id"], relations["to_id"])}
    in_one_row = [r.pair_id for r in queue.itertuples() if frozenset((r.left_entity, r.right_entity)) in related]
    assert not in_one_row


def test_review_next_asks_again_on_an_unknown_answer_and_records_the_choice(data, resolved):
    from creditgraph.linkage.decisions import DecisionLog, Verdict
    from creditgraph.linkage.review import pending
    first = pending(resolved, get_settings()).iloc[0]
    result = runner.invoke(app, ["review", "next", "--who", "steward-b", "--from", str(resolved)],
                           input="maybe\nd\nother firm\nq\n")
    assert result.exit_code == 0, result.output
    assert "type one of s, d, u, k, q" in result.output
    latest = DecisionLog(get_settings().decisions_path).latest()
    decision = latest[tuple(sorted((first["left_mention"], first["right_mention"])))]
    assert (decision.verdict, decision.who, decision.note) == (Verdict.DIFFERENT, "steward-b", "other firm")
    assert len(latest) == 1  # q stopped before the next pair
