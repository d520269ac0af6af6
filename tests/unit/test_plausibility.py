"""Plausibility rules of the data contract, path confinement and one row-numbering convention (line, header = 1)."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pandas as pd
import pytest

from helpers.barcodes.contract import load_sample_sheet as load_barcode_sheet
from helpers.clinical import load_clinical
from helpers.cytometry.contract import load_sample_sheet as load_cyto_sheet
from helpers.dst.__main__ import main as dst_cli
from helpers.dst.contract import read_plate_map
from helpers.dst.fit import fit_curves
from helpers.dst.synergy import synergy_table
from helpers.errors import DataContractError
from helpers.scrna.contract import read_sample_sheet as load_scrna_sheet
from helpers.simulate import simulate_patients
from helpers.workflow import load_cohort


@pytest.fixture(scope="module")
def clinical_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort")
    simulate_patients(20, seed=3).write(d)
    return d


def _edited(src, tmp_path, edit):
    d = tmp_path / "c"
    shutil.copytree(src, d)
    df = pd.read_csv(d / "clinical.csv", dtype=str, keep_default_na=False)
    edit(df).to_csv(d / "clinical.csv", index=False)
    return d


def test_simulated_clinical_table_is_plausible(clinical_dir):
    assert len(load_clinical(clinical_dir)) == 20


def test_impossible_iso_date_is_a_contract_error(clinical_dir, tmp_path):
    d = _edited(clinical_dir, tmp_path, lambda t: t.assign(diagnosis_date=t["diagnosis_date"].where(t.index != 3,
                                                                                                   "2023-02-30")))
    with pytest.raises(DataContractError, match=r"clinical\.csv \(row 5, column 'diagnosis_date'\).*impossible date"):
        load_clinical(d)


def test_response_before_diagnosis_is_refused(clinical_dir, tmp_path):
    t = pd.read_csv(clinical_dir / "clinical.csv", dtype=str, keep_default_na=False)
    i = int(np.flatnonzero(t["response_date"] != "")[0])

    def edit(df):
        df.loc[i, "response_date"] = str(pd.Timestamp(df.loc[i, "diagnosis_date"]) - pd.Timedelta(days=365))[:10]
        return df

    d = _edited(clinical_dir, tmp_path, edit)
    with pytest.raises(DataContractError, match=rf"row {i + 2}, column 'response_date'\).*before diagnosis_date"):
        load_clinical(d)


def test_relapse_after_last_followup_is_refused(clinical_dir, tmp_path):
    t = pd.read_csv(clinical_dir / "clinical.csv", dtype=str, keep_default_na=False)
    i = int(np.flatnonzero(t["relapse_date"] != "")[0])

    def edit(df):
        df.loc[i, "last_followup_date"] = df.loc[i, "relapse_date"][:4] + "-01-01"
        df.loc[i, "relapse_date"] = df.loc[i, "relapse_date"][:4] + "-12-31"
        return df

    d = _edited(clinical_dir, tmp_path, edit)
    with pytest.raises(DataContractError, match=rf"row {i + 2}, column 'last_followup_date'\).*before relapse_date"):
        load_clinical(d)


def test_blast_percentages_given_as_fractions_are_refused(clinical_dir, tmp_path):
    d = _edited(clinical_dir, tmp_path, lambda t: t.assign(bm_blast_pct=(t["bm_blast_pct"].astype(float) / 100).map(str)))
    with pytest.raises(DataContractError, match=r"row 2, column 'bm_blast_pct'.*fraction"):
        load_clinical(d)


def _cyto_sheet(tmp_path, **cols):
    d = tmp_path / "cytometry"
    (d / "fcs").mkdir(parents=True)
    (d / "fcs" / "a.fcs").write_bytes(b"FCS3.1" + b" " * 100)
    row = {"file": "fcs/a.fcs", "sample_id": "S1", "panel": "FUNC", "condition": "VEN", "ven_um": 1.0, "aza_um": 0.0}
    row.update(cols)
    pd.DataFrame([row]).to_csv(d / "sample_sheet.csv", index=False)
    return d / "sample_sheet.csv"


def test_cytometry_sheet_venetoclax_at_100_um_is_implausible(tmp_path):
    with pytest.raises(DataContractError, match=r"row 2, column 'ven_um'.*above the highest plausible 30 uM"):
        load_cyto_sheet(_cyto_sheet(tmp_path, ven_um=100))


def test_cytometry_sheet_paths_are_confined_and_never_echoed(tmp_path):
    with pytest.raises(DataContractError, match=r"row 2, column 'file'.*without '\.\.'") as exc:
        load_cyto_sheet(_cyto_sheet(tmp_path, file="../../../../etc/passwd"))
    assert "root:" not in str(exc.value)
    sheet = _cyto_sheet(tmp_path / "b")
    (sheet.parent / "fcs" / "link.fcs").symlink_to("/etc/hostname")
    pd.read_csv(sheet).assign(file="fcs/link.fcs").to_csv(sheet, index=False)
    with pytest.raises(DataContractError, match=r"outside the data folder"):
        load_cyto_sheet(sheet)


def test_empty_fcs_file_is_a_contract_error(tmp_path):
    sheet = _cyto_sheet(tmp_path)
    (sheet.parent / "fcs" / "a.fcs").write_bytes(b"")
    with pytest.raises(DataContractError, match=r"row 2, column 'file'.*empty"):
        load_cyto_sheet(sheet)


@pytest.mark.parametrize("content", [b"", b"file,sample_id\n\xff\xfe\xc3(,x\n"])
def test_empty_or_non_utf8_sheets_are_contract_errors(tmp_path, content):
    for sub, loader in (("cytometry", load_cyto_sheet), ("barcodes", load_barcode_sheet), ("scrna", load_scrna_sheet)):
        d = tmp_path / sub
        d.mkdir(exist_ok=True)
        (d / "sample_sheet.csv").write_bytes(content)
        with pytest.raises(DataContractError, match=r"sample_sheet\.csv"):
            loader(d / "sample_sheet.csv")


def _barcode_sheet(tmp_path, *, reads=True, **cols):
    d = tmp_path / "barcodes"
    d.mkdir(parents=True)
    (d / "a.fastq.gz").write_bytes(gzip.compress(b"@r1\nACGT\n+\nIIII\n" if reads else b""))
    row = {"file": "a.fastq.gz", "library_id": "L1", "pdx_id": "P1", "patient_id": "D1", "sample_id": "D1-DX",
           "mouse_id": "M1", "arm": "vehicle", "timepoint": "pre_treatment", "pcr_replicate": 1}
    row.update(cols)
    pd.DataFrame([row]).to_csv(d / "sample_sheet.csv", index=False)
    return d / "sample_sheet.csv"


def test_empty_fastq_gz_is_a_contract_error(tmp_path):
    assert len(load_barcode_sheet(_barcode_sheet(tmp_path / "ok"))) == 1
    with pytest.raises(DataContractError, match=r"row 2, column 'file'.*a\.fastq\.gz.*empty \(no reads\)"):
        load_barcode_sheet(_barcode_sheet(tmp_path / "bad", reads=False))


def test_ids_that_become_file_names_are_validated(tmp_path):
    with pytest.raises(DataContractError, match=r"row 2, column 'pdx_id'.*cannot be used as a file name"):
        load_barcode_sheet(_barcode_sheet(tmp_path, pdx_id="../figs/P1"))


def test_cohort_names_are_validated_before_they_become_paths(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "evil.yaml").write_text("name: ../../outside\ndata_dir: data/simulated/ci\n")
    with pytest.raises(DataContractError, match=r"cohort name '\.\./\.\./outside'"):
        load_cohort("evil", config_dir=cfg)


def _plate_map(tmp_path, conc, unit="uM", drug="Venetoclax"):
    p = tmp_path / "map.csv"
    pd.DataFrame({"well": ["A01", "A02", "A03"], "role": ["neg_control", "sample", "sample"],
                  "drug": ["", drug, drug], "conc": ["", 1.0, conc], "conc_unit": ["", unit, unit]}).to_csv(p, index=False)
    return p


def test_plate_map_concentrations_against_the_drugs_range(tmp_path):
    assert read_plate_map(_plate_map(tmp_path, 10000, unit="nM"))["conc_uM"].max() == pytest.approx(10.0)
    with pytest.raises(DataContractError, match=r"map\.csv \(row 4, column 'conc'\).*Venetoclax at 10000 uM.*nM given"):
        read_plate_map(_plate_map(tmp_path, 10000))


def test_fit_refuses_viability_as_a_fraction_and_flags_truncated_low_doses():
    conc = np.array([0.001, 0.01, 0.1, 1, 10])
    via = 100 / (1 + conc / 0.5)
    pts = pd.DataFrame({"sample": np.repeat(["a", "b", "c"], 5), "drug": "Venetoclax", "conc_uM": np.tile(conc, 3),
                        "viability_pct": np.tile(via, 3)})
    with pytest.raises(DataContractError, match="viability given as a fraction"):
        fit_curves(pts.assign(viability_pct=pts["viability_pct"] / 100), model="ll4")
    # Sample c misses its three lowest doses: the fit has no top plateau and is flagged, with a warning.
    trunc = pd.concat([pts[pts["sample"] != "c"], pd.DataFrame({"sample": "c", "drug": "Venetoclax",
                                                                "conc_uM": [1, 3, 10, 30], "viability_pct": [33, 14, 5, 2]})])
    with pytest.warns(UserWarning, match="truncated_low_doses"):
        f = fit_curves(trunc, model="ll4").set_index("sample")
    assert f.loc["c", "fit_flag"] == "truncated_low_doses" and (f.loc[["a", "b"], "fit_flag"] == "ok").all()


def _block(name="B1", *, mono_nan=False, no_zero=False, negative=False):
    r, c = np.array([0, 0.1, 1, 10.0]), np.array([0, 0.01, 0.1, 1.0])
    rr, cc = np.meshgrid(r, c, indexing="ij")
    inh = 100 * (1 - 1 / (1 + rr / 1.0) / (1 + cc / 0.1))
    df = pd.DataFrame({"block": name, "conc_row": rr.ravel(), "conc_col": cc.ravel(), "inhibition_pct": inh.ravel()})
    if mono_nan:
        df.loc[(df["conc_col"] == 0) & (df["conc_row"] > 0), "inhibition_pct"] = np.nan
    if no_zero:
        df = df[df["conc_row"] > 0]
    if negative:
        df.loc[5, "conc_col"] = -0.01
    return df


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"mono_nan": True}, r"block B2: the row drug's monotherapy \(conc_col = 0\) is missing or all NaN"),
     ({"no_zero": True}, r"block B2: no zero concentration \(conc_row = 0\)"),
     ({"negative": True}, r"block B2: negative concentration")],
)
def test_synergy_refuses_blocks_it_cannot_score(tmp_path, kw, message):
    cells = pd.concat([_block("B1"), _block("B2", **kw)], ignore_index=True)
    with pytest.raises(DataContractError, match=message):
        synergy_table(cells)
    cells.to_csv(tmp_path / "m.csv", index=False)
    assert dst_cli(["synergy", "--input", str(tmp_path / "m.csv"), "--output", str(tmp_path / "o.csv")]) == 2
    assert not (tmp_path / "o.csv").exists()
    _, blocks = synergy_table(_block("B1"))  # a complete block still scores
    assert blocks["zip_mean"].notna().all()


def test_sample_ids_that_would_leave_a_folder_are_refused(clinical_dir, tmp_path):
    d = tmp_path / "c"
    shutil.copytree(clinical_dir, d)
    s = pd.read_csv(d / "samples.csv", dtype=str, keep_default_na=False)
    s.loc[1, "sample_id"] = ".."
    s.to_csv(d / "samples.csv", index=False)
    from helpers.clinical import load_samples

    with pytest.raises(DataContractError, match=r"samples\.csv \(row 3, column 'sample_id'\).*cannot be used as a file"):
        load_samples(d)
