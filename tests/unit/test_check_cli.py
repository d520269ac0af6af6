"""``python -m helpers check DATA_DIR``: the CI cohort follows the contract; ten planted faults are all listed."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from helpers.check import check_cohort
from helpers.paths import repo_root


def _check(path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "helpers", "check", str(path)], capture_output=True, text=True,
                          cwd=repo_root(), check=False)  # fmt: skip


def test_ci_cohort_passes(ci_cohort):
    r = _check(ci_cohort)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "follows the data contract" in r.stdout


def _csv(path, edit):
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    edit(df).to_csv(path, index=False)


@pytest.fixture
def faulty(ci_cohort, tmp_path):
    d = tmp_path / "lab"
    shutil.copytree(ci_cohort, d, ignore=shutil.ignore_patterns("truth", ".stamps"))
    clin = pd.read_csv(d / "clinical.csv", dtype=str, keep_default_na=False)
    resp = [i for i in clin.index if clin.at[i, "response_date"]]

    def clinical(df):
        df.loc[0, "diagnosis_date"] = "2023-02-30"                                      # 1 impossible date
        i = resp[1]
        df.loc[i, "response_date"] = str(pd.Timestamp(df.loc[i, "diagnosis_date"]) - pd.Timedelta(days=365))[:10]  # 2
        df["bm_blast_pct"] = (df["bm_blast_pct"].astype(float) / 100).map(lambda v: f"{v:.4f}")  # 3 fractions
        return df

    _csv(d / "clinical.csv", clinical)
    _csv(d / "samples.csv", lambda df: df.assign(collection_date=df["collection_date"].where(df.index != 2,
                                                                                           "2024-13-01")))  # 4
    plates = pd.read_csv(d / "dst" / "plates.csv", dtype=str)
    pmap = d / "dst" / plates["map_file"].iat[0]
    m = pd.read_csv(pmap, dtype=str, keep_default_na=False)
    ven = int(((m["drug"] == "Venetoclax") & (m["role"] == "sample") & (m["drug2"] == "")).to_numpy().nonzero()[0][0])
    m.loc[ven, ["conc", "conc_unit"]] = ["10000", "uM"]                                 # 5 nM value in a uM column
    m.to_csv(pmap, index=False)
    reader = d / "dst" / plates["reader_file"].iat[1]
    reader.write_text("\n".join(reader.read_text().splitlines()[:-3]) + "\n")           # 6 truncated reader export

    def cyto(df):
        df.loc[1, "ven_um"] = "100"                                                     # 7 implausible VEN in cytometry
        df.loc[3, "file"] = "../../../../etc/passwd"                                    # 8 path outside the folder
        return df

    _csv(d / "cytometry" / "sample_sheet.csv", cyto)
    bsheet = pd.read_csv(d / "barcodes" / "sample_sheet.csv", dtype=str)
    (d / "barcodes" / bsheet["file"].iat[0]).write_bytes(gzip.compress(b""))            # 9 empty FASTQ
    _csv(d / "scrna" / "sample_sheet.csv", lambda df: df.assign(path=df["path"].where(df.index != 0, "nowhere/x.h5")))  # 10
    return d, {"map": pmap.name, "reader": reader.name, "ven_line": ven + 2, "resp_line": resp[1] + 2}


def test_ten_planted_faults_are_all_listed(faulty):
    d, info = faulty
    r = _check(d)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if not ln.endswith(f"problem(s) in {d.name}")]
    expected = [
        r"^clinical\.csv \(row 2, column 'diagnosis_date'\): impossible date '2023-02-30'",
        rf"^clinical\.csv \(row {info['resp_line']}, column 'response_date'\): response_date .* is before diagnosis_date",
        r"^clinical\.csv \(row 2, column 'bm_blast_pct'\): .*fraction",
        r"^samples\.csv \(row 4, column 'collection_date'\): impossible date '2024-13-01'",
        rf"^dst/.*{re.escape(info['map'])} \(row {info['ven_line']}, column 'conc'\): Venetoclax at 10000 uM",
        rf"^dst/.*{re.escape(info['reader'])} .*plate grid is truncated",
        r"^cytometry/sample_sheet\.csv \(row 3, column 'ven_um'\): venetoclax at 100 uM",
        r"^cytometry/sample_sheet\.csv \(row 5, column 'file'\): path '\.\./\.\./\.\./\.\./etc/passwd'",
        r"^barcodes/sample_sheet\.csv \(row 2, column 'file'\): FASTQ file .* is empty \(no reads\)",
        r"^scrna/sample_sheet\.csv \(row 2, column 'path'\): 10x output 'nowhere/x\.h5' not found",
    ]
    for pat in expected:
        assert sum(bool(re.search(pat, ln)) for ln in lines) == 1, (pat, lines)
    assert len(lines) == 10, "\n".join(lines)
    assert r.stdout.splitlines()[-1] == f"10 problem(s) in {d.name}"
    assert str(d) not in r.stdout  # files are named relative to the cohort folder
    assert len(check_cohort(d)) == 10
