"""Re-execute the nbval reference notebooks on the CI-scale simulated cohort (after an intended change).

    make references            # all notebooks
    python tools/refresh_references.py 01_dst 05_integration

The executed notebooks are written to notebooks/reference/ (the only .ipynb files in git). `make test` re-executes
them with nbval and compares every output, so commit them only after reviewing the diff of what changed.
Volatile metadata (timings, absolute paths) is stripped.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import jupytext  # noqa: E402
import nbformat  # noqa: E402
import papermill as pm  # noqa: E402

from helpers.pipeline import discover_notebooks, load_cohort, plan_runs  # noqa: E402
from helpers.simulate import ensure_cohort  # noqa: E402

REFERENCE_DIR = ROOT / "notebooks" / "reference"


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove papermill's timings and absolute paths so that a reference only changes when its content does."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    root = str(ROOT)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):  # no machine paths in git (nbval's sanitizer maps both sides alike)
            if "text" in out:
                out["text"] = out["text"].replace(root, "<ROOT>")
            for key, value in out.get("data", {}).items():
                if key.startswith("text/") and isinstance(value, str):
                    out["data"][key] = value.replace(root, "<ROOT>")
    return nb


def main(names: list[str]) -> int:
    cohort = load_cohort("ci")
    ensure_cohort(cohort.data_dir, scale=cohort.simulate["scale"], seed=int(cohort.simulate["seed"]), progress=True)
    specs = discover_notebooks()
    plan = plan_runs(cohort, specs, force=True)
    REFERENCE_DIR.mkdir(parents=True, exist_ok=True)
    for item in plan:
        name = item.spec.name
        if item.status != "run" or (names and name not in names):
            continue
        print(f"[references] {name}", flush=True)
        src = REFERENCE_DIR / f".{name}.src.ipynb"
        nbformat.write(jupytext.read(item.spec.path), src)
        out = REFERENCE_DIR / f"{name}.ipynb"
        try:
            pm.execute_notebook(str(src), str(out), parameters=item.parameters, cwd=str(ROOT), kernel_name="python3",
                                progress_bar=False)
        finally:
            src.unlink(missing_ok=True)
        nbformat.write(strip_volatile(nbformat.read(out, as_version=4)), out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
