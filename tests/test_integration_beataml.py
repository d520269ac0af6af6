"""Integration on BeatAML 2.0 (public data): the published ex vivo venetoclax biology and ELN 2024 from its calls.

Oracles: the medians quoted in the literature (VEN AUC about 65 in FAB M0/M1 and 200 in M4/M5; Kuusanmaki et al.
2020, Zhang et al. 2020) and the mutation-drug associations that the dataset's own explorer published in
drugs.json (``assoc``: median AUC of mutated and wild-type patients).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers.integration import beataml as bm
from helpers.registry import dataset_path

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def ba(public_data):
    return bm.load_beataml()


@pytest.fixture(scope="module")
def published_assoc(public_data):
    with open(dataset_path("beataml2", "drugs.json")) as fh:
        d = json.load(fh)
    return {a["marker"]: a for a in d["assoc"] if a["drug"] == "Venetoclax"}


def test_patient_table(ba):
    assert len(ba) == 805 and ba["patient_id"].is_unique
    assert ba["ven_auc"].notna().sum() == 390  # data/README: Venetoclax in 390 patients
    assert ba["TP53"].notna().sum() == 756  # patients with exome calls
    assert ba.set_index("patient_id").loc["2014", "ven_auc"] == pytest.approx(219.8)  # README example
    assert set(ba["fab_group"].dropna()) == {"M0/M1", "M4/M5", "other"}


def test_monocytic_leukemia_resists_venetoclax(ba):
    fab = bm.ven_by_fab(ba).set_index("group")
    assert fab.loc["M0/M1", "median_auc"] == pytest.approx(65, abs=15)
    assert fab.loc["M4/M5", "median_auc"] == pytest.approx(200, abs=20)
    assert fab.loc["M4/M5", "p_vs_m0m1"] < 1e-8
    assert fab.loc["M0/M1", "n"] >= 50 and fab.loc["M4/M5", "n"] >= 50


def test_mutation_effects_on_venetoclax(ba, published_assoc):
    mut = bm.ven_by_mutation(ba, ["KRAS", "PTPN11", "NPM1", "IDH1", "TP53"]).set_index("gene")
    for g in ("KRAS", "PTPN11"):
        assert mut.loc[g, "direction"] == "resistant" and mut.loc[g, "p"] < 0.05, g
    for g in ("NPM1", "IDH1"):
        assert mut.loc[g, "direction"] == "sensitive" and mut.loc[g, "p"] < 0.05, g
    assert mut.loc["KRAS", "q"] < 0.01
    # Same medians as the explorer's published associations (exome calls; one index specimen per patient).
    for g in ("KRAS", "PTPN11", "NPM1", "IDH1"):
        pub = published_assoc[g]
        assert mut.loc[g, "median_mut"] == pytest.approx(pub["medPos"], abs=1.0), g
        assert mut.loc[g, "median_wt"] == pytest.approx(pub["medNeg"], abs=1.0), g
        assert mut.loc[g, "n_mut"] == pub["nPos"], g


def test_eln2024_classes_from_calls(ba):
    e = ba["eln2024"].astype(str)
    known = ba["eln2024"].notna()
    tp53 = ba["TP53"] == 1
    assert (e[tp53] == "adverse").all() and (e[known & ~tp53] != "adverse").all()
    sig = (ba["FLT3_ITD"] == 1) | (ba["NRAS"] == 1) | (ba["KRAS"] == 1)
    rescue = (ba["IDH1"] == 1) | (ba["DDX41"] == 1)
    assert (e[known & ~tp53 & sig & ~rescue] == "intermediate").all()
    assert (e[known & ~tp53 & ~sig] == "favorable").all()
    assert (e[known & ~tp53 & (ba["IDH1"] == 1)] == "favorable").all()
    # Every class occurs, and the calls cover nearly every sequenced patient.
    frac = e[known].value_counts(normalize=True)
    assert set(frac.index) == {"favorable", "intermediate", "adverse"}
    assert 0.3 < frac["favorable"] < 0.7 and 0.05 < frac["adverse"] < 0.2
    assert known.sum() >= 0.95 * ba["TP53"].notna().sum()
    # Published ELN 2017 adverse (which needs cytogenetics too) holds most of the TP53-mutated patients.
    assert (ba.loc[tp53, "eln2017"] == "Adverse").mean() > 0.6


def test_fab_group_mapping():
    import pandas as pd

    s = pd.Series(["M5a", "M4eo", "M0/M1", "M2", None, "NOS"])
    out = bm.fab_group(s)
    assert out.iloc[:4].tolist() == ["M4/M5", "M4/M5", "M0/M1", "other"]
    assert out.iloc[4:].isna().all()


def test_unknown_drug_is_an_error(public_data):
    with pytest.raises(KeyError, match="not in BeatAML"):
        bm.drug_auc("Not-a-drug")
    assert np.isfinite(bm.drug_auc("Azacytidine")).all()


@pytest.mark.slow
def test_notebook_runs_on_beataml(public_data, tmp_path):
    import jupytext
    import nbformat
    import pandas as pd
    import papermill as pm

    from helpers.paths import repo_root

    nb = jupytext.read(repo_root() / "notebooks" / "05_integration.py")
    nbformat.write(nb, tmp_path / "in.ipynb")
    out, figs = tmp_path / "out", tmp_path / "figs"
    pm.execute_notebook(str(tmp_path / "in.ipynb"), str(tmp_path / "done.ipynb"), cwd=str(repo_root()),
                        progress_bar=False, kernel_name="python3",
                        parameters={"mode": "beataml", "cohort": "beataml", "data_dir": "", "upstream_dirs": {},
                                    "output_dir": str(out), "figures_dir": str(figs)})  # fmt: skip
    fab = pd.read_csv(out / "beataml_ven_by_fab.csv").set_index("group")
    assert fab.loc["M4/M5", "median_auc"] > 2 * fab.loc["M0/M1", "median_auc"]
    index = pd.read_csv(out / "figure_index.csv")
    for stem in index["figure"]:
        assert (figs / f"{stem}.pdf").is_file() and (figs / f"{stem}.png").is_file()
    dic = pd.read_csv(out / "beataml_data_dictionary.csv")
    assert (dic["source"] != "unknown").all()
    assert {"table1_beataml.csv", "table1_beataml.html", "table1_beataml.tex"} <= {p.name for p in out.iterdir()}
