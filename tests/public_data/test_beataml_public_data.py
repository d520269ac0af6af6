"""The shared BeatAML 2.0 loader: patient table, published ex vivo venetoclax biology and ELN 2024 from its calls.

Oracles on the public data: the medians quoted in the literature (VEN AUC about 65 in FAB M0/M1 and 200 in M4/M5;
Kuusanmaki et al. 2020, Zhang et al. 2020) and the mutation-drug associations that the dataset's own explorer
published in drugs.json (``assoc``: median AUC of mutated and wild-type patients). The FAB and mutation rules and the
errors on malformed files are checked on small synthetic inputs.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_beataml.py``; the tests that execute notebooks are in ``tests/pipeline/test_beataml_pipeline.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import beataml as bm
from helpers.clinical import eln2024_rules
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


@shared_data
def test_unknown_drug_is_an_error(public_data):
    with pytest.raises(KeyError, match="not in BeatAML"):
        bm.drug_auc("Not-a-drug")
    assert np.isfinite(bm.drug_auc("Azacytidine")).all()
