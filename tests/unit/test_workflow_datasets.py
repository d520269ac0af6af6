"""A notebook that reads a public dataset instead of a data folder runs only for a cohort that declares the dataset."""

from __future__ import annotations

import textwrap

from helpers.workflow import CohortConfig, discover_notebooks, load_cohort, plan_runs

HEADER = """\
# ---
# jupyter:
#   dream:
{meta}
#   jupytext:
#     formats: py:percent
# ---

# %% tags=["parameters"]
cohort = "ci"
data_dir = ""
output_dir = "results/ci/x"
figures_dir = "figures/ci/x"
seed = 1

# %%
print(cohort)
"""


def _notebook(folder, name, meta):
    (folder / f"{name}.py").write_text(HEADER.format(meta=textwrap.indent(meta, "#     ")))


def _lab_folder(path):
    path.mkdir()
    (path / "clinical.csv").write_text("patient_id\nP1\n")
    (path / "samples.csv").write_text("sample_id,patient_id,timepoint,assays\nS1,P1,diagnosis,dst\n")
    (path / "dst").mkdir()
    return path


def _status(cohort, specs, tmp_path, **kw):
    plan = plan_runs(cohort, specs, results_root=tmp_path / "results", figures_root=tmp_path / "figures",
                     private_root=tmp_path / "private", **kw)  # fmt: skip
    return {item.spec.name: (item.status, item.reason) for item in plan}


def test_a_dataset_notebook_is_never_picked_for_a_data_folder(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    _notebook(nbs, "01_folder", "inputs:\n- dst\nupstream: []")
    _notebook(nbs, "11_public", "datasets:\n- fimm_dss\ninputs: []\nupstream: []")
    specs = discover_notebooks(nbs)
    assert specs["11_public"].datasets == ("fimm_dss",) and specs["01_folder"].datasets == ()
    lab = _lab_folder(tmp_path / "lab")
    # A data folder (no explicit list): the folder notebook runs, the public one does not, though its inputs ([])
    # are all present.
    st = _status(CohortConfig(name="lab", data_dir=lab), specs, tmp_path)
    assert st["01_folder"][0] == "run"
    assert st["11_public"][0] == "n/a" and "fimm_dss" in st["11_public"][1]
    # A cohort that declares the dataset runs it; without a data folder the folder notebook lacks its inputs.
    st = _status(CohortConfig(name="pub", data_dir=None, datasets=["fimm_dss"]), specs, tmp_path)
    assert st["11_public"][0] == "run" and st["01_folder"][0] == "n/a"
    # Listing the notebook is not enough: the cohort must also declare the dataset it reads.
    st = _status(CohortConfig(name="listed", data_dir=lab, notebooks=["11_public"]), specs, tmp_path)
    assert st["11_public"][0] == "n/a" and "does not declare" in st["11_public"][1]


def test_the_beataml_notebook_runs_only_for_the_beataml_cohort(tmp_path):
    specs = discover_notebooks()
    assert specs["11_dst_beataml"].datasets == ("beataml2",)
    assert all(not s.datasets for n, s in specs.items() if n != "11_dst_beataml" and "beataml" not in n
               and "aml027" not in n)  # fmt: skip
    for cohort in (load_cohort("ci"), load_cohort("demo"), CohortConfig(name="lab", data_dir=_lab_folder(tmp_path / "lab"))):
        st = _status(cohort, specs, tmp_path, only=["11_dst_beataml"])
        assert st["11_dst_beataml"][0] == "n/a", (cohort.name, st["11_dst_beataml"])
    beataml = load_cohort("beataml")
    assert "11_dst_beataml" in beataml.notebooks and "01_dst" not in beataml.notebooks
    st = _status(beataml, specs, tmp_path, only=["11_dst_beataml"])
    assert st["11_dst_beataml"][0] == "run", st["11_dst_beataml"]
    assert st["01_dst"][0] == "n/a"
    # The cohort files name no mode switch any more: one notebook per analysis.
    for name in ("beataml", "aml027", "ci", "demo"):
        assert "mode" not in (load_cohort(name).parameters.get("all") or {}), name
