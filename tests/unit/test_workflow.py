"""helpers.workflow: the analysis modules need none of its optional extra, and fingerprints follow imports.

This file holds the unit tests (the unit tier); the tests that execute notebooks are in
``tests/pipeline/test_workflow_pipeline.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers.paths import repo_root
from helpers.workflow import map_tasks, module_closure, notebook_modules
from helpers.workflow.fingerprint import code_digest

ROOT = repo_root()
EXTRA = ("papermill", "nbconvert", "jupyterlab", "dask", "distributed")

# The path finder, wrapped so that the extra's packages are not found: as in an environment without them
# (``importlib.util.find_spec`` answers None, ``import`` raises ModuleNotFoundError).
BLOCKER = """
import importlib.machinery, sys
BLOCKED = {blocked!r}
class WithoutExtra(importlib.machinery.PathFinder):
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            return None
        return super().find_spec(name, path, target)
sys.meta_path[:] = [WithoutExtra if f is importlib.machinery.PathFinder else f for f in sys.meta_path]
assert WithoutExtra in sys.meta_path
"""


def _python(code: str, *, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, **(env or {})))  # fmt: skip


def test_the_analysis_modules_import_without_the_workflow_extra():
    code = BLOCKER.format(blocked=EXTRA) + textwrap.dedent("""
        try:
            import papermill
        except ModuleNotFoundError:
            pass
        else:
            raise SystemExit("the blocker does not block")
        import helpers, helpers.dst, helpers.cytometry, helpers.integration, helpers.scrna, helpers.barcodes
        import helpers.workflow
        print("imported", sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED))
    """)
    out = _python(code, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "imported []" in out.stdout


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    pkg = tmp_path / "src" / "helpers"
    for rel, text in {"__init__.py": "", **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(textwrap.dedent(text))
    return pkg


def test_module_closure_follows_relative_lazy_and_computed_imports(tmp_path):
    pkg = _package(tmp_path, {
        "io.py": "import os\n",
        "cli.py": "import importlib\ndef main(name):\n    return importlib.import_module(f'helpers.{name}')\n",
        "registry.py": "from .io import x\ndef main():\n    from .cli import main  # the command line only\n",
        "ax/__init__.py": "from .tables import t\n",
        "ax/tables.py": "from ..registry import y\n",
        "ax/plots.py": "def f():\n    from helpers import io\n",
        "ax/strategy.yaml": "gates: []\n",
        "sim/__init__.py": "import importlib\ndef load(axis):\n    return importlib.import_module(f'.{axis}', __name__)\n",
        "sim/one.py": "", "sim/two.py": "",
        "other.py": "",
    })  # fmt: skip
    rel = lambda files: sorted(f.relative_to(pkg).as_posix() for f in files)  # noqa: E731
    # A sub-package pulls its __init__ and what that imports; a lazy import inside a function counts.
    assert rel(module_closure({"helpers.ax.plots"}, pkg=pkg)) == [
        "__init__.py", "ax/__init__.py", "ax/plots.py", "ax/tables.py", "io.py", "registry.py"]
    # A computed import counts as every module of its package; the command-line layer is not followed.
    assert rel(module_closure({"helpers.sim"}, pkg=pkg)) == ["__init__.py", "sim/__init__.py", "sim/one.py",
                                                             "sim/two.py"]
    nb = tmp_path / "01_x.py"
    nb.write_text("# %%\nfrom helpers.ax import tables\nimport numpy as np\n# %%\nfrom helpers.io import write\n")
    assert rel(notebook_modules(nb, pkg=pkg)) == ["__init__.py", "ax/__init__.py", "ax/tables.py", "io.py",
                                                  "registry.py"]
    digest, files = code_digest(nb, pkg=pkg)
    assert "ax/strategy.yaml" in files and "other.py" not in files and "cli.py" not in files
    (pkg / "other.py").write_text("# an edit elsewhere\n")
    assert code_digest(nb, pkg=pkg)[0] == digest
    (pkg / "ax" / "strategy.yaml").write_text("gates: [a]\n")  # package data beside an imported module counts
    assert code_digest(nb, pkg=pkg)[0] != digest
    nb.write_text("%matplotlib inline\nfrom helpers.io import write\n")  # not Python: the whole package
    assert code_digest(nb, pkg=pkg)[1] == ["*"]


PLAN = """
import json, sys
from pathlib import Path
import helpers
assert Path(helpers.__file__).resolve().is_relative_to(Path.cwd().resolve()), helpers.__file__  # the copied tree
from helpers.workflow import discover_notebooks, load_cohort, plan_runs
from helpers.workflow.fingerprint import digest_obj
from helpers.workflow.plan import upstream_digests
from helpers.workflow.provenance import write_state
results, private = Path(sys.argv[1]), Path(sys.argv[2])
plan = plan_runs(load_cohort("ci"), discover_notebooks(), results_root=results, private_root=private)
if sys.argv[3] == "record":  # the state a successful run of each planned notebook leaves (in DAG order)
    for item in plan:
        if item.status == "run":
            (results / "ci" / item.spec.name).mkdir(parents=True, exist_ok=True)
            ups = {u: (True,) for u in item.parts["upstream"]}
            item.parts["upstream"] = upstream_digests(item.spec, ups, results / "ci")
            item.fingerprint = digest_obj(item.parts)
            write_state(results / "ci", item, {item.spec.name + ".csv": "0"})
