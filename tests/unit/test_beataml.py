"""The shared BeatAML 2.0 loader: patient table, published ex vivo venetoclax biology and ELN 2024 from its calls.

Oracles on the public data: the medians quoted in the literature (VEN AUC about 65 in FAB M0/M1 and 200 in M4/M5;
Kuusanmaki et al. 2020, Zhang et al. 2020) and the mutation-drug associations that the dataset's own explorer
published in drugs.json (``assoc``: median AUC of mutated and wild-type patients). The FAB and mutation rules and the
errors on malformed files are checked on small synthetic inputs.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_beataml_public_data.py``; the tests that execute notebooks are in
``tests/pipeline/test_beataml_pipeline.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from helpers import beataml as bm
from helpers.dst import beataml as dst_beataml
from helpers.errors import DataContractError


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
