"""The simulated barcoding cohort: data contract, determinism, planted signals and their recovery."""

from __future__ import annotations

import gzip
import re
import shutil

import dnaio
import numpy as np
import pandas as pd
import pytest

from helpers.barcodes import (
    FEATURE_DICTIONARY,
    correct_by_group,
    count_libraries,
    load_barcode_dataset,
    load_sample_sheet,
    pdx_features,
    resistance_test,
    sample_counts,
    uniform_overlap_test,
)
from helpers.errors import DataContractError
from helpers.io import sha256_file
from helpers.simulate import DEFAULT_SEED, simulate_patients
from helpers.simulate.barcodes import simulate_barcodes

PRECISION_FLOOR, RECALL_FLOOR = 0.85, 0.75


@pytest.fixture(scope="module")
def cohort(ci_cohort_with):
    return ci_cohort_with("barcodes")


def _analyse(folder, seed=DEFAULT_SEED):
    ds = load_barcode_dataset(folder)
    raw, qc = count_libraries(ds, min_mean_quality=30, max_mismatches=1)
    cor = correct_by_group(raw, ds.sheet, method="message_passing", distance=2, ratio=5, metric="hamming")
    s = sample_counts(cor, ds.sheet)
    return ds, qc, s, resistance_test(s, n_perm=1000, seed=seed)


@pytest.fixture(scope="module")
def analysed(cohort):
    return _analyse(cohort)


@pytest.fixture(scope="module")
def null_cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("null")
    (out / "truth").mkdir()
    simulate_barcodes(simulate_patients(120, seed=DEFAULT_SEED), out, scale="ci", seed=DEFAULT_SEED,
                      plant_resistance=False)  # fmt: skip
    return out


def test_layout_and_size(cohort):
    ds = load_barcode_dataset(cohort)
    sheet = ds.sheet
    samples = pd.read_csv(cohort / "samples.csv")
    pdx_patients = set(samples.loc[samples["assays"].str.contains("barcoding"), "patient_id"])
    assert set(sheet["patient_id"]) == pdx_patients and len(pdx_patients) == 6
    assert set(sheet["arm"]) == {"vehicle", "aza_ven"}
    assert set(sheet["pcr_replicate"]) == {1, 2}
    size = sum(f.stat().st_size for f in (cohort / "barcodes").rglob("*") if f.is_file())
    assert size < 10e6
    assert ds.pattern.barcode_length == 32


def test_fastq_read_by_independent_parser(cohort):
    f = cohort / "barcodes" / load_sample_sheet(cohort / "barcodes" / "sample_sheet.csv")["file"].iloc[0]
    with dnaio.open(f) as reader:
        recs = list(reader)
    assert len(recs) == 2000
    assert all(len(r.sequence) == len(r.qualities) == 88 for r in recs)


@pytest.mark.slow
def test_same_seed_same_bytes_other_seed_differs(cohort, tmp_path):
    tables = simulate_patients(120, seed=DEFAULT_SEED)
    ref = sorted((cohort / "barcodes").rglob("*.gz"))
    digests = {}
    for name, seed in (("same", DEFAULT_SEED), ("other", DEFAULT_SEED + 1)):
        (tmp_path / name / "truth").mkdir(parents=True)
        simulate_barcodes(tables, tmp_path / name, scale="ci", seed=seed)
        digests[name] = [sha256_file(tmp_path / name / "barcodes" / f.relative_to(cohort / "barcodes")) for f in ref]
    assert digests["same"] == [sha256_file(f) for f in ref]
    assert digests["same"] != digests["other"]
    assert (tmp_path / "same" / "barcodes" / "sample_sheet.csv").read_bytes() == (
        cohort / "barcodes" / "sample_sheet.csv").read_bytes()


def test_planted_signal_visible_in_raw_reads(cohort):
    """Straight from FASTQ: planted resistant barcodes take a larger share of reads after AZA/VEN than after vehicle."""
    sheet = load_sample_sheet(cohort / "barcodes" / "sample_sheet.csv")
    truth = pd.read_csv(cohort / "truth" / "barcodes_clones.csv")
    res = truth.loc[truth["resistant"] == 1, "barcode"]
    # the wobble bases of the BC32-GFP backbone, exact matches only
    rx = re.compile(r"ACT(..)CGA(..)CTT(..)CGA(..)CTT(..)GGA(..)CTA(..)ACT(..)CGA(..)CTT(..)CGA(..)CTT(..)GGA(..)"
                    r"CTA(..)ACT(..)CGA(..)")  # fmt: skip
    share = {}
    for arm in ("vehicle", "aza_ven"):
        files = sheet[(sheet["arm"] == arm) & (sheet["timepoint"] == "post_treatment") & (sheet["pcr_replicate"] == 1)]["file"]
        hits = total = 0
        for f in files:
            with gzip.open(cohort / "barcodes" / f, "rt") as fh:
                for i, line in enumerate(fh):
                    if i % 4 == 1 and (m := rx.search(line)):
                        total += 1
                        hits += "".join(m.groups()) in set(res)
        share[arm] = hits / total
    assert share["aza_ven"] > 3 * share["vehicle"]


