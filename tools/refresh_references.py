"""Re-execute the nbval reference notebooks on the CI-scale simulated cohort (after an intended change).

    make references            # all notebooks, all reference cohorts
    python tools/refresh_references.py 01_dst 05_integration
    python tools/refresh_references.py --cohort beataml

The executed notebooks are written to notebooks/reference/ for the CI cohort and notebooks/reference/<cohort>/ for
the public cohorts (beataml, aml027): the only .ipynb files in git. The small tables each notebook writes go to
notebooks/reference/tables/<cohort>/<notebook>/, the numeric references that `make test` compares by value with a
stated tolerance (helpers.regression). `make test` re-executes the notebooks with nbval and compares every output,
so commit them only after reviewing the diff of what changed. Volatile metadata (timings, absolute paths) is stripped.
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import jupytext  # noqa: E402
import nbformat  # noqa: E402
import papermill as pm  # noqa: E402

from helpers.paths import OUTPUT_ROOT_ENV, resolve  # noqa: E402
from helpers.regression import copy_reference_tables  # noqa: E402
from helpers.simulate import ensure_cohort  # noqa: E402
from helpers.workflow import discover_notebooks, encrypted_kernel_manager, load_cohort, plan_runs  # noqa: E402

REFERENCE_DIR = ROOT / "notebooks" / "reference"
TABLES_DIR = REFERENCE_DIR / "tables"


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove papermill's timings and absolute paths so that a reference only changes when its content does."""
    nb.metadata.pop("papermill", None)
    nb.metadata.pop("widgets", None)
    # The repository and, when the notebooks ran into a scratch folder, $DREAM_OUTPUT_ROOT (longest first).
    roots = sorted({str(ROOT), *([str(Path(os.environ[OUTPUT_ROOT_ENV]).resolve()), os.environ[OUTPUT_ROOT_ENV]]
                                 if os.environ.get(OUTPUT_ROOT_ENV) else [])}, key=len, reverse=True)

    def unroot(text: str) -> str:
        for r in roots:
            text = text.replace(r, "<ROOT>")
        return text

    for i, cell in enumerate(nb.cells):
        # Cell ids are random per conversion; derive them from position and source so unchanged cells diff clean.
        cell["id"] = hashlib.sha1(f"{i}\n{cell.source}".encode()).hexdigest()[:8]
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        for out in cell.get("outputs", []):  # no machine paths in git (nbval's sanitizer maps both sides alike)
            if "text" in out:
                out["text"] = unroot(out["text"])
            for key, value in out.get("data", {}).items():
                if key.startswith("text/") and isinstance(value, str):
                    out["data"][key] = unroot(value)
            # Figures are shown inline (executed records under results/ keep them); nbval ignores image payloads, so
            # the references keep the display (its text) without the PNG, and git does not grow with every refresh.
            for key in [k for k in out.get("data", {}) if k.startswith("image/")]:
                del out["data"][key]
    return nb


REFERENCE_COHORTS = ("ci", "beataml", "aml027")


def refresh(cohort_name: str, names: list[str]) -> None:
    cohort = load_cohort(cohort_name)
    if cohort.simulate:
        sim = cohort.simulate
        ensure_cohort(cohort.data_dir, scale=sim["scale"], seed=int(sim["seed"]), progress=True)
    target = REFERENCE_DIR if cohort_name == "ci" else REFERENCE_DIR / cohort_name
    target.mkdir(parents=True, exist_ok=True)
    for item in plan_runs(cohort, discover_notebooks(), force=True):
        name = item.spec.name
        if item.status != "run" or (names and name not in names):
            continue
        print(f"[references] {cohort_name}/{name}", flush=True)
        src = target / f".{name}.src.ipynb"
        nbformat.write(jupytext.read(item.spec.path), src)
        out = target / f"{name}.ipynb"
        try:
            pm.execute_notebook(str(src), str(out), parameters=item.parameters, cwd=str(ROOT), kernel_name="python3",
                                progress_bar=False, kernel_manager_class=encrypted_kernel_manager(),
                                iopub_timeout=300, raise_on_iopub_timeout=True)  # no output lost under load
        finally:
            src.unlink(missing_ok=True)
        nbformat.write(strip_volatile(nbformat.read(out, as_version=4)), out)
        tables = copy_reference_tables(resolve(item.parameters["output_dir"]), TABLES_DIR / cohort_name / name)
        print(f"[references] {cohort_name}/{name}: {len(tables)} reference tables", flush=True)


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*", help="notebooks (default: all)")
    ap.add_argument("--cohort", action="append", choices=REFERENCE_COHORTS, help="default: all reference cohorts")
    a = ap.parse_args(argv)
    for c in a.cohort or REFERENCE_COHORTS:
        refresh(c, a.names)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
