"""benchmarks/spark_scale.py's own arithmetic, checked without Spark or a city: the shuffle volume
summed from a (rolled) event log, the growth exponents, the engine-against-engine id comparison and
the CPU of a process tree."""
import json
import sys

import pytest

from benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("spark_scale")


def _task(read_remote, read_local, written, heap):
    return {"Event": "SparkListenerTaskEnd",
            "Task Metrics": {"Shuffle Read Metrics": {"Remote Bytes Read": read_remote, "Local Bytes Read": read_local,
                                                      "Total Records Read": 3},
                             "Shuffle Write Metrics": {"Shuffle Bytes Written": written, "Shuffle Records Written": 2},
                             "Disk Bytes Spilled": 5, "Executor Run Time": 1500, "Executor CPU Time": 10**9},
            "Task Executor Metrics": {"JVMHeapMemory": heap}}


def test_the_event_log_is_summed_over_every_task_and_rolled_file(bench, tmp_path):
    app = tmp_path / "eventlog_v2_local-1"
    app.mkdir()
    events = [[{"Event": "SparkListenerJobStart"}, _task(100, 20, 300, 2**20)],
              [_task(1, 2, 4, 3 * 2**20), {"Event": "SparkListenerStageCompleted"}]]
    for n, part in enumerate(events, 1):
        (app / f"events_{n}_local-1").write_text("\n".join(json.dumps(e) for e in part) + "\n")
    (app / "appstatus_local-1").write_text("")
    (app / ".events_1_local-1.crc").write_text("not json")
    totals = bench.event_log(tmp_path)
    assert totals["shuffle_read_bytes"] == 123 and totals["shuffle_write_bytes"] == 304
    assert (totals["tasks"], totals["jobs"], totals["stages"], totals["event_logs"]) == (2, 1, 1, 2)
    assert totals["disk_spilled_bytes"] == 10 and totals["executor_run_s"] == 3.0
    assert totals["peak_jvm_heap_mb"] == 3


def test_growth_is_the_exponent_of_a_power_law(bench):
    sizes = {"500k": {"medians": {"spark": {"mentions": 500, "wall_s": 100.0, "cpu_s": 50.0}}},
             "2m": {"medians": {"spark": {"mentions": 2000, "wall_s": 800.0, "cpu_s": 100.0}}},
             "10m": {"runs": []}}  # a size cut short has no medians and is left out
    growth = bench.growth(sizes)
    assert list(growth) == ["spark 500k->2m"]
    assert growth["spark 500k->2m"]["wall_s"] == {"x": 8.0, "exponent": 1.5}
    assert growth["spark 500k->2m"]["cpu_s"]["exponent"] == 0.5


def test_one_different_entity_id_is_reported(bench, tmp_path):
    for name, ids in (("a", ["e1", "e2", "e3"]), ("b", ["e1", "e2", "e9"])):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mentions.csv").write_text(
            "mention_id,entity_id\n" + "".join(f"m{i},{e}\n" for i, e in enumerate(ids)))
    same = bench.same_ids(tmp_path / "a", tmp_path / "b")
    assert same["equal"] == 2 and not same["all_equal"]
    assert bench.same_ids(tmp_path / "a", tmp_path / "a")["all_equal"]


def test_an_output_file_that_differs_by_one_byte_or_is_missing_is_reported(bench, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for output in bench.OUTPUTS:
            (tmp_path / name / output).write_text("pair_id,score\np1,0.99\n")
    (tmp_path / "b" / "review_queue.csv").write_text("pair_id,score\np1,0.98\n")
    (tmp_path / "b" / "unlinked.csv").unlink()
    same = bench.same_files(tmp_path / "a", tmp_path / "b")
    assert {name for name, equal in same.items() if not equal} == {"review_queue.csv", "unlinked.csv"}
    assert all(bench.same_files(tmp_path / "a", tmp_path / "a").values())


def test_the_cpu_of_a_grandchild_is_counted(bench, tmp_path):
    busy = "import time; t = time.process_time()\nwhile time.process_time() - t < 1.5: pass"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {busy!r}])"
    run = bench.measured([sys.executable, "-c", child], {}, tmp_path / "busy.log")
    assert run["cpu_s"] >= 1.0  # the grandchild's loop, seen by sampling the tree
    assert run["peak_tree_rss_mb"] > 0 and run["wall_s"] >= 1.5


def test_a_failed_run_says_how_its_log_ends(bench, tmp_path):
    with pytest.raises(RuntimeError, match=r"failed \(3\).*\n.*java.lang.OutOfMemoryError"):
        bench.measured([sys.executable, "-c", "print('java.lang.OutOfMemoryError'); raise SystemExit(3)"], {},
                       tmp_path / "fail.log")


def test_what_is_left_for_stewards_is_counted_per_kind_and_reason(bench, tmp_path):
    (tmp_path / "unlinked.csv").write_text(
        "mention_id,kind,source,name,reason,candidates,candidate_entities\n"
        "m1,enterprise,social,甲,name_matches_several,2,e1|e2\n"
        "m2,enterprise,social,乙,name_matches_several,3,e3|e4|e5\n"
        "m3,person,tax,丙,other,0,\n", encoding="utf-8")
    counts = bench.left_for_stewards(tmp_path)  # no review_queue.csv: an empty count, not an error
    assert counts == {"unlinked": {"enterprise name_matches_several": 2, "person other": 1}, "review_queue": {}}
