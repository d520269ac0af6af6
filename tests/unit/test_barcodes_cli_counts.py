"""Command line: python -m helpers.barcodes diff / resistance on a count table and a design sheet."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd

from helpers.barcodes.__main__ import main
from helpers.paths import repo_root
from helpers.simulate.barcode_counts import simulate_count_experiment


def _inputs(tmp_path):
    counts, design, truth = simulate_count_experiment(seed=0, n_resistant=8)
    counts.to_csv(tmp_path / "counts.txt", sep="\t")  # a .txt with tabs, as barcodetrackR writes
    design.to_csv(tmp_path / "sheet.csv", index=False)
    return tmp_path / "counts.txt", tmp_path / "sheet.csv", truth


def test_diff_and_resistance(tmp_path, capsys):
    counts, sheet, truth = _inputs(tmp_path)
    args = ["--counts", str(counts), "--samples", str(sheet), "--treated", "high_dose", "--control", "vehicle"]
    assert main(["diff", *args, "--out", str(tmp_path / "diff.tsv")]) == 0
    d = pd.read_csv(tmp_path / "diff.tsv", sep="\t")
    assert list(d.columns[:6]) == ["barcode", "log_fc", "log_cpm", "f", "p_value", "q_value"]
    assert d["n_treated"].dtype.kind == "i" and "\t6\t6\n" in (tmp_path / "diff.tsv").read_text()
    assert main(["resistance", *args, "--out", str(tmp_path / "calls.tsv"), "--summary", str(tmp_path / "pdx.tsv")]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    c = pd.read_csv(tmp_path / "calls.tsv", sep="\t")
    pdx = pd.read_csv(tmp_path / "pdx.tsv", sep="\t")
    assert list(c.columns[:4]) == ["pdx_id", "barcode", "called", "q_value"]
    assert last == f"pdx_p_value={pdx.loc[0, 'p_value']:.6g}" and pdx.loc[0, "n_assignments"] == 924
    called = set(c.loc[c["called"], "barcode"])
    assert called and called <= set(truth.loc[truth["resistant"] == 1, "barcode"])


def test_bad_input_gives_one_line_and_status_2(tmp_path):
    counts, sheet, _ = _inputs(tmp_path)
    out = subprocess.run([sys.executable, "-m", "helpers.barcodes", "diff", "--counts", str(counts), "--samples",
                          str(sheet), "--treated", "aza_ven", "--control", "vehicle", "--out", str(tmp_path / "x.tsv")],
                         cwd=repo_root(), capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 2 and "unknown arm 'aza_ven'" in out.stderr and "Traceback" not in out.stderr
    text = counts.read_text().splitlines()
    text[3] = text[3].replace("\t", "\t1.5\t", 1).rsplit("\t", 1)[0]
    counts.write_text("\n".join(text) + "\n")
    out = subprocess.run([sys.executable, "-m", "helpers.barcodes", "resistance", "--counts", str(counts),
                          "--samples", str(sheet), "--treated", "high_dose", "--control", "vehicle", "--out",
                          str(tmp_path / "x.tsv")], cwd=repo_root(), capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 2 and "row 4" in out.stderr and "not an integer count" in out.stderr
