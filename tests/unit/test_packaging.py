"""A wheel carries the data the code reads (queries, rules, models, vocabularies, the web page,
the Neo4j pom), and installs every stage under the creditgraph namespace, nothing top-level."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# folder in the repository -> package it installs as
PACKAGES = {"creditgraph": "creditgraph", "base": "creditgraph/base", "linkage": "creditgraph/linkage",
            "loaders": "creditgraph/loaders", "graph": "creditgraph/graph", "api": "creditgraph/api",
            "cypher": "creditgraph/cypher"}
DATA = ("*.cypher", "*.yaml", "*.html", "*.grass", "*.xml")


def _build_wheel(tmp_path: Path) -> set[str]:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in PACKAGES:
        shutil.copytree(ROOT / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; "
                    "b.build_wheel(sys.argv[1])", str(dist)], cwd=src, check=True, capture_output=True)
    return set(zipfile.ZipFile(next(dist.glob("creditgraph-*.whl"))).namelist())


def test_wheel_ships_every_data_file_under_the_namespace(tmp_path):
    shipped = _build_wheel(tmp_path)
    src = tmp_path / "src"
    wanted = {f"{PACKAGES[folder]}/{p.relative_to(src / folder).as_posix()}"
              for folder in PACKAGES for pattern in DATA for p in (src / folder).rglob(pattern)}
    assert {"creditgraph/cypher/entities.cypher", "creditgraph/api/static/review.html",
            "creditgraph/graph/neo4j/pom.xml"} <= wanted
    assert wanted <= shipped, f"missing from the wheel: {sorted(wanted - shipped)}"
    top = {name.split("/")[0] for name in shipped if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"creditgraph"}, f"top-level names besides creditgraph: {sorted(top - {'creditgraph'})}"


def test_installed_package_has_no_top_level_stage_modules(tmp_path):
    """Outside the repository, `import api` fails and `import creditgraph.api` works."""
    def imports(module: str) -> bool:
        return subprocess.run([sys.executable, "-c", f"import {module}"], cwd=tmp_path,
                              capture_output=True).returncode == 0
    for stage in ("api", "graph", "linkage", "loaders", "cypher"):
        assert not imports(stage), f"a top-level {stage!r} module is importable"
        assert imports(f"creditgraph.{stage}")
