"""benchmarks/ab_resolve.py's own arithmetic: medians per checkout and the byte-for-byte
comparison of two runs' outputs (the run report, which holds times, left out)."""
import pathlib

import pytest

from benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("ab_resolve")


def test_medians_are_taken_per_measure_and_per_stage(bench):
    runs = [{"wall_s": w, "cpu_s": w / 2, "peak_rss_mb": 100, "stages_s": {"persons": w / 4}} for w in (10, 30, 20)]
    runs[0]["stages_s"]["write"] = 1.0  # a stage one run lacks counts as 0 in the others
    assert bench.medians(runs) == {"wall_s": 20, "cpu_s": 10, "peak_rss_mb": 100,
                                   "stages_s": {"persons": 5.0, "write": 0.0}}


def test_outputs_compare_byte_for_byte_except_the_run_report(bench, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d, entities in ((a, "E-1\n"), (b, "E-2\n")):
        d.mkdir()
        (d / "mentions.csv").write_text("m1,E-1\n")
        (d / "entities.csv").write_text(entities)
        (d / "run_report.json").write_text(str(d))
    (a / "unlinked.csv").write_text("")
    assert bench.same_outputs(a, b) == {"entities.csv": False, "mentions.csv": True, "unlinked.csv": False}


def test_every_run_passes_the_extra_resolve_arguments(bench, tmp_path, monkeypatch):
    seen = []

    def fake_timed(cmd, env, log):
        seen.append(cmd)
        out = pathlib.Path(cmd[cmd.index("--out") + 1])
        out.mkdir(parents=True)
        (out / "run_report.json").write_text('{"timings_s": {"writing outputs": 1.5}}')
        return {"wall_s": 2.0, "cpu_s": 1.0, "peak_rss_mb": 10, "peak_tree_rss_mb": 12}
    monkeypatch.setattr(bench, "timed_subprocess", fake_timed)
    got = bench.run(tmp_path / "checkout", tmp_path / "city", tmp_path / "work", ["--engine", "spark"])
    assert seen[0][-2:] == ["--engine", "spark"] and seen[0][1] == "resolve"
    assert got["stages_s"] == {"writing outputs": 1.5}
