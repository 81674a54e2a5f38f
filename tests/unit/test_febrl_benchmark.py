"""benchmarks/febrl_vs_splink.py picks its data set by name: a name it does not know is refused,
never answered with another data set. Checked without running the benchmark."""
import pytest

from benchmark_scripts import load_benchmark


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("febrl_vs_splink")


@pytest.mark.parametrize("name", ["febrl5", "febrl", "Febrl3", ""])
def test_an_unknown_data_set_is_refused(bench, name):
    with pytest.raises(ValueError, match=f"unknown Febrl data set {name!r}.*febrl3, febrl4"):
        bench.load(name)


def test_each_known_data_set_loads_its_own_records(bench):
    a3, b3 = bench.load("febrl3")
    a4, b4 = bench.load("febrl4")
    assert b3 is None and len(a3) == 5000 and a3.index.str.contains("-dup-").any()  # one list, with duplicates
    assert a4.index.str.endswith("-org").all() and b4.index.str.endswith("-dup-0").all()  # two lists to link
