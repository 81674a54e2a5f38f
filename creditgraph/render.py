"""What the CLI and the demo print, written for a person: tables that wrap instead of cutting,
sentences instead of Python values, names beside ids, paths spelled out.

Results go to stdout (`console()`), progress and errors to stderr (`console(stderr=True)`).
Off a terminal (a log, a pipe) the console is wide, so a table is never cut at 80 columns.
"""
from __future__ import annotations

import json
import os
import re
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

WIDE = 200  # columns off a terminal: wide enough for a row of names, ids and a path

ROLE_LABELS = {"legal_rep": "legal representative", "principal": "principal person in charge",
               "controller": "actual controller", "finance": "financial officer", "director": "director",
               "supervisor": "supervisor", "manager": "senior manager"}


def console(stderr: bool = False) -> Console:
    """A console for this call (made per call: the test runner swaps sys.stdout)."""
    made = Console(stderr=stderr)
    if made.is_terminal or os.environ.get("COLUMNS"):
        return made
    return Console(stderr=stderr, width=WIDE)


@contextmanager
def steps(title: str):
    """A spinner on stderr naming the current step of a long job."""
    with console(stderr=True).status(title) as status:
        yield lambda name: status.update(f"{title}: {name}")


def table(title: str, *columns: str) -> Table:
    """A table whose cells fold onto more lines rather than being cut with an ellipsis."""
    t = Table(title=title, title_justify="left", title_style="bold", show_lines=False)
    for c in columns:
        t.add_column(c, overflow="fold")
    return t


def row(t: Table, *cells) -> None:
    """Cells as plain text: a name with brackets is not read as markup."""
    t.add_row(*(Text("" if c is None else str(c)) for c in cells))


def n(value) -> str:
    return f"{value:,}"


# -- synth, resolve, evaluate, load -------------------------------------------------------------

def print_synth(out: Console, where: Path, counts: dict, enterprises: int, persons: int, seed: int,
                noise: float) -> None:
    rows = counts["rows"]
    t = table("rows per export", "export", "rows")
    for source, k in rows.items():
        row(t, source, n(k))
    out.print(t)
    ents = counts["entities"]
    out.print(Text(f"A city of {n(ents.get('enterprise', 0))} enterprises and {n(ents.get('person', 0))} persons "
                   f"(seed {seed}, noise {noise}, profile {counts['profile']}): {n(counts['mentions'])} mentions in {len(rows)} exports, "
                   f"{n(counts['relations'])} relations, {counts['cycles']} guarantee circles, "
                   f"{counts['bad_rows']} deliberately broken rows (listed in {where / 'truth'}). Exports in "
                   f"{where / 'exports'}."))
    out.print(Text(_why_fewer(ents, enterprises, persons)))


def _why_fewer(ents: dict, enterprises: int, persons: int) -> str:
    """--persons draws people; only those some export mentions are in the data (and the truth)."""
    from creditgraph.synth.rates import Shape
    shape = Shape()
    drawn = persons - ents.get("person", 0)
    text = (f"--persons {n(persons)} draws the people of the city; a person is in the data only if an export "
            f"mentions them: running, owning or managing a firm (about {shape.active_persons:.0%} are drawn as "
            f"business-active, and a heavy tail runs several firms each), insured by an employer "
            f"({shape.employed:.0%}) or on a court list. ")
    text += (f"The other {n(drawn)} leave no trace in any export, so the truth holds {n(ents.get('person', 0))} "
             "persons." if drawn > 0 else "Every one of them is mentioned somewhere.")
    firms = enterprises - ents.get("enterprise", 0)
    if firms > 0:
        text += f" Likewise {n(firms)} of the {n(enterprises)} firms drawn appear in no export."
    return text


def print_report(out: Console, report: dict, resolved: Path) -> None:
    t = table("exports loaded", "source", "encoding", "rows read", "accepted", "rejected", "mentions")
    for s in report["sources"]:
        row(t, s["source"], s["encoding"], *(n(s[k]) for k in ("rows_read", "accepted", "rejected", "mentions")))
    out.print(t)
    for s in report["sources"]:
        if s["error"]:
            out.print(Text(f"{s['source']}: {s['error']}", style="red"))
    rows = report["rows"]
    failed = report.get("failed_sources") or {}
    check = ("THEY DO NOT ADD UP: a row was lost, report it as a bug" if not rows["adds_up"] else
             f"{len(failed)} source{'s' * (len(failed) > 1)} failed: {', '.join(failed)}" if failed else
             "they add up")
    out.print(Text(f"Read {n(rows['read'])} rows: {n(rows['accepted'])} accepted + {n(rows['rejected'])} rejected "
                   f"({check}); every rejected row is in {resolved / 'rejects.csv'} with its reason."))
    ents = report["entities"]
    out.print(Text(f"Resolved {n(report['mentions'])} mentions into {n(ents.get('enterprise', 0))} enterprises "
                   f"and {n(ents.get('person', 0))} persons, with {n(report['relations'])} relations and "
                   f"{n(report['list_records'])} list records."))
    out.print(Text(queue_sentence(report["review_queue"], report.get("review_workload"))))
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in report["timings_s"].items() if k != "total")
    rate = f" ({n(report['mentions_per_s'])} mentions a second)" if report.get("mentions_per_s") else ""
    out.print(Text(f"Took {report['timings_s']['total']:.2f} s{rate}: {timings}. Outputs in {resolved}."))


