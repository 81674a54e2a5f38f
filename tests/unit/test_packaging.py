"""A wheel carries the data the code reads: queries, rules, models, vocabularies, the web page."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("creditgraph", "linkage", "loaders", "graph", "api", "cypher")
DATA = ("*.cypher", "*.yaml", "*.html", "*.grass")


def test_wheel_ships_every_data_file(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True)
    wheel = next((tmp_path / "dist").glob("creditgraph-*.whl"))
    shipped = set(zipfile.ZipFile(wheel).namelist())
    wanted = {p.relative_to(src).as_posix() for pkg in PACKAGES for pattern in DATA
              for p in (src / pkg).rglob(pattern)}
    assert "cypher/entities.cypher" in wanted and "api/static/review.html" in wanted
    assert wanted <= shipped, f"missing from the wheel: {sorted(wanted - shipped)}"
