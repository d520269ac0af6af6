"""Command-line conventions: console scripts, --version everywhere, '-' is stdout, truthful run_all logging.

This file holds the unit tests (the unit tier); the tests that execute notebooks are in
``tests/pipeline/test_conventions_pipeline.py``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from helpers.check import dream_check
from helpers.cli import open_output, version_string
from helpers.io import write_table
from helpers.paths import repo_root

ROOT = repo_root()
BIN = Path(sys.executable).parent
VERSION = version_string().split()[1]


@pytest.mark.parametrize("script", ["dream-run", "dream-dst", "dream-cytometry", "dream-scrna", "dream-barcodes",
                                    "dream-check"])  # fmt: skip
def test_console_scripts_answer_version_and_help(script):
    v = subprocess.run([str(BIN / script), "--version"], cwd=ROOT, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip() == f"{script} {VERSION}"
    h = subprocess.run([str(BIN / script), "--help"], cwd=ROOT, capture_output=True, text=True)
    assert h.returncode == 0 and h.stdout.startswith("usage:"), h.stderr[-2000:]


@pytest.mark.parametrize("module", ["helpers.dst", "helpers.cytometry", "helpers.scrna", "helpers.barcodes",
                                    "helpers.simulate", "helpers.registry"])  # fmt: skip
def test_python_m_entry_points_have_version(module):
    v = subprocess.run([sys.executable, "-m", module, "--version"], cwd=ROOT, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip().endswith(VERSION), v.stderr[-2000:]


def test_run_all_version():
    v = subprocess.run([sys.executable, "run_all.py", "--version"], cwd=ROOT, capture_output=True, text=True)
    assert v.returncode == 0 and v.stdout.strip() == f"run_all.py {VERSION}"


def test_dash_is_stdout(capsys, tmp_path):
    df = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.25]})
    assert write_table(df, "-") == Path("-")
    assert capsys.readouterr().out == "a,b\n1,0.5\n2,1.25\n"
    assert not Path("-").exists()
    with open_output("-") as fh:
        fh.write("x\n")
    assert capsys.readouterr().out == "x\n"
    with open_output(tmp_path / "sub" / "t.txt") as fh:
        fh.write("y\n")
    assert (tmp_path / "sub" / "t.txt").read_text() == "y\n"


def test_dst_fit_writes_its_table_to_stdout(tmp_path):
    pts = pd.DataFrame({"sample": "S1", "drug": "Venetoclax", "conc_uM": [0.01, 0.1, 1, 10] * 2,
                        "viability_pct": [98, 90, 40, 8, 101, 88, 45, 10]})  # fmt: skip
    pts.to_csv(tmp_path / "pts.csv", index=False)
    out = subprocess.run([str(BIN / "dream-dst"), "fit", "--input", str(tmp_path / "pts.csv"), "--model", "probit",
                          "--output", "-"], cwd=tmp_path, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("sample,drug,auc,ic50_uM") and len(out.stdout.splitlines()) == 2
    assert not (tmp_path / "-").exists()


def test_dream_check_reports_each_axis(ci_cohort, capsys, tmp_path):
    assert dream_check([str(ci_cohort)]) == 0
    out = capsys.readouterr().out
    for axis in ("clinical", "dst", "cytometry", "scrna", "barcodes"):
        assert f"{axis}: ok" in out
    broken = tmp_path / "cohort"
    broken.mkdir()
    (broken / "clinical.csv").write_text((ci_cohort / "clinical.csv").read_text().replace("\n", "\nbroken\n", 1))
    (broken / "samples.csv").write_text((ci_cohort / "samples.csv").read_text())
    assert dream_check([str(broken)]) == 2
    assert "clinical: error:" in capsys.readouterr().out


HEAVY = ("pandas", "scipy", "numpy", "matplotlib", "flowkit", "numba", "anndata", "scanpy", "sklearn", "rapidfuzz",
         "lifelines", "statsmodels")  # fmt: skip


@pytest.mark.parametrize("module", ["helpers.dst.__main__", "helpers.cytometry.__main__", "helpers.scrna.__main__",
                                    "helpers.barcodes.__main__", "helpers.integration.__main__",
                                    "helpers.simulate.__main__", "helpers.registry", "helpers.cli"])  # fmt: skip
def test_command_line_modules_import_no_heavy_library(module):
    # What `python -m <package> --help` imports: the package __init__ and its __main__ (timing-independent).
    code = (f"import sys, {module} as m; m.build_parser() if hasattr(m, 'build_parser') else None; "
            f"print(','.join(x for x in {HEAVY + ('importlib.metadata',)!r} if x in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "", f"{module} imports {out.stdout.strip()} at start-up"


@pytest.mark.parametrize("axis", ["dst", "cytometry", "scrna", "barcodes", "integration"])
def test_lazy_package_exports_resolve(axis):
    import importlib

    pkg = importlib.import_module(f"helpers.{axis}")
    missing = [n for n in pkg.__all__ if getattr(pkg, n, None) is None]
    assert not missing, missing
    assert set(pkg.__all__) <= set(dir(pkg))
    ns: dict = {}
    exec(f"from helpers.{axis} import *", ns)  # noqa: S102 - the star import honours __all__
    assert set(pkg.__all__) <= set(ns)
    with pytest.raises(AttributeError):
        pkg.no_such_name  # noqa: B018


def test_barcodes_parser_cluster_methods_are_the_library_s():
    from helpers.barcodes.__main__ import CLUSTER_METHODS
    from helpers.barcodes.correct import CLUSTER_METHODS as LIBRARY

    assert CLUSTER_METHODS == LIBRARY


def _plot_functions():
    """Every public function of src/helpers that creates a figure or axes (by its source), with its module."""
    import ast
    import importlib

    found = []
    for path in sorted((ROOT / "src" / "helpers").rglob("*.py")):
        rel = path.relative_to(ROOT / "src").with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        if module == "helpers.plotting":
            continue
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
                continue
            calls = {ast.unparse(c.func) for c in ast.walk(node) if isinstance(c, ast.Call)}
            if calls & {"plt.subplots", "plt.figure", "axes_or_new", "fig.add_axes"}:
                found.append((module, node.name, getattr(importlib.import_module(module), node.name)))
    return found


def test_every_plot_function_takes_ax_or_is_a_documented_multi_panel_one():
    import inspect

    from helpers.plotting import MULTI_PANEL

    funcs = _plot_functions()
    assert len(funcs) >= 30, [f"{m}.{n}" for m, n, _ in funcs]
    bad = []
    for module, name, fn in funcs:
        params = inspect.signature(fn).parameters
        qual = f"{module}.{name}"
        if qual in MULTI_PANEL:
            keys = [k for k in ("axes", "fig") if k in params]
            if not keys or params[keys[0]].kind is not inspect.Parameter.KEYWORD_ONLY:
                bad.append(f"{qual}: multi-panel without keyword axes=/fig=")
            continue
        ax = params.get("ax")
        if ax is None or ax.kind is not inspect.Parameter.KEYWORD_ONLY or ax.default is not None:
            bad.append(f"{qual}: no keyword-only ax=None")
        elif "Axes" not in str(inspect.signature(fn).return_annotation):
            bad.append(f"{qual}: does not say it returns the Axes")
    assert not bad, bad
    listed = {f"{m}.{n}" for m, n, _ in funcs}
    assert set(MULTI_PANEL) <= listed, set(MULTI_PANEL) - listed


def test_no_notebook_cell_ends_by_showing_a_written_path():
    # A cell whose last line is a bare call to a writer shows the returned Path in the executed notebook and its HTML:
    # a machine path (and, for a lab's folder, its name) in a shareable output.
    import ast
    import re

    writers = {"write_table", "write_text", "save_figure", "write_table_one", "write_h5ad", "to_csv"}
    bad = []
    for nb in sorted((ROOT / "notebooks").glob("[0-9]*.py")):
        for i, cell in enumerate(re.split(r"^# %%.*$", nb.read_text(), flags=re.M)):
            try:
                body = ast.parse(cell).body
            except SyntaxError:
                continue
            last = body[-1] if body else None
            if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call):
                f = last.value.func
                if (f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")) in writers:
                    bad.append(f"{nb.name} cell {i}")
    assert not bad, bad