def queue_sentence(queue: dict, workload: dict | None = None) -> str:
    """The queue by reason; with the run's workload (run_report `review_workload`), per 1,000
    mentions and the mentions left unlinked."""
    per = (workload or {}).get("per_1000_mentions", {})
    gone = (workload or {}).get("unlinked", {})
    left = (f" {n(gone['count'])} mentions were left unlinked ({', '.join(f'{k} {r}' for r, k in gone['by_reason'].items())}): "
            f"see unlinked.csv." if gone.get("count") else "")
    if not queue:
        return "Nothing waits for a steward: the review queue is empty." + left
    parts = ", ".join(f"{k} {reason}" + (f" ({per[reason]:.2f})" if reason in per else "")
                      for reason, k in sorted(queue.items()))
    rate = f", {per['total']:.2f} per 1,000 mentions" if "total" in per else ""
    return (f"{sum(queue.values())} items wait for a steward{rate}: {parts}; "
            f"`creditgraph review list` shows them." + left)


def evaluation_inputs(truth: Path, resolved: Path):
    """The resolve output's mentions with their entity's kind, and the truth's mentions."""
    import pandas as pd
    truth_file = truth / "mentions.csv" if truth.is_dir() else truth
    mentions = pd.read_csv(resolved / "mentions.csv", dtype=str)
    entities = pd.read_csv(resolved / "entities.csv", dtype=str, usecols=["entity_id", "kind"])
    mentions = mentions.merge(entities, on="entity_id", how="left")
    return mentions, pd.read_csv(truth_file, dtype=str)


def print_quality(out: Console, result: dict) -> None:
    t = table("quality against the truth, pairwise and B-cubed (B³)", "kind", "precision", "recall", "F1",
              "B³ precision", "B³ recall", "B³ F1", "pairs put together", "of them right", "pairs in the truth")
    for kind in ("enterprise", "person"):
        if kind in result:
            q = result[kind]
            row(t, kind, *(f"{q[m]:.4f}" for m in ("precision", "recall", "f1", "bcubed_precision",
                                                     "bcubed_recall", "bcubed_f1")),
                n(q["predicted_pairs"]), n(q["correct_pairs"]), n(q["true_pairs"]))
    out.print(t)
    out.print(Text("Precision: the share of mention pairs put in one entity that are truly one; recall: the share "
                   "of truly same pairs that were put together. Pairs weigh a large entity by its size squared; "
                   "B³ weighs every mention once: per mention, the share of its entity that is truly it "
                   "(precision) and the share of its true entity that is with it (recall), averaged."))
    for kind in ("enterprise", "person"):
        q = result.get(kind, {})
        for fm in q.get("false_merges", []):
            out.print(Text(f"False merge ({kind}): {fm['entity_id']} holds {len(fm['true_entities'])} true "
                           f"{kind}s ({', '.join(fm['true_entities'])}), named {', '.join(fm['names'])}.",
                           style="red"))
        for mm in q.get("missed_merges", []):
            out.print(Text(f"Missed merge ({kind}): true {mm['true_entity']} is split over "
                           f"{', '.join(mm['entities'])}, named {', '.join(mm['names'])}."))


def print_load(out: Console, report, where: str) -> None:
    """A graph store's LoadReport (creditgraph.graph.store) in sentences; `where` names the store."""
    out.print(Text(f"Loaded {report.out_dir} into {where}: the graph now holds "
                   f"{n(report.nodes_total)} nodes and {n(report.relations_total)} relations."))
    resumed = f", resumed after batch {report.resumed_from}" if report.resumed_from else ""
    seconds = sum(report.timings.values())
    out.print(Text(f"This load created {n(report.nodes_created)} nodes and {n(report.relations_created)} relations, "
                   f"updated {n(report.nodes_updated)} and {n(report.relations_updated)}, retired "
                   f"{n(report.nodes_retired)} and {n(report.relations_retired)} no longer in the output "
                   f"({report.batches} batches{resumed}, {seconds:.1f} s)."))
    if report.skipped:
        skipped = ", ".join(f"{k} {reason}" for reason, k in report.skipped.items())
        out.print(Text(f"Rows not loaded: {skipped}.", style="yellow"))


