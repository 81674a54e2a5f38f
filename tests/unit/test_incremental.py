"""creditgraph ingest (linkage.incremental): a synthetic city resolved in full, then three daily
batches (new rows of existing and new firms, rows renamed so that clusters split and merge,
identifiers cleared, rows deleted; the last batch sends the tax export whole) ingested one by one.
After them the output equals one full resolve of the final exports scored with the same fitted
models, file by file; changes.json says what moved; steward decisions hold through it; an ingest
cut short is finished or forgotten by the rerun."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from creditgraph.base.settings import id_key
from creditgraph.linkage import incremental
from creditgraph.linkage.decisions import Decision, DecisionLog, Verdict
from incremental_helpers import (KEYS, as_full, as_xlsx, batch_frames, city, differences, full_of_final, ingest_all,
                                 ending_batch, ingested, same_outputs, source_batch, source_rows,
                                 with_bad_insert, write_batch)


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    c = city(tmp_path_factory.mktemp("incremental"))
    snapshots = {}

    def keep(n, changes):
        snapshots[n] = (changes, pd.read_csv(c["root"] / "daily" / "mentions.csv", dtype=str))
    snapshots[0] = (None, pd.read_csv(c["full"] / "mentions.csv", dtype=str))
    ingest_all(c, c["root"] / "daily", keep)
    c["snapshots"] = snapshots
    return c


def test_three_batches_equal_one_full_resolve(town):
    diffs = differences(town["root"] / "daily", as_full(full_of_final(town, town["root"] / "daily")))
    assert {name: len(d) for name, d in diffs.items()} == {name: 0 for name in diffs}, \
        {name: d.head(4).to_dict("records") for name, d in diffs.items() if len(d)}


def test_batches_changed_what_they_say(town):
    for n in (1, 2, 3):
        changes, _ = town["snapshots"][n]
        assert changes["rows"]["inserted"] and changes["rows"]["updated"] and changes["rows"]["deleted"]
        # re-linked: a small part of the city, not all of it
        assert 0 < changes["relinked"]["enterprise"] < 0.5 * len(town["snapshots"][0][1])


def test_merges_and_splits_name_retired_ids_and_where_mentions_went(town):
    merges = splits = 0
    for n in (1, 2, 3):
        changes, after = town["snapshots"][n]
        before = town["snapshots"][n - 1][1]
        was, now = before.set_index("mention_id")["entity_id"], after.set_index("mention_id")["entity_id"]
        retired = {r["entity_id"]: r["mentions_went_to"] for r in changes["entities"]["retired"]}
        assert not set(retired) & set(now), "a retired id is still in use"
        for r, went in retired.items():  # every surviving mention of a retired id is where it says
            kept = was[was == r].index.intersection(now.index)
            assert set(now[kept]) == set(went)
        for m in changes["entities"]["merged"]:
            merges += 1
            assert set(m["from"]) & set(retired) and m["into"] in set(now)
            for old in m["from"]:
                kept = was[was == old].index.intersection(now.index)
                assert m["into"] in set(now[kept])
        for s in changes["entities"]["split"]:
            splits += 1
            kept = was[was == s["from"]].index.intersection(now.index)
            assert set(now[kept]) == set(s["into"]) and len(s["into"]) > 1
    assert merges and splits, "the batches should merge and split some entities"
    csv = pd.read_csv(town["root"] / "daily" / "changes_entities.csv", dtype=str)  # the last batch's
    assert set(csv["change"]) >= {"merged", "split", "retired", "new"}


def test_list_records_added_and_deleted(town):
    records = [town["snapshots"][n][0]["records"] for n in (1, 2, 3)]
    assert any(r["added"] for r in records) and any(r["deleted"] for r in records)
    final = set(pd.read_csv(town["root"] / "daily" / "list_records.csv", dtype=str)["record_uid"])
    assert not set(records[-1]["deleted"]) & final and set(records[-1]["added"]) <= final


def test_same_batch_twice_changes_nothing(town, tmp_path):
    into = tmp_path / "out"
    shutil.copytree(town["full"], into)
    key = id_key(town["settings"])
    first = incremental.ingest(town["batches"][0], into, {}, key)
    before = (into / "mentions.csv").read_bytes()
    again = incremental.ingest(town["batches"][0], into, {}, key)
    assert again == {"batch": first["batch"], "already_applied": True}
    assert (into / "mentions.csv").read_bytes() == before


@pytest.mark.parametrize("crash_at", ["before_commit", "after_commit"])
def test_crash_mid_ingest_rerun_completes_without_duplicates(town, tmp_path, monkeypatch, crash_at):
    key = id_key(town["settings"])
    clean = tmp_path / "clean"
    shutil.copytree(town["full"], clean)
    incremental.ingest(town["batches"][0], clean, {}, key)
    into = tmp_path / "crashed"
    shutil.copytree(town["full"], into)
    real_write, real_recover = incremental._write_state, incremental.recover

    def write_then_die(path, state):
        if crash_at == "before_commit" and incremental.PENDING in str(path):
            raise KeyboardInterrupt("power cut")
        real_write(path, state)

    def die_halfway(out_dir):  # the COMMIT list is written: one file renamed, then the cut
        pending = out_dir / incremental.PENDING
        if crash_at == "after_commit" and (pending / "COMMIT").exists():
            name = json.loads((pending / "COMMIT").read_text())[0]
            (pending / name).replace(out_dir / name)
            raise KeyboardInterrupt("power cut")
        real_recover(out_dir)
    monkeypatch.setattr(incremental, "_write_state", write_then_die)
    monkeypatch.setattr(incremental, "recover", die_halfway)
    with pytest.raises(KeyboardInterrupt):
        incremental.ingest(town["batches"][0], into, {}, key)
    monkeypatch.undo()
    rerun = incremental.ingest(town["batches"][0], into, {}, key)
    # after the COMMIT list the rerun finishes the renames and finds the batch applied; before it, it applies it
    assert bool(rerun.get("already_applied")) == (crash_at == "after_commit")
    assert not (into / incremental.PENDING).exists()
    for name in ("mentions.csv", "entities.csv", "relations.csv", "list_records.csv"):
        a = pd.read_csv(into / name, dtype=str)
        assert a.equals(pd.read_csv(clean / name, dtype=str)), name
        assert not a.duplicated().any()
    assert incremental.load_state(into).batches == incremental.load_state(clean).batches


def test_steward_decisions_survive_splits_and_merges(town, tmp_path):
    """A `same` decision joins a name-only firm to another firm, and holds when a later batch
    renames the name-only firm's row; a `different` decision splits two mentions sharing a
    USCC, and holds when a later batch brings a third mention with that USCC."""
    c = dict(town, settings=town["settings"].model_copy(update={"data": tmp_path / "data"}))
    mentions = pd.read_csv(c["full"] / "mentions.csv", dtype=str)
    entities = pd.read_csv(c["full"] / "entities.csv", dtype=str, keep_default_na=False)
    loner = entities[(entities["kind"] == "enterprise") & (entities["identifier"] == "")
                     & (entities["records"].str.count(r"\|") == 0)]["entity_id"]
    lone = mentions[mentions["entity_id"].isin(loner) & mentions["mention_id"].str.startswith("tax:")]
    firms = mentions[mentions["mention_id"].str.startswith("registry:") & mentions["role"].eq("subject")]
    counts = mentions.groupby("entity_id")["mention_id"].transform("size")
    twins = mentions[mentions["entity_id"].str.startswith("E-9") & (counts >= 3)
                     & mentions["mention_id"].str.startswith(("registry:", "tax:"))]
    pair = twins.groupby("entity_id")["mention_id"].apply(list)
    pair = next(p for p in pair if any(x.startswith("registry:") for x in p) and any(x.startswith("tax:") for x in p))
    a = next(x for x in pair if x.startswith("registry:"))
    b = next(x for x in pair if x.startswith("tax:"))
    same_a, same_b = lone["mention_id"].iat[0], firms["mention_id"].iat[5]
    log = DecisionLog(c["settings"].decisions_path)
    log.append(Decision(same_a, same_b, Verdict.SAME, who="alice"))
    log.append(Decision(a, b, Verdict.DIFFERENT, who="bob"))

    def together(n, changes):
        m = pd.read_csv(c["root"] / "decided" / "mentions.csv", dtype=str).set_index("mention_id")["entity_id"]
        if same_a in m.index and same_b in m.index:
            assert m[same_a] == m[same_b], f"batch {n} split a `same` decision"
        if a in m.index and b in m.index:
            assert m[a] != m[b], f"batch {n} merged a `different` decision"
    c["root"] = tmp_path
    ingest_all(c, tmp_path / "decided", together)
    m = pd.read_csv(tmp_path / "decided" / "mentions.csv", dtype=str).set_index("mention_id")["entity_id"]
    assert {same_a, same_b, a, b} <= set(m.index), "the batches removed a decided mention: pick others"
    diffs = differences(tmp_path / "decided", as_full(full_of_final(c, tmp_path / "decided")))
    assert all(len(d) == 0 for d in diffs.values())


def test_cli_ingest_then_load_changes(town, tmp_path, monkeypatch):
    """The commands as a newcomer runs them: ingest prints what changed and where the details
    are; load --changes applies them to the embedded store a full load filled."""
    from typer.testing import CliRunner

    from creditgraph.base.settings import get_settings
    from creditgraph.cli import app
    from creditgraph.graph.memory_store import MemoryStore
    monkeypatch.setenv("CREDITGRAPH_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("CREDITGRAPH_ID_KEY", town["settings"].id_key)
    monkeypatch.delenv("NEO4J_URI", raising=False)
    get_settings.cache_clear()
    try:
        out = shutil.copytree(town["full"], tmp_path / "out")
        runner = CliRunner()
        assert runner.invoke(app, ["load", "--from", str(out)]).exit_code == 0
        done = runner.invoke(app, ["ingest", "--manifest", str(town["batches"][0]), "--into", str(out)])
        assert done.exit_code == 0, done.output
        assert "changes.json" in done.output and "load --changes" in done.output
        again = runner.invoke(app, ["ingest", "--manifest", str(town["batches"][0]), "--into", str(out)])
        assert "already applied" in again.output
        applied = runner.invoke(app, ["load", "--changes", "--from", str(out)])
        assert applied.exit_code == 0, applied.output
        report = json.loads(applied.output)
        changes = json.loads((out / "changes.json").read_text())
        assert report["upserted"] == len(changes["graph"]["upsert"]) and report["deleted"] == len(changes["graph"]["delete"])
        store = MemoryStore(tmp_path / "data" / "graph.pickle")
        assert changes["entities"]["new"] and changes["graph"]["delete"]  # else the two checks below hold vacuously
        assert all(store.query("entity_by_id", entity_id=e) for e in changes["entities"]["new"][:5])
        assert not any(store.query("entity_by_id", entity_id=e) for e in changes["graph"]["delete"][:5])
        bad = runner.invoke(app, ["ingest", "--manifest", str(town["batches"][0]), "--into", str(tmp_path)])
        assert bad.exit_code == 2 and "incremental" in bad.output  # a usage error naming the missing state
    finally:
        get_settings.cache_clear()


def test_relation_numbers_written_as_one_value_csv_writes_each():
    """_csv_numbers (one to_csv for the floats) gives what a CSV of each value alone holds."""
    values = pd.Series([1.0, 0.7611, None, float("nan"), 30000000.0, 1e16, 5, "7.50", 0.1 + 0.2], dtype=object)
    # what a CSV writer holds for each alone: a float's repr, an absent value empty, the rest as is
    expected = ["1.0", "0.7611", "", "", "30000000.0", "1e+16", "5", "7.50", "0.30000000000000004"]
    assert incremental._csv_numbers(values).tolist() == expected


def test_an_xlsx_batch_ingests_as_the_same_rows_in_csv(town, tmp_path):
    """The first batch's deltas, one bad insert added, as CSV files and as XLSX sheets: the same
    outputs, the same counts per source (adding up), the same rejects, named by sheet."""
    csv_batch = with_bad_insert(town["batches"][0], tmp_path / "csv")
    xlsx_batch = as_xlsx(csv_batch, tmp_path / "xlsx")
    (by_csv,), (by_xlsx,) = ingested(town, [csv_batch], tmp_path / "a"), ingested(town, [xlsx_batch], tmp_path / "b")
    assert same_outputs(tmp_path / "a", tmp_path / "b") == {name: 0 for name in KEYS}
    assert by_csv["rows"] == by_xlsx["rows"] and by_csv["records"] == by_xlsx["records"]
    counts = lambda changes: {s["source"]: (s["rows_read"], s["accepted"], s["rejected"], s["mentions"])
                              for s in changes["sources"]}
    assert counts(by_csv) == counts(by_xlsx)
    assert all(read == accepted + rejected for read, accepted, rejected, _ in counts(by_xlsx).values())
    assert sum(s["rejected"] for s in by_xlsx["sources"]) >= 1 and not any(s["error"] for s in by_xlsx["sources"])
    rejects = [pd.read_csv(d / "rejects.csv", dtype=str, keep_default_na=False) for d in (tmp_path / "a", tmp_path / "b")]
    added = [r.iloc[len(pd.read_csv(town["full"] / "rejects.csv", dtype=str)):] for r in rejects]
    assert added[0].drop(columns="file").equals(added[1].drop(columns="file"))
    bad = added[1][added[1]["raw"].str.contains("BAD-INSERT-1")]
    assert len(bad) == 1 and bad["file"].iat[0].endswith("]") and ".xlsx[" in bad["file"].iat[0]
    assert bad["reason"].iat[0].startswith("empty name")
    # a delete row (record id and op only) is no reject in either format
    assert not added[1]["raw"].str.contains(",delete$").any()


def test_a_delta_without_its_op_column_is_a_manifest_error(town, tmp_path):
    raw, rows = batch_frames(town["batches"][0])
    source = next(s for s in raw["sources"] if s.get("mode") == "delta")
    rows[source["name"]] = rows[source["name"]].drop(columns=source["op"])
    batch = write_batch(raw, rows, tmp_path / "no_op", "csv", lambda n, f, p: f.to_csv(p, index=False))
    with pytest.raises(incremental.ManifestError, match=source["op"]):
        incremental.read_batch(batch)


def test_records_ended_and_removed_are_named_and_equal_a_full_resolve(town, tmp_path):
    """A court day: open listings given a term, one term brought forward, one listing removed by a
    removal export. changes.json names them `ended` and `removed` (not `changed`); the rows are
    list-only updates, so nothing is linked again; the output equals a full resolve."""
    day = ending_batch(town, tmp_path)
    into = tmp_path / "out"
    (changes,) = ingested(town, [day["batch"]], into)
    records = changes["records"]
    assert set(records["ended"]) == set(day["ended"]) and len(records["ended"]) == 5
    assert set(records["removed"]) == set(day["removed"])
    assert not records["added"] and not records["deleted"] and not set(records["changed"]) & set(day["ended"])
    assert changes["rows"]["updated"] == changes["rows"]["lists_only"] == 5
    assert changes["relinked"] == {"enterprise": 0, "person": 0} and not changes["graph"]["upsert"]
    assert set(changes["graph"]["records"]) >= set(day["ended"]) | set(day["removed"])
    lists = pd.read_csv(into / "list_records.csv", dtype=str, keep_default_na=False).set_index("record_uid")
    assert lists.loc[list(day["ended"]), "effective_to"].to_dict() == day["ended"]
    assert lists.loc[list(day["removed"]), "removed_on"].to_dict() == day["removed"]
    kinds = pd.read_csv(into / "changes_records.csv", dtype=str)
    assert set(kinds.loc[kinds["change"] == "ended", "record_uid"]) == set(day["ended"])
    diffs = differences(into, as_full(full_of_final(dict(town, final=day["final"]), into)))
    assert {name: len(d) for name, d in diffs.items()} == {name: 0 for name in diffs}


def test_unlinked_mentions_follow_the_batch_and_equal_a_full_resolve(town, tmp_path):
    """A bare firm name that several firms carry is left unlinked (unlinked.csv). A batch deletes
    such a row and sends the same name again under another record id: the old mention leaves
    unlinked.csv, the new one is in it, as a full resolve of the final exports has them."""
    before = pd.read_csv(town["full"] / "unlinked.csv", dtype=str, keep_default_na=False)
    assert len(before), "the town has no unlinked mention: pick a size that has one"
    source, record_id, _ = before["mention_id"].iat[0].split(":")
    spec, rows = source_rows(town, source)
    again = rows[rows[spec["record_id"]] == record_id].assign(**{spec["record_id"]: "UNLINKED-AGAIN-1"})
    day = source_batch(town, tmp_path, source, [record_id], again)
    into = tmp_path / "out"
    ingested(town, [day["batch"]], into)
    after = pd.read_csv(into / "unlinked.csv", dtype=str, keep_default_na=False)
    assert before["mention_id"].iat[0] not in set(after["mention_id"])
    assert f"{source}:UNLINKED-AGAIN-1:subject" in set(after["mention_id"])
    diffs = differences(into, as_full(full_of_final(dict(town, final=day["final"]), into)))
    assert {name: len(d) for name, d in diffs.items()} == {name: 0 for name in diffs}


def test_a_round_that_sees_the_same_changed_records_skips_the_partner_scan(town, tmp_path, monkeypatch):
    """The set grows in rounds; a round whose changed records and oversized blocks are the last
    round's does not scan for partners again (the scan is most of the re-link at 2M), and the
    output is what scanning in every round gives."""
    scans, real_scan = [], incremental._matched_partners

    def counted(k, *args):
        scans.append(k.kind)
        return real_scan(k, *args)
    monkeypatch.setattr(incremental, "_matched_partners", counted)
    ingested(town, town["batches"][:1], tmp_path / "skip")
    with_skip = len(scans)
    monkeypatch.setattr(incremental, "_scan_input", lambda *a: object())  # never the same: scan every round
    scans.clear()
    ingested(town, town["batches"][:1], tmp_path / "every")
    assert with_skip < len(scans), "no round skipped its scan: the batch should make the set grow"
    assert same_outputs(tmp_path / "skip", tmp_path / "every") == {name: 0 for name in KEYS}


def test_the_state_file_gives_back_every_frame_with_its_dtypes_and_index(tmp_path):
    # written column by column (a pickle of a whole frame memoizes every string it writes)
    frame = pd.DataFrame({"text": ["营口", None, "鑫达"], "count": pd.array([1, None, 3], dtype="Int64"),
                          "ratio": [0.5, np.nan, 1.0], "dept": pd.Categorical(["tax", "court", "tax"])})
    odd_index = frame.set_axis([5, 5, 7])
    state = incremental.State(frames={"mentions": frame, "relations": odd_index, "lists": frame.iloc[:0]},
                              assign=frame, keys=odd_index, hard=pd.DataFrame(index=[1, 2]), models={},
                              decisions={("a", "b"): "same"}, sources=["registry"], batches=["day-1"])
    incremental._write_state(tmp_path / incremental.STATE_FILE, state)
    back = incremental.load_state(tmp_path)
    assert list(back.frames) == list(state.frames)
    for name, df in [*state.frames.items(), *((k, getattr(state, k)) for k in incremental.STATE_TABLES)]:
        pd.testing.assert_frame_equal(back.frames[name] if name in state.frames else getattr(back, name), df)
    assert (back.decisions, back.sources, back.batches) == (state.decisions, state.sources, state.batches)


def test_each_rows_place_is_what_a_merge_on_source_and_record_gives():
    """_with_place adds the place columns without copying the frame; it must give what the merge
    it replaces gave (dtypes too: a row whose record has no place is NaN, the column float)."""
    rng = np.random.default_rng(1)
    for _ in range(200):
        n, k = int(rng.integers(0, 40)), int(rng.integers(0, 30))
        mentions = pd.DataFrame({"source": rng.choice(["a", "b", "c"], n).astype(object),
                                 "record_id": rng.choice([str(i) for i in range(12)], n).astype(object),
                                 "x": rng.random(n)})
        rows = mentions[["source", "record_id"]].drop_duplicates()
        rows = rows.assign(src_pos=rows["source"].map({"a": 0, "b": 1, "c": 2}),
                           row_pos=rows.groupby("source").cumcount())
        other = pd.DataFrame({"source": rng.choice(["a", "b", "c", "d"], k).astype(object),
                              "record_id": rng.choice([str(i) for i in range(15)], k).astype(object),
                              "y": rng.random(k)})
        for frame in (mentions, other, mentions.iloc[::2]):
            assert_frame_equal(incremental._with_place(frame, rows),
                               frame.merge(rows, on=["source", "record_id"], how="left"))


def test_an_ids_base_drops_only_a_numeric_suffix_as_the_regex_on_every_id_did():
    ids = pd.Series(["E-91210800MA0QCX1D4H", "E-91210800MA0QCX1D4H-2", "E-O12345678-12", "P-3f2a-3", "P-3f2a",
                     "E-a-b-2", "e-x-2", "E-abc-", "E-abc-x", "E-abc-٣", "S-1a2b3c4d5e6f"], index=range(5, 16))
    expected = ids.str.replace(r"^([A-Z]-[^-]+)-\d+$", r"\1", regex=True)
    assert incremental._base(ids).to_dict() == expected.to_dict()
    assert incremental._base(ids).iloc[1] == "E-91210800MA0QCX1D4H"
