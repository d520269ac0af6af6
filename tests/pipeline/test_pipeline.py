"""run_all's DAG runner on small throw-away notebooks: incremental, atomic on failure, reproducible, scale-out."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers.paths import repo_root
from helpers.workflow import CohortConfig, discover_notebooks, run_pipeline

pytestmark = pytest.mark.xdist_group("pipeline")

HEADER = """# ---
# jupyter:
#   kernelspec: {{display_name: Python 3, language: python, name: python3}}
#   dream:
#     inputs: {inputs}
#     upstream: {upstream}
# ---
"""
PARAMS = """
# %% tags=["parameters"]
cohort = "t"
data_dir = ""
output_dir = "out"
figures_dir = "figs"
seed = 1
n = 4
fail = False
"""


def _nb(path: Path, body: str, *, inputs="[]", upstream="[]", extra_params="") -> None:
    path.write_text(HEADER.format(inputs=inputs, upstream=upstream) + PARAMS + extra_params + "\n# %%\n" + textwrap.dedent(body))


@pytest.fixture
def project(tmp_path):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    data = tmp_path / "data"
    (data / "assay").mkdir(parents=True)
    (data / "clinical.csv").write_text("patient_id\nP1\n")
    (data / "assay" / "x.txt").write_text("1\n")
    writer = """
        import numpy as np, pandas as pd
        from helpers.io import write_table
        from helpers.paths import resolve
        if fail:
            raise RuntimeError("planted failure")
        rng = np.random.default_rng(seed)
        write_table(pd.DataFrame({"x": rng.normal(size=n)}), resolve(output_dir) / "{name}.csv")
        (resolve(figures_dir) / "{name}.txt").write_text("figure")
        print("rows", n)
    """
    _nb(nbdir / "01_a.py", writer.replace("{name}", "a"), inputs="[assay]")
    _nb(nbdir / "02_b.py", writer.replace("{name}", "b"))
    _nb(
        nbdir / "03_c.py",
        """
        import pandas as pd
        from helpers.io import write_table
        from helpers.paths import resolve
        a = pd.read_csv(resolve(upstream_dirs["01_a"]) / "a.csv")
        b = pd.read_csv(resolve(upstream_dirs["02_b"]) / "b.csv")
        write_table(pd.DataFrame({"s": [a.x.sum() + b.x.sum()]}), resolve(output_dir) / "c.csv")
        """,
        upstream="[01_a, 02_b]",
        extra_params="upstream_dirs = {}\n",
    )
    cohort = CohortConfig(name="t", data_dir=data)

    def run(root: str = "r1", **kw):
        logs: list[str] = []
        code = run_pipeline(
            cohort,
            notebook_dir=nbdir,
            results_root=tmp_path / root / "results",
            figures_root=tmp_path / root / "figures",
            private_root=tmp_path / root / "private",
            log=logs.append,
            **kw,
        )
        manifest = json.loads((tmp_path / root / "results" / "t" / "manifest.json").read_text())
        return code, logs, manifest

    return tmp_path, run


def _status(logs: list[str]) -> dict[str, str]:
    out = {}
    for line in logs:
        parts = line.split()
        if len(parts) >= 3 and parts[1] in ("01_a", "02_b", "03_c") and parts[2] in ("run", "skip", "n/a"):
            out[parts[1]] = parts[2]
    return out


def test_runs_dag_then_skips_unchanged_and_reruns_what_changed(project):
    tmp, run = project
    code, logs, manifest = run(jobs=2)
    assert code == 0, logs
    res = tmp / "r1" / "results" / "t"
    assert (res / "03_c" / "c.csv").is_file() and (res / "03_c" / "03_c.ipynb").is_file()
    assert (tmp / "r1" / "figures" / "t" / "01_a" / "a.txt").is_file()
    assert (res / "index.html").is_file() and "03_c.html" in (res / "index.html").read_text()
    assert set(manifest["notebooks"]) == {"01_a", "02_b", "03_c"}
    assert manifest["versions"]["python"].startswith("3.12") and "papermill" in manifest["versions"]
    assert all(nb["status"] == "ok" for nb in manifest["notebooks"].values())
    assert "a.csv" in manifest["notebooks"]["01_a"]["outputs"]

    code, logs, _ = run()
    assert code == 0 and _status(logs) == {"01_a": "skip", "02_b": "skip", "03_c": "skip"}

    code, logs, _ = run(overrides={"01_a.n": 6})  # a parameter change reruns a and its downstream only
    assert code == 0 and _status(logs) == {"01_a": "run", "02_b": "skip", "03_c": "run"}
    code, logs, _ = run(overrides={"01_a.n": 6})
    assert _status(logs) == {"01_a": "skip", "02_b": "skip", "03_c": "skip"}

    (tmp / "data" / "assay" / "x.txt").write_text("2\n")  # an input file change reruns its reader
    code, logs, _ = run(overrides={"01_a.n": 6})
    assert _status(logs) == {"01_a": "run", "02_b": "skip", "03_c": "run"}


def test_failure_keeps_last_good_outputs_and_is_reported(project):
    tmp, run = project
    assert run()[0] == 0
    b_csv = tmp / "r1" / "results" / "t" / "02_b" / "b.csv"
    before = b_csv.read_bytes()
    code, logs, manifest = run(overrides={"02_b.fail": True, "02_b.n": 9})
    assert code == 1
    assert b_csv.read_bytes() == before, "a failed run must not touch the last good outputs"
    summary = "\n".join(logs[logs.index("[run_all] failures:"):])
    assert "02_b" in summary and "cell" in summary and "RuntimeError: planted failure" in summary
    assert manifest["notebooks"]["02_b"]["status"] == "failed"
    assert manifest["notebooks"]["03_c"]["status"] == "skipped"  # downstream of a failure does not run
    assert manifest["notebooks"]["01_a"]["status"] == "ok"  # the others still run or stay valid
    assert not list((tmp / "r1" / "results" / "t").glob(".staging/*"))


def test_two_runs_from_scratch_give_identical_tables(project):
    tmp, run = project
    assert run("x")[0] == 0 and run("y")[0] == 0
    tables = sorted((tmp / "x" / "results").rglob("*.csv"))
    assert len(tables) == 3
    for f in tables:
        twin = tmp / "y" / f.relative_to(tmp / "x")
        assert f.read_bytes() == twin.read_bytes(), f


def test_downstream_of_a_rerun_is_skipped_when_the_upstream_outputs_come_out_unchanged(project):
    tmp, run = project
    assert run()[0] == 0
    c_nb = tmp / "r1" / "results" / "t" / "03_c" / "03_c.ipynb"
    before = c_nb.stat().st_mtime_ns
    (tmp / "data" / "assay" / "x.txt").write_text("2\n")  # 01_a reads the folder but its table does not change
    code, logs, manifest = run()
    assert code == 0, logs
    assert _status(logs) == {"01_a": "run", "02_b": "skip", "03_c": "run"}  # the plan cannot know yet
    assert "[run_all] 01_a: ok" in " ".join(logs)
    assert "[run_all] 03_c: up to date, upstream outputs unchanged" in logs
    assert c_nb.stat().st_mtime_ns == before and manifest["notebooks"]["03_c"]["skipped_last_run"]
    code, logs, _ = run()
    assert _status(logs) == {"01_a": "skip", "02_b": "skip", "03_c": "skip"}


def test_dask_local_cluster_runs_the_same_dag(project):
    tmp, run = project
    # A notebook fans work out to the run's cluster (helpers.workflow.map_tasks reads $DREAM_DASK_SCHEDULER).
    _nb(tmp / "notebooks" / "04_d.py", """
        import os, operator
        import pandas as pd
        from helpers.io import write_table
        from helpers.paths import resolve
        from helpers.workflow import map_tasks
        values = map_tasks(operator.neg, range(n))
        on = "dask" if os.environ.get("DREAM_DASK_SCHEDULER", "").startswith("tcp://") else "local"
        write_table(pd.DataFrame({"v": values, "on": on}), resolve(output_dir) / "d.csv")
        """)
    code, logs, manifest = run("dask", local_cluster=2)
    assert code == 0, logs
    assert any("dask.distributed" in line for line in logs)
    assert (tmp / "dask" / "results" / "t" / "03_c" / "c.csv").is_file()
    d = (tmp / "dask" / "results" / "t" / "04_d" / "d.csv").read_text().splitlines()
    assert d == ["v,on", "0,dask", "-1,dask", "-2,dask", "-3,dask"]


def test_cohort_without_an_input_skips_its_notebooks(project):
    tmp, run = project
    import shutil

    shutil.rmtree(tmp / "data" / "assay")
    code, logs, _ = run("noassay")
    st = _status(logs)
    assert st["01_a"] == "n/a" and st["02_b"] == "run" and st["03_c"] == "run"
    # the integration-like notebook runs with the upstream it has (upstream_dirs lacks 01_a) and fails clearly
    assert code == 1


def test_repository_notebooks_follow_the_contract():
    specs = discover_notebooks()
    assert "00_cohort" in specs
    for spec in specs.values():
        for key in ("cohort", "data_dir", "output_dir", "figures_dir", "seed"):
            assert key in spec.defaults, f"{spec.path.name}: parameters cell lacks {key}"
        if spec.upstream:
            assert "upstream_dirs" in spec.defaults, f"{spec.path.name}: has upstream but no upstream_dirs"


def test_command_line_help_and_list():
    root = repo_root()
    out = subprocess.run([sys.executable, "run_all.py", "--help"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0
    for opt in ("--cohort", "--only", "--jobs", "--force", "--dry-run", "--list", "--scheduler", "--local-cluster"):
        assert opt in out.stdout
    bad = subprocess.run([sys.executable, "run_all.py", "--cohort", "nonexistent_cohort", "--list"], cwd=root,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown cohort" in bad.stderr
    bad = subprocess.run([sys.executable, "run_all.py", "--cohort", "ci", "--list", "-p", "no_such_param=1"], cwd=root,
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no_such_param" in bad.stderr
