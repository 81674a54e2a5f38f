"""NumPy's transparent huge pages are off in a creditgraph process unless the environment turns
them on (creditgraph/__init__.py says why). NumPy reads the setting once, at its first import,
so each case runs in a fresh interpreter that imports the CLI as the `creditgraph` command does."""
import os
import subprocess
import sys

# NumPy's own getter of the setting (private: it has no public one)
PROBE = ("import creditgraph.cli; from numpy._core import multiarray; "
         "print(multiarray._get_madvise_hugepage())")


def _huge_pages(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def test_numpy_huge_pages_are_off_by_default():
    assert _huge_pages() == "False"


def test_the_environment_can_turn_them_back_on():
    assert _huge_pages(NUMPY_MADVISE_HUGEPAGE="1") == "True"