print(json.dumps({p.spec.name: [p.status, p.reason] for p in plan}))
"""


def test_an_edit_to_one_axis_module_reruns_only_the_notebooks_that_import_it(ci_cohort, tmp_path):
    clone = tmp_path / "clone"
    for part in ("src", "notebooks", "config"):
        shutil.copytree(ROOT / part, clone / part, ignore=shutil.ignore_patterns("__pycache__", "reference", "*.ipynb"))
    for f in ("pyproject.toml", "requirements.lock"):
        shutil.copyfile(ROOT / f, clone / f)
    (clone / "data" / "simulated").mkdir(parents=True)
    (clone / "data" / "simulated" / "ci").symlink_to(ci_cohort)
    script = clone / "plan.py"
    script.write_text(PLAN)
    env = {"PYTHONPATH": str(clone / "src"), "DREAM_OUTPUT_ROOT": str(tmp_path / "scratch")}

    def plan(mode: str = "show") -> dict[str, list[str]]:
        out = subprocess.run([sys.executable, str(script), str(tmp_path / "results"), str(tmp_path / "private"), mode],
                             cwd=clone, capture_output=True, text=True, env=dict(os.environ, **env))
        assert out.returncode == 0, out.stderr[-3000:]
        return json.loads(out.stdout.splitlines()[-1])

    first = plan("record")
    names = {n for n, (s, _) in first.items() if s != "n/a"}  # a public-dataset notebook never runs for ci
    assert {"00_cohort", "04_barcodes", "05_integration"} <= names and first["11_dst_beataml"][0] == "n/a"
    again = plan()
    assert all(again[n][0] == "skip" for n in names)  # recorded: nothing changed, everything up to date

    with open(clone / "src" / "helpers" / "barcodes" / "tables.py", "a") as fh:
        fh.write("# a comment: any edit to a module counts\n")
    after = plan()
    importers = {n for n, (s, why) in after.items() if s == "run" and not why.startswith("upstream")}
    assert importers == {"04_barcodes"}, after
    assert after["04_barcodes"][1] == "changed: helper code"
    assert after["05_integration"][1] == "upstream 04_barcodes will run"  # it reads 04's outputs, not the module
    assert all(after[n][0] == "skip" for n in names - {"04_barcodes", "05_integration"}), after

    with open(clone / "src" / "helpers" / "io.py", "a") as fh:  # a core module: every notebook imports it
        fh.write("# another comment\n")
    core_edit = plan()
    assert all(core_edit[n][0] == "run" for n in names)


def _negate(x: int) -> int:
    return -x


@pytest.mark.parametrize("jobs", [1, 2])
def test_map_tasks_keeps_the_order_of_its_items(jobs, monkeypatch):
    monkeypatch.delenv("DREAM_DASK_SCHEDULER", raising=False)
    assert map_tasks(_negate, range(7), jobs=jobs) == [0, -1, -2, -3, -4, -5, -6]
