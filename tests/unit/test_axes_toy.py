"""A fifth axis needs only a sub-package, a simulator module, a notebook and a registry entry.

In a copy of the compendium, a toy axis is added by new files alone (``helpers/toy/``, ``helpers/simulate/toy.py``,
``notebooks/06_toy.py``, ``helpers/data/axes.d/toy.yaml``); the simulator, ``helpers.check``, the cohort overview,
the integration tables (its features, its biomarker and direction) and the DAG planning then pick it up, with no edit
of any existing file (checked: every file of the copy but the new ones is byte-identical to the original).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import helpers

ROOT = Path(helpers.__file__).resolve().parents[2]

TOY_FILES = {
    "src/helpers/toy/__init__.py": '''
        """A toy axis: one stem-cell signal per sample (the recipe of CONTRIBUTING.md, in a test)."""
        ''',
    "src/helpers/toy/contract.py": '''
        """The toy axis's data contract: ``toy/measurements.csv`` with ``sample_id, stem_signal, toy_qc``."""

        from pathlib import Path

        import pandas as pd

        from ..errors import DataContractError


        def load_measurements(folder):
            path = Path(folder) / "measurements.csv"
            if not path.is_file():
                raise DataContractError(path, "missing file")
            t = pd.read_csv(path, dtype={"sample_id": str})
            bad = pd.to_numeric(t["stem_signal"], errors="coerce").isna()
            if bad.any():
                raise DataContractError(path, "expected a number", row=int(bad.to_numpy().argmax()) + 2,
                                        column="stem_signal")
            return t
        ''',
    "src/helpers/toy/features.py": '''
        """The toy axis's features for the integration and their dictionary."""

        import pandas as pd

        from ..axes import dictionary_spec
        from .contract import load_measurements


        def sample_features(folder, samples):
            t = load_measurements(folder)
            ids = samples[["sample_id", "patient_id", "timepoint"]]
            return ids.merge(t, on="sample_id")[["sample_id", "patient_id", "timepoint", "stem_signal", "toy_qc"]]


        def feature_dictionary():
            rows = [("sample_id", "", "samples.csv", "Sample identifier", "id", "", ""),
                    ("patient_id", "", "samples.csv", "Patient identifier", "id", "", ""),
                    ("timepoint", "", "samples.csv", "Timepoint", "id", "", ""),
                    ("stem_signal", "a.u.", "toy assay", "Stem-cell signal", "signal", "LSC17", "resistant"),
                    ("toy_qc", "0/1", "toy assay", "1 when the measurement passed QC", "qc", "", "")]
            return pd.DataFrame(rows, columns=list(dictionary_spec().columns))
        ''',
    "src/helpers/simulate/toy.py": '''
        """Simulator of the toy axis: a noisy read-out of each diagnosis sample's leukemic stem-cell fraction."""

        import numpy as np

        from ..assays import has_assay
        from ..io import write_table


        def simulate_toy(tables, out_dir, *, scale, seed):
            rng = np.random.default_rng([seed, 5])
            s = tables.samples[has_assay(tables.samples["assays"], "toy")][["sample_id"]]
            lsc = tables.sample_truth.set_index("sample_id").loc[s["sample_id"], "lsc_frac"].to_numpy()
            s = s.assign(stem_signal=np.round(10 * lsc + rng.normal(0, 0.1, len(s)), 4), toy_qc=1)
            write_table(s, out_dir / "toy" / "measurements.csv")
            write_table(s.assign(lsc_frac=lsc), out_dir / "truth" / "toy_truth.csv")
        ''',
    "src/helpers/data/axes.d/toy.yaml": '''
        toy:
          assay: toy
          notebook: 06_toy
          title: toy stem-cell assay
          contract: helpers.toy.contract:load_measurements
          simulator: helpers.simulate.toy:simulate_toy
          features: helpers.toy.features:sample_features
          dictionary: helpers.toy.features:feature_dictionary
          roles: [signal]
          simulated_timepoints: [diagnosis]
        ''',
    "notebooks/06_toy.py": '''
        # ---
        # jupyter:
        #   dream:
        #     inputs:
        #     - toy
        #     upstream: []
        #   jupytext:
        #     formats: py:percent
        #   kernelspec:
        #     display_name: Python 3 (ipykernel)
        #     language: python
        #     name: python3
        # ---

        # %% [markdown]
        # # 06 · Toy axis

        # %% tags=["parameters"]
        cohort = "ci"
        data_dir = "data/simulated/ci"
        output_dir = "results/ci/06_toy"
        figures_dir = "figures/ci/06_toy"
        upstream_dirs = {}
        seed = 20261129

        # %%
        from helpers import toy
        from helpers.clinical import load_samples
        from helpers.io import write_table
        from helpers.notebook import notebook_setup
        from helpers.paths import resolve

        nb = notebook_setup("06_toy", output_dir=output_dir, figures_dir=figures_dir)
        features = toy.features.sample_features(resolve(data_dir) / "toy", load_samples(resolve(data_dir)))
        write_table(features, nb.out / "features.csv")
        write_table(toy.features.feature_dictionary(), nb.out / "features_dictionary.csv")
        ''',
}

SCRIPT = r"""
import json
from pathlib import Path

import pandas as pd

import helpers
assert Path(helpers.__file__).resolve().is_relative_to(Path.cwd().resolve()), helpers.__file__  # the copy
from helpers import integration as it
from helpers.axes import axes, axis
from helpers.check import check_cohort
from helpers.clinical import load_cohort_tables
from helpers.cohort_summary import assay_availability
from helpers.io import write_table
from helpers.simulate import AXIS_SIMULATORS
from helpers.workflow import discover_notebooks, load_cohort, plan_runs

out = {}
cohort = Path("data/simulated/ci")
out["registry"] = [a.name for a in axes()]
out["simulators"] = list(AXIS_SIMULATORS)
clinical, samples = load_cohort_tables(cohort)
out["toy_samples"] = int(samples["assays"].str.contains("toy").sum())
out["diagnosis_samples"] = int((samples["timepoint"] == "diagnosis").sum())
out["measurements"] = len(pd.read_csv(cohort / "toy" / "measurements.csv"))
out["check"] = [str(p) for p in check_cohort(cohort)]
out["availability"] = assay_availability(samples).loc["diagnosis"].to_dict()

# The integration: the toy notebook's two files (built through the registry's entry points), then the tables.
toy = axis("toy")
up = Path("upstream") / toy.notebook
up.mkdir(parents=True)
write_table(toy.load_features()(cohort / "toy", samples), up / "features.csv")
write_table(toy.load_dictionary()(), up / "features_dictionary.csv")
feats, status = it.collect_features({toy.notebook: up})
out["status"] = status.set_index("axis")["status"].to_dict()
patients = it.assemble_patient_table(clinical, samples, feats)
out["status_toy"] = patients["status_toy"].value_counts().to_dict()
out["stem_signal_measured"] = int(patients["stem_signal"].notna().sum())
dic = it.combined_dictionary(feats)
cand = it.biomarker_candidates(dic, feats["toy"].features)
out["candidates"] = cand
out["markers"] = it.find_markers(patients, cand, dic).to_dict(orient="records")
truth = pd.read_csv(cohort / "truth" / "toy_truth.csv", dtype={"sample_id": str}).set_index("sample_id")
dx = samples[samples["timepoint"] == "diagnosis"].set_index("patient_id")["sample_id"]
lsc = truth.loc[dx.loc[patients["patient_id"]], "lsc_frac"].to_numpy()
out["signal_vs_truth"] = float(pd.Series(patients["stem_signal"].to_numpy()).corr(pd.Series(lsc)))

# The DAG: the toy notebook is planned for the cohort, and the integration reads its outputs.
plan = {p.spec.name: p for p in plan_runs(load_cohort("ci"), discover_notebooks())}
out["planned"] = {n: p.status for n, p in plan.items()}
out["integration_upstream"] = list(plan["05_integration"].spec.upstream)
out["integration_upstream_dirs"] = sorted(plan["05_integration"].parameters["upstream_dirs"])

# A broken toy file is named by dream-check through the contract of the registry entry.
bad = pd.read_csv(cohort / "toy" / "measurements.csv", dtype=str)
bad.loc[2, "stem_signal"] = "high"
bad.to_csv(cohort / "toy" / "measurements.csv", index=False)
out["check_bad"] = [str(p) for p in check_cohort(cohort)]
print(json.dumps(out, default=str))
"""


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}  # fmt: skip


def test_a_toy_fifth_axis_is_picked_up_everywhere_from_new_files_alone(tmp_path):
    clone = tmp_path / "clone"
    for part in ("src", "notebooks", "config"):
        shutil.copytree(ROOT / part, clone / part, ignore=shutil.ignore_patterns("__pycache__", "reference", "*.ipynb",
                                                                                "*.egg-info"))  # fmt: skip
    for f in ("pyproject.toml", "requirements.lock"):
        shutil.copyfile(ROOT / f, clone / f)
    before = _digests(clone)
    for rel, text in TOY_FILES.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(textwrap.dedent(text).lstrip("\n"))
    after = _digests(clone)
    assert {k: v for k, v in after.items() if k in before} == before  # no existing file was edited
    assert sorted(set(after) - set(before)) == sorted(TOY_FILES)
    env = dict(os.environ, PYTHONPATH=str(clone / "src"), DREAM_OUTPUT_ROOT=str(tmp_path / "scratch"))
    sim = subprocess.run([sys.executable, "-m", "helpers.simulate", "--scale", "ci", "--out", "data/simulated/ci",
                          "--axes", "toy", "--incremental"], cwd=clone, capture_output=True, text=True, env=env)
    assert sim.returncode == 0, sim.stderr[-3000:]
    (clone / "toy_check.py").write_text(SCRIPT)
    run = subprocess.run([sys.executable, "toy_check.py"], cwd=clone, capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.splitlines()[-1])

    assert out["registry"][-1] == "toy" and out["simulators"] == out["registry"]
    # The simulator planned the toy assay at every diagnosis and wrote one measurement per planned sample.
    assert out["toy_samples"] == out["diagnosis_samples"] == out["measurements"] == 120
    assert out["check"] == [] and out["availability"]["toy"] == 120
    assert out["status"]["toy"] == "loaded" and out["status"]["dst"] == "not run"
    assert out["status_toy"] == {"measured": 120} and out["stem_signal_measured"] == 120
    assert out["candidates"] == ["stem_signal"]  # toy_qc has the role qc
    assert out["markers"] == [{"biomarker": "LSC17", "feature": "stem_signal", "direction": "resistant",
                               "n_measured": 120}]  # fmt: skip
    assert out["signal_vs_truth"] > 0.9  # the features carry the simulated biology, not noise
    assert out["planned"]["06_toy"] == "run" and "06_toy" in out["integration_upstream"]
    assert "06_toy" in out["integration_upstream_dirs"]
    assert len(out["check_bad"]) == 1
    assert "measurements.csv (row 4, column 'stem_signal'): expected a number" in out["check_bad"][0]