# -- the stewards' queue ----------------------------------------------------------------------

ID_LABELS = {"uscc": "USCC", "org_code": "organisation code", "id18": "identity number", "ric": "identity number",
             "id_masked": "identity number, masked at its source"}


def party_text(p: dict) -> str:
    """Who a mention is: the name its row wrote, the entity it resolved to, where it comes from."""
    lines = [p.get("name") or "(no name)"]
    if p.get("entity_name") and p["entity_name"] != p.get("name"):
        lines.append(f"resolved as {p['entity_name']}")
    if p.get("identifier"):
        lines.append(f"{ID_LABELS.get(p.get('identifier_type'), 'identifier')} {p['identifier']}")
    if p.get("source"):
        lines.append(f"{p['source']} row {p['record_id']} ({p['role']})")
    lines.append(p.get("entity_id") or p["mention_id"])
    return "\n".join(lines)


def print_queue(out: Console, rows: list[dict], total: int) -> None:
    if not total:
        out.print(Text("Nothing waits for a steward: every pair in the queue is decided."))
        return
    shown = f", the first {len(rows)} shown (--limit for more)" if len(rows) < total else ""
    t = table(f"review queue: {total} items waiting{shown}", "item", "kind", "score", "why", "left", "right")
    for r in rows:
        row(t, r["pair_id"], r["kind"], f"{float(r['score']):.3f}", r["reason"],
            party_text(r["left"]), _choices_text(r["choices"]) if r.get("choices") else party_text(r["right"]))
    t.show_lines = True
    out.print(t)
    out.print(Text("`creditgraph review show ITEM` gives an item's evidence; "
                   "`creditgraph review next` works through the queue."))


def _choices_text(choices: list[dict]) -> str:
    return f"one of {len(choices)} candidates, or none:\n" + "\n".join(
        f"{i}. {c['party'].get('entity_name') or c['party'].get('name') or c['entity_id']} ({c['score']:.3f})"
        for i, c in enumerate(choices, 1))


def print_item(out: Console, r: dict, names: dict) -> None:
    """A queue item: a pair's evidence table; for a mention with candidates, each candidate's,
    numbered as `creditgraph review decide ITEM same --candidate N` takes them."""
    if not r.get("choices"):
        out.print(evidence_table(r, names))
        return
    out.print(Text(f"item {r['pair_id']} ({r['kind']}): {party_text(r['left'])}\nfits {len(r['choices'])} "
                   f"candidates; choose one (same --candidate N) or none (different)."))
    for i, c in enumerate(r["choices"], 1):
        out.print(evidence_table({**r, "pair_id": f"{r['pair_id']} candidate {i}", "right": c["party"],
                                  "score": c["score"], "reason": c["reason"],
                                  "evidence": json.dumps(c["evidence"], ensure_ascii=False)}, names))


REASONS = {"uncertain": "the score is between the review and the match thresholds",
           "ambiguous": "one record matches entities that cannot be together",
           "conflict": "the evidence says same, but the two carry different identifiers"}


CONTEXT = re.compile(r"\b([EP]-[0-9A-Za-z-]+)\|([A-Z_]+)")  # a firm a person is tied to: 'E-9121...|LEGAL_REP_OF'


def _evidence_value(value, names: dict) -> str:
    """Entity ids in the evidence as names, one firm a line: '营口鑫达贸易有限公司 (LEGAL_REP_OF)'."""
    text = str(value)
    if not CONTEXT.search(text):
        return text
    return CONTEXT.sub(lambda m: f"{names.get(m[1], m[1])} ({m[2]})", text).replace(" / ", "\n")


def evidence_table(r: dict, names: dict) -> Table:
    """One pair: who the two are, then the evidence field by field with its weight in bits;
    `names` (entity id -> name) spells out the firms a person is tied to."""
    reason = REASONS.get(r["reason"], r["reason"])
    t = table(f"pair {r['pair_id']} ({r['kind']}), score {float(r['score']):.3f}: {r['reason']}, {reason}",
              "field", "left", "right", "level", "weight")
    t.show_lines = True
    row(t, "who", party_text(r["left"]), party_text(r["right"]), "", "")
    for field, ev in json.loads(r["evidence"]).items():
        if "compare" in ev:  # identity numbers, birth dates: how they compare, never the values
            left, right = f"compared: {ev['compare']}", ""
        else:
            left, right = _evidence_value(ev.get("left", ""), names), _evidence_value(ev.get("right", ""), names)
        row(t, field, left, right, ev["level"], f"{ev['weight']:+.2f}")
    return t


