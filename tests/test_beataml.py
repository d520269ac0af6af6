"""The shared BeatAML 2.0 loader: patient table, published ex vivo venetoclax biology and ELN 2024 from its calls.

Oracles on the public data: the medians quoted in the literature (VEN AUC about 65 in FAB M0/M1 and 200 in M4/M5;
Kuusanmaki et al. 2020, Zhang et al. 2020) and the mutation-drug associations that the dataset's own explorer
published in drugs.json (``assoc``: median AUC of mutated and wild-type patients). The FAB and mutation rules and the
errors on malformed files are checked on small synthetic inputs.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import beataml as bm
from helpers.clinical import eln2024_rules
from helpers.dst import beataml as dst_beataml
from helpers.errors import DataContractError
from helpers.registry import dataset_path

shared_data = pytest.mark.shared_data


@pytest.fixture(scope="module")
def ba(public_data):
    return bm.load_beataml()


@pytest.fixture(scope="module")
def raw(public_data):
    coh = bm.read_json("cohort.json")
    return pd.DataFrame(coh["patients"]), pd.DataFrame(bm.read_json("mutations.json")), set(map(str, coh["sequenced"]))


@pytest.fixture(scope="module")
def published_assoc(public_data):
    with open(dataset_path("beataml2", "drugs.json")) as fh:
        d = json.load(fh)
    return {a["marker"]: a for a in d["assoc"] if a["drug"] == "Venetoclax"}


@shared_data
def test_patient_table(ba):
    assert len(ba) == 805 and ba["patient_id"].is_unique
    assert ba["ven_auc"].notna().sum() == 390  # data/README: Venetoclax in 390 patients
    assert ba["TP53"].notna().sum() == 756  # patients with exome calls
    assert ba.set_index("patient_id").loc["2014", "ven_auc"] == pytest.approx(219.8)  # README example
    assert set(ba["fab_group"].dropna()) == {"M0/M1", "M4/M5", "other"}
    assert ba["fab_group"].notna().sum() == 805 - 412 - 11  # FAB missing in 412 patients, NOS in 11
    assert (ba.loc[ba["fab"].isin(["M5a", "M5b", "M4eo"]), "fab_group"] == "M4/M5").all()


@shared_data
def test_mutation_flags_follow_the_rules(ba, raw):
    patients, muts, sequenced = raw
    t = ba.set_index("patient_id")
    pid = patients["id"].astype(str)
    wes_npm1 = set(muts.loc[muts["g"] == "NPM1", "p"].astype(str))
    clin_npm1 = set(pid[patients["npm1c"].eq(True)])
    assert set(t.index[t["NPM1"] == 1]) == wes_npm1 | clin_npm1
    # Known when either the exome or the clinical assay was done.
    known = (pid.isin(sequenced) | patients["npm1c"].notna()).to_numpy()
    assert (t["NPM1"].notna().to_numpy() == known).all()
    itd = patients["flt3itd"].map({True: 1.0, False: 0.0}).to_numpy()
    has = ~np.isnan(itd)
    assert np.array_equal(t["FLT3_ITD"].to_numpy()[has], itd[has])
    # Genes without a clinical assay: exome only, missing for the unsequenced.
    assert set(t.index[t["KRAS"].notna()]) == sequenced & set(t.index)
    assert set(t.index[t["KRAS"] == 1]) == set(muts.loc[muts["g"] == "KRAS", "p"].astype(str))


@shared_data
def test_monocytic_leukemia_resists_venetoclax(ba):
    fab = bm.ven_by_fab(ba).set_index("group")
    assert fab.loc["M0/M1", "median_auc"] == pytest.approx(65, abs=15)
    assert fab.loc["M4/M5", "median_auc"] == pytest.approx(200, abs=20)
    assert fab.loc["M4/M5", "delta_vs_m0m1"] > 100
    assert fab.loc["M4/M5", "p_vs_m0m1"] < 1e-8
    assert fab.loc["M0/M1", "n"] >= 50 and fab.loc["M4/M5", "n"] >= 50


@shared_data
def test_mutation_effects_on_venetoclax(ba, published_assoc):
    mut = bm.ven_by_mutation(ba, ["KRAS", "PTPN11", "NPM1", "IDH1", "TP53"]).set_index("gene")
    for g in ("KRAS", "PTPN11"):
        assert mut.loc[g, "direction"] == "resistant" and mut.loc[g, "p"] < 0.05, g
    assert mut.loc["IDH1", "direction"] == "sensitive" and mut.loc["IDH1", "p"] < 0.05
    assert mut.loc["KRAS", "q"] < 0.01
    # Exome-only genes: the explorer's published associations (one index specimen per patient).
    for g in ("KRAS", "PTPN11", "IDH1"):
        pub = published_assoc[g]
        assert mut.loc[g, "median_mut"] == pytest.approx(pub["medPos"], abs=1.0), g
        assert mut.loc[g, "median_wt"] == pytest.approx(pub["medNeg"], abs=1.0), g
        assert mut.loc[g, "n_mut"] == pub["nPos"], g
    # NPM1 joins the exome and the clinical assay, so it sits next to the explorer's clinical NPM1 association
    # (116 mutated, 133.6 vs 166.2, p = 0.065): sensitive, but weaker than on the exome calls alone (p < 0.01).
    npm1, pub = mut.loc["NPM1"], published_assoc["NPM1 (clinical)"]
    assert npm1["direction"] == "sensitive" and npm1["delta"] < -25 and npm1["p"] < 0.1
    assert abs(npm1["n_mut"] - pub["nPos"]) <= 2
    assert npm1["median_mut"] == pytest.approx(pub["medPos"], abs=5) and npm1["median_wt"] == pytest.approx(
        pub["medNeg"], abs=1)


@shared_data
def test_eln2024_classes_from_calls(ba):
    e = ba["eln2024"].astype(str)
    known = ba["eln2024"].notna()
    tp53 = ba["TP53"] == 1
    assert (e[tp53] == "adverse").all() and (e[known & ~tp53] != "adverse").all()
    sig = (ba["FLT3_ITD"] == 1) | (ba["NRAS"] == 1) | (ba["KRAS"] == 1)
    ddx41 = ba["DDX41"] == 1
    assert (e[known & ~tp53 & sig & ~ddx41] == "intermediate").all()
    assert (e[known & ~tp53 & ~sig] == "favorable").all()
    assert (e[known & ~tp53 & ddx41] == "favorable").all()
    # Under AZA + VEN an IDH1 mutation with FLT3-ITD / NRAS / KRAS is intermediate (Dohner et al. 2024, Table 1,
    # footnote *: the IDH1 rule irrespective of signalling is for AZA + ivosidenib only): 27 patients of BeatAML move
    # from favorable to intermediate, from 421 / 259 / 76 to 394 / 286 / 76.
    idh1_sig = known & ~tp53 & ~ddx41 & sig & (ba["IDH1"] == 1)
    assert idh1_sig.sum() == 27 and (e[idh1_sig] == "intermediate").all()
    counts = e[known].value_counts()
    assert counts.to_dict() == {"favorable": 394, "intermediate": 286, "adverse": 76}
    ivo = eln2024_rules(ba, regimen="AZA+IVO")
    assert (ivo.loc[idh1_sig, "eln2024"] == "favorable").all()
    assert ivo["eln2024_label"].value_counts().to_dict() == {"favorable": 421, "intermediate": 259, "adverse": 76,
                                                             "not computable": 49}
    # Not computable: exactly the patients without a TP53 call (the only call that can flip every class here).
    assert (~known).sum() == 49 and (ba.loc[~known, "TP53"].isna()).all()
    assert known.sum() >= 0.95 * ba["TP53"].notna().sum()
    # Published ELN 2017 adverse (which needs cytogenetics too) holds most of the TP53-mutated patients.
    assert (ba.loc[tp53, "eln2017"] == "Adverse").mean() > 0.6


def test_fab_group_mapping():
    s = pd.Series(["M5a", "M4eo", "M0/M1", "M2", "M5b", "M1", None, "NOS", ""])
    out = bm.fab_group(s)
    assert out.iloc[:6].tolist() == ["M4/M5", "M4/M5", "M0/M1", "other", "M4/M5", "M0/M1"]
    assert out.iloc[6:].isna().all()


def test_mutation_flag_rules_on_synthetic_calls():
    patients = pd.DataFrame({"id": [1, 2, 3, 4, 5],
                             "npm1c": [True, False, None, False, True],
                             "flt3itd": [None, False, None, True, None]})  # fmt: skip
    calls = pd.DataFrame({"p": [2, 1, 3], "g": ["NPM1", "FLT3", "KRAS"], "c": ["Frameshift", "In-frame ins", "Missense"]})
    f = bm.mutation_flags(patients, calls, {"1", "2", "3"})
    assert f.index.equals(patients.index)
    # NPM1: exome or clinical; patient 4 (unsequenced, assay negative) is wild type, none missing.
    assert f["NPM1"].tolist() == [1.0, 1.0, 0.0, 0.0, 1.0]
    # FLT3-ITD: the assay where done (patient 2, 4), else the exome's in-frame insertion (1, 3); 5 unknown.
    assert f["FLT3_ITD"].iloc[:4].tolist() == [1.0, 0.0, 0.0, 1.0] and np.isnan(f["FLT3_ITD"].iloc[4])
    assert f["KRAS"].iloc[:3].tolist() == [0.0, 0.0, 1.0] and f["KRAS"].iloc[3:].isna().all()


@pytest.fixture
def fake_dataset(tmp_path, monkeypatch):
    """A dataset folder of small files that the loaders read instead of the mirror."""

    def path(name, *parts):
        return tmp_path.joinpath(*parts)

    for mod in (bm, dst_beataml):
        monkeypatch.setattr(mod, "dataset_path", path)
    patient = {"id": 1, "age": 60, "sex": "Male", "dx": "AML", "stage": "Initial Diagnosis", "isDenovo": True,
               "fab": "M5", "blastsBM": 80, "eln": "Adverse", "response": None, "os": 300, "vital": "Dead",
               "flt3itd": False, "npm1c": False}  # fmt: skip
    (tmp_path / "cohort.json").write_text(json.dumps({"patients": [patient], "sequenced": [1]}))
    (tmp_path / "mutations.json").write_text(json.dumps([{"p": 1, "g": "TP53", "c": "Missense"}]))
    drugs = {"patients": [1], "drugs": [{"name": "Venetoclax"}, {"name": "Azacytidine"}], "auc": [[200.0, 150.0]],
             "ic50": [[10.0, 5.0]]}  # fmt: skip
    (tmp_path / "drugs.json").write_text(json.dumps(drugs))
    fits = {"intercept": [[0.5, 0.1]], "beta": [[-0.5, -0.4]], "conc": {"Venetoclax": [0.0137, 10], "Azacytidine": [0.0137, 10]}}
    (tmp_path / "fits.json").write_text(json.dumps(fits))
    return tmp_path


def test_fake_dataset_loads(fake_dataset):
    t = bm.load_beataml()
    assert t.loc[0, "fab_group"] == "M4/M5" and t.loc[0, "TP53"] == 1 and t.loc[0, "eln2024"] == "adverse"
    assert t.loc[0, "ven_auc"] == 200.0 and t.loc[0, "aza_auc"] == 150.0
    assert len(dst_beataml.load_published()) == 2


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("cohort.json", "{not json", "not valid JSON"),
        ("cohort.json", json.dumps({"patients": [{"id": 1}], "sequenced": []}), "patient record 0 lacks the key"),
        ("cohort.json", json.dumps({"patients": []}), "lacks the key\\(s\\) sequenced"),
        ("mutations.json", json.dumps([{"p": 1, "gene": "TP53"}]), "expected keys p"),
        ("drugs.json", json.dumps({"patients": [1], "drugs": [{"name": "Venetoclax"}, {"name": "Azacytidine"}],
                                   "auc": [[200.0]], "ic50": [[1.0]]}), "auc row 0 has 1 values for 2 drugs"),
    ],
)
def test_malformed_files_name_the_file(fake_dataset, name, content, match):
    (fake_dataset / name).write_text(content)
    with pytest.raises(DataContractError, match=match) as err:
        bm.load_beataml()
    assert err.value.path.name == name


def test_malformed_published_fits_name_the_file(fake_dataset):
    (fake_dataset / "fits.json").write_text(json.dumps({"intercept": [[0.5]], "beta": [[-0.5, -0.4]], "conc": {}}))
    with pytest.raises(DataContractError, match="intercept matrix is shape \\(1, 1\\), expected \\(1, 2\\)") as err:
        dst_beataml.load_published()
    assert err.value.path.name == "fits.json"


@shared_data
def test_unknown_drug_is_an_error(public_data):
    with pytest.raises(KeyError, match="not in BeatAML"):
        bm.drug_auc("Not-a-drug")
    assert np.isfinite(bm.drug_auc("Azacytidine")).all()


@shared_data
@pytest.mark.slow
def test_notebook_runs_on_beataml(public_data, tmp_path):
    from nbrun import execute_py_notebook

    from helpers.paths import repo_root

    out, figs = tmp_path / "out", tmp_path / "figs"
    execute_py_notebook(repo_root() / "notebooks" / "51_integration_beataml.py", tmp_path, cwd=repo_root(),
                        parameters={"cohort": "beataml", "upstream_dirs": {}, "output_dir": str(out),
                                    "figures_dir": str(figs)})  # fmt: skip
    fab = pd.read_csv(out / "beataml_ven_by_fab.csv").set_index("group")
    assert fab.loc["M4/M5", "median_auc"] > 2 * fab.loc["M0/M1", "median_auc"]
    index = pd.read_csv(out / "figure_index.csv")
    for stem in index["figure"]:
        assert (figs / f"{stem}.pdf").is_file() and (figs / f"{stem}.png").is_file()
    dic = pd.read_csv(out / "beataml_data_dictionary.csv")
    assert (dic["source"] != "unknown").all()
    assert {"table1_beataml.csv", "table1_beataml.html", "table1_beataml.tex"} <= {p.name for p in out.iterdir()}
