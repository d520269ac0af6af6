"""Patient data never get committed: lab-like folders planted anywhere in a clone stay out of ``git status``."""

from __future__ import annotations

import gzip
import shutil
import subprocess

from helpers.paths import repo_root


def _git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout


def _lab_folder(d) -> None:
    files = {
        "clinical.csv": "patient_id,age\nDRM001,70\n",
        "samples.csv": "sample_id,patient_id\nDRM001-DX,DRM001\n",
        "dst/plates.csv": "plate_id,sample_id\n", "dst/reader/P1.csv": ",1,2\n", "dst/maps/P1_map.csv": "well\n",
        "cytometry/sample_sheet.csv": "file\n", "cytometry/panels.csv": "panel\n",
        "cytometry/fcs/DOE_JOHN_19610312.fcs": "FCS3.1", "cytometry/export/SMITH.FCS": "FCS3.0",
        "scrna/sample_sheet.csv": "sample_id,path\n", "scrna/S1/filtered_feature_bc_matrix.h5": "h5",
        "scrna/S2/matrix.mtx.gz": "x", "barcodes/sample_sheet.csv": "file\n", "barcodes/fastq/L1.fastq.gz": "",
        "barcodes/library_pattern.txt": "pattern: ACGT\n", "notes.txt": "patient notes\n",
    }
    for rel, text in files.items():
        p = d / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(gzip.compress(b"") if rel.endswith(".gz") else text.encode())


def test_lab_folders_planted_in_a_clone_are_ignored(tmp_path):
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "--quiet", "--no-hardlinks", str(repo_root()), str(clone))
    shutil.copyfile(repo_root() / ".gitignore", clone / ".gitignore")  # the working tree's rules
    _git(clone, "add", ".gitignore")
    _git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "rules")
    assert _git(clone, "status", "--porcelain", "--untracked-files=all") == ""
    for where in ("data/lab", "data/cohorts/dream_2026", "lab_data", "notebooks/mydata", "results_lab"):
        _lab_folder(clone / where)
    (clone / "data" / "patients.csv").write_text("patient_id\nDRM001\n")  # a loose table in data/
    (clone / "data" / "export.xlsx").write_text("x")
    status = _git(clone, "status", "--porcelain", "--untracked-files=all")
    assert status == "", status
    # Nested in a package folder, the instrument files, contract tables and assay folders are still ignored.
    _lab_folder(clone / "src" / "lab")
    status = _git(clone, "status", "--porcelain", "--untracked-files=all")
    shown = [ln[3:] for ln in status.splitlines()]
    assert shown == ["src/lab/notes.txt"], shown  # plain text beside the data cannot be told from code
    # What the project ships under data/ and its packages stay committable.
    for keep in ("data/README.md", "data/registry.yaml", "src/helpers/io.py", "src/helpers/cytometry/fcs.py",
                 "src/helpers/scrna/contract.py", "src/helpers/barcodes/contract.py"):
        r = subprocess.run(["git", "check-ignore", "-q", "--no-index", keep], cwd=clone, check=False)
        assert r.returncode == 1, f"{keep} must not be ignored"


def test_a_fresh_clone_ships_the_figures_folder_and_ignores_its_outputs(tmp_path):
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "--quiet", "--no-hardlinks", str(repo_root()), str(clone))
    readme = clone / "figures" / "README.md"
    assert readme.is_file() and "figures/<cohort>/" in readme.read_text()
    for rel in ("ci/01_dst/curves.pdf", "ci/01_dst/curves.png", "dream_lab-0123abcd/02_cytometry/gates.png"):
        (clone / "figures" / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / "figures" / rel).write_bytes(b"figure")
    assert _git(clone, "status", "--porcelain", "--untracked-files=all") == ""