# -- API keys ---------------------------------------------------------------------------------

def print_keys(out: Console, keys: list[dict]) -> None:
    t = table(f"API keys ({len(keys)})", "name", "roles", "created", "last used", "expires")
    for k in keys:
        expires = _when(k["expires"]) if k["expires"] else "never"
        if k["expired"]:
            expires += " (EXPIRED)"
        used = _when(k["last_used"]) if k["last_used"] else "never"
        row(t, k["name"], ", ".join(k["roles"]), _when(k["created"]), used, expires)
    out.print(t)


def _when(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


# -- the demo's answers -----------------------------------------------------------------------

def path_text(walk: list[dict], names: dict) -> str:
    """A path as `A -SHAREHOLDER_OF 40%-> B`, with names, the way an investigator reads it."""
    if not walk:
        return ""
    text = names.get(walk[0]["from"], walk[0]["from"])
    for s in walk:
        label = s["type"]
        if s.get("ratio") is not None:
            label += f" {float(s['ratio']):.0%}"
        if s.get("amount") is not None:
            label += f" {float(s['amount']) / 10_000:,.0f}万元"  # amounts are stored in yuan
        text += f" -{label}-> {names.get(s['to'], s['to'])}"
    return text


def print_discipline(out: Console, subject: str, rows: list[dict], names: dict) -> None:
    title = f"Joint discipline: whom the listing of {subject} reaches"
    if not rows:
        out.print(Text(f"{title}: no one (no legal representative, controller or officer on record)."))
        return
    t = table(title, "who is reached", "as", "by rule", "how they are tied")
    reached: dict[tuple, list[dict]] = {}
    for r in rows:  # each person and rule once, then every role that brings the rule to them
        reached.setdefault((r["target_name"], r["target_kind"], r["target_id"], r["rule"]), []).append(r)
    for (name, kind, entity_id, rule), ties in reached.items():
        for i, r in enumerate(ties):
            first = i == 0
            row(t, f"{name} ({kind}, {entity_id})" if first else "", _role(r), rule if first else "",
                path_text(r["path"], names))
    out.print(t)
    records = sorted({(r["list"], r["record_uid"]) for r in rows})
    out.print(Text(f"{subject} is listed: " + "; ".join(f"{lst} (record {uid})" for lst, uid in records) + "."))
    for rule, basis in sorted({(r["rule"], r["basis"]) for r in rows}):
        out.print(Text(f"Rule {rule}: {basis}."))


def _role(r: dict) -> str:
    role = ROLE_LABELS.get(r["role"], r["role"])
    return role + (f" (holds {float(r['share']):.0%})" if r.get("share") is not None else "")


def print_related(out: Console, subject: str, depth: int, rows: list[dict], total: int, names: dict) -> None:
    t = table(f"Related parties of {subject} within {depth} steps: the nearest {len(rows)} of {total}",
              "who", "steps away", "how")
    for r in rows:
        row(t, f"{r['name']} ({r['kind']}, {r['entity_id']})", r["distance"], path_text(r["path"], names))
    out.print(t)


def print_search(out: Console, q: str, rows: list[dict]) -> None:
    t = table(f"Name search for '{q}': the closest names first", "name", "kind", "entity", "match score")
    for r in rows:
        row(t, r["name"], r["kind"], r["entity_id"], f"{float(r['score']):.2f}")
    out.print(t)


def print_owners(out: Console, subject: str, rows: list[dict], names: dict) -> None:
    title = f"Beneficial owners of {subject}"
    if not rows:
        out.print(Text(f"{title}: none."))
        return
    t = table(title, "owner", "share", "through")
    for r in rows:
        chains = "\n".join(f"{float(c['share']):.1%}: {path_text(c['path'], names)}" for c in r["chains"])
        row(t, f"{r['name']} ({r['person_id']})", f"{float(r['share']):.1%}", chains)
    out.print(t)
    out.print(Text("A beneficial owner is a person holding 25% or more: shares multiplied along each chain of "
                   "owners, added across chains."))


def print_circles(out: Console, rows: list[dict], names: dict) -> None:
    title = "Guarantee circles: firms that guarantee each other's loans in a ring"
    if not rows:
        out.print(Text(f"{title}: none."))
        return
    t = table(title, "firms in the circle", "who guarantees whom (amount)")
    for r in rows:
        firms = "\n".join(f"{names.get(e, e)} ({e})" for e in r["circle"])
        row(t, firms, path_text(r["steps"], names))
    t.show_lines = True
    out.print(t)