def test_planted_resistant_clones_recovered(cohort, analysed):
    ds, qc, s, res = analysed
    truth = pd.read_csv(cohort / "truth" / "barcodes_clones.csv")
    planted = set(truth.loc[truth["resistant"] == 1, "barcode"])
    called = set(res.barcodes.loc[res.barcodes["resistant"], "barcode"])
    tp = len(planted & called)
    precision, recall = tp / max(len(called), 1), tp / len(planted)
    assert precision >= PRECISION_FLOOR, (precision, recall)
    assert recall >= RECALL_FLOOR, (precision, recall)
    assert (res.pdx["p_value"] < 0.05).all()
    # error correction recovers the true barcodes: every detected barcode is a planted clone
    assert s.loc[s["detected"], "barcode"].isin(truth["barcode"]).all()


def test_no_call_when_nothing_is_planted(null_cohort):
    _, _, s, res = _analyse(null_cohort)
    assert not res.barcodes["resistant"].any()
    assert (res.pdx["p_value"] > 0.01).all()
    # the uniform-overlap null is anti-conservative on the same data
    naive = uniform_overlap_test(s)
    assert naive["called"].sum() >= 5


def test_features_one_row_per_pdx(cohort, analysed):
    ds, qc, s, res = analysed
    f = pdx_features(s, res, ds.sheet)
    assert list(f.columns) == list(FEATURE_DICTIONARY["name"])
    assert len(f) == 6 and f["sample_id"].str.endswith("-DX").all()
    truth = pd.read_csv(cohort / "truth" / "barcodes_pdx.csv").set_index("pdx_id")
    n_true = truth.loc[f["pdx_id"], "n_resistant"].to_numpy()
    assert np.corrcoef(f["bc_n_resistant_clones"], n_true)[0, 1] > 0.7
    assert (f["bc_post_hill_2_treated"] < f["bc_pre_hill_2"]).all()  # treatment narrows the clonal repertoire
    assert qc["match_rate"].between(0.7, 0.98).all()


def _sheet(tmp_path, edit):
    src = tmp_path / "barcodes"
    src.mkdir()
    df = pd.DataFrame({"file": ["a.fastq.gz", "b.fastq.gz"], "library_id": ["L1", "L2"], "pdx_id": ["P1", "P1"],
                       "patient_id": ["D1", "D1"], "sample_id": ["D1-DX", "D1-DX"], "mouse_id": ["M1", "M1"],
                       "arm": ["vehicle", "vehicle"], "timepoint": ["pre_treatment", "pre_treatment"],
                       "pcr_replicate": ["1", "2"]})  # fmt: skip
    for f in df["file"]:
        (src / f).write_bytes(gzip.compress(b"@r1\nACGT\n+\nIIII\n"))
    df = edit(df)
    df.to_csv(src / "sample_sheet.csv", index=False)
    return src / "sample_sheet.csv"


@pytest.mark.parametrize(
    ("edit", "message", "where"),
    [
        (lambda d: d.drop(columns="arm"), "missing required column", "column 'arm'"),
        (lambda d: d.assign(arm=["vehicle", "placebo"]), "'placebo' is not one of", "row 3"),
        (lambda d: d.assign(library_id=["L1", "L1"]), "duplicated library", "row 3"),
        (lambda d: d.assign(pcr_replicate=["1", "x"]), "positive integer", "column 'pcr_replicate'"),
        (lambda d: d.assign(pcr_replicate=["1", "1"]), "duplicated (mouse_id", "row 3"),
        (lambda d: d.assign(arm=["vehicle", "aza_ven"]), "more than one arm", "column 'arm'"),
        (lambda d: d.assign(file=["a.fastq.gz", "missing.fastq.gz"]), "not found", "row 3"),
        (lambda d: d.assign(sample_id=["D1-DX", ""]), "empty value", "column 'sample_id'"),
    ],
)
def test_sample_sheet_errors_name_row_and_column(tmp_path, edit, message, where):
    path = _sheet(tmp_path, edit)
    with pytest.raises(DataContractError) as exc:
        load_sample_sheet(path)
    assert message in str(exc.value) and where in str(exc.value) and "sample_sheet.csv" in str(exc.value)


def test_missing_pattern_file(tmp_path):
    path = _sheet(tmp_path, lambda d: d)
    with pytest.raises(DataContractError, match="library_pattern.txt"):
        load_barcode_dataset(path.parent.parent)
    shutil.rmtree(path.parent)
