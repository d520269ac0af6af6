"""run_all on real-data conditions: locks, no orphans, no absolute paths or file names in shareable outputs, private
tracebacks, result folders keyed by the data folder, group-readable outputs, one-line disk errors."""

from __future__ import annotations

import errno
import importlib.util
import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
import pytest

from helpers.paths import repo_root
from helpers.workflow import load_cohort, run_pipeline

pytestmark = pytest.mark.xdist_group("pipeline")

HEADER = """# ---
# jupyter:
#   kernelspec: {display_name: Python 3, language: python, name: python3}
#   dream:
#     inputs: [assay]
#     upstream: []
# ---

# %% tags=["parameters"]
cohort = "t"
data_dir = ""
output_dir = "out"
figures_dir = "figs"
seed = 1
fail = False
wait_for = ""

# %%
"""
BODY = """
import os, time
from pathlib import Path
import pandas as pd
from helpers.io import write_table
from helpers.paths import resolve
print("data folder parameter:", data_dir, "outputs:", output_dir)
if wait_for:  # a run that stays alive until the test releases it (no timing: it waits for a file)
    Path(wait_for + ".pid").write_text(f"{os.getpid()} {os.getppid()}")
    while not Path(wait_for).exists():
        time.sleep(0.2)
files = sorted(p.name for p in (resolve(data_dir) / "assay").iterdir())
if fail:
    raise RuntimeError("planted failure reading " + str(resolve(data_dir) / "assay" / files[0]))
write_table(pd.DataFrame({"n_files": [len(files)]}), resolve(output_dir) / "counts.csv")
(resolve(figures_dir) / "fig.txt").write_text("figure")
"""


@pytest.fixture
def lab(tmp_path):
    """A lab data folder at an absolute path outside the repository, with patient-named instrument files."""
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    (nbdir / "01_a.py").write_text(HEADER + textwrap.dedent(BODY))
    data = tmp_path / "hospital" / "dream_lab"
    (data / "assay").mkdir(parents=True)
    (data / "clinical.csv").write_text("patient_id\nP1\n")
    for name in ("DOE_JOHN_19610312.fcs", "SMITH_ANNA.fcs"):
        (data / "assay" / name).write_bytes(b"FCS3.1")
    return tmp_path, nbdir, data


def _run(tmp, nbdir, cohort, **kw):
    logs: list[str] = []
    code = run_pipeline(cohort, notebook_dir=nbdir, results_root=tmp / "results", figures_root=tmp / "figures",
                        private_root=tmp / "private", log=logs.append, **kw)  # fmt: skip
    return code, logs


def _shareable(tmp, cohort_name):
    for root in (tmp / "results" / cohort_name, tmp / "figures" / cohort_name):
        for f in root.rglob("*"):
            if f.is_file():
                yield f


def test_no_absolute_path_or_file_name_in_shareable_outputs(lab):
    tmp, nbdir, data = lab
    cohort = load_cohort(str(data))
    assert cohort.name.startswith("dream_lab-") and str(data) not in cohort.description
    code, logs = _run(tmp, nbdir, cohort)
    assert code == 0, logs
    files = list(_shareable(tmp, cohort.name))
    kinds = {f.suffix for f in files}
    assert {".json", ".ipynb", ".html", ".csv", ".txt"} <= kinds, kinds
    for f in files:
        text = f.read_bytes().decode("utf-8", "replace")
        for secret in (str(tmp), "hospital", "DOE_JOHN", "SMITH_ANNA"):
            assert secret not in text, (f.relative_to(tmp), secret)
    nb = json.loads((tmp / "results" / cohort.name / "01_a" / "01_a.ipynb").read_text())
    assert "data folder parameter: $DREAM_DATA_DIR" in json.dumps(nb)
    assert json.loads((tmp / "results" / cohort.name / "manifest.json").read_text())["data_dir"] == "$DREAM_DATA_DIR"
    # The path cache (keyed by absolute paths) lives in the private folder, not with the results.
    assert (tmp / "private" / cohort.name / "checksums.json").is_file()
    assert not (tmp / "results" / cohort.name / ".state" / "checksums.json").exists()


def test_failure_traceback_is_kept_privately_and_the_summary_is_honest(lab):
    tmp, nbdir, data = lab
    cohort = load_cohort(str(data))
    code, logs = _run(tmp, nbdir, cohort, overrides={"fail": True})
    assert code == 1
    text = "\n".join(logs)
    assert "no earlier outputs" in text and "last good outputs kept" not in text
    assert (tmp / "private" / cohort.name / "failed" / "01_a.ipynb").is_file()
    assert not (tmp / "results" / cohort.name / ".failed").exists()
    assert str(data) not in text and "$DREAM_DATA_DIR" in text  # the error names the folder portably
    manifest = (tmp / "results" / cohort.name / "manifest.json").read_text()
    assert str(tmp) not in manifest
    assert _run(tmp, nbdir, cohort)[0] == 0
    code, logs = _run(tmp, nbdir, cohort, overrides={"fail": True})
    assert code == 1 and "last good outputs kept" in "\n".join(logs)


def test_two_folders_with_the_same_name_never_share_results(lab, tmp_path):
    tmp, nbdir, data = lab
    other = tmp / "other_site" / "dream_lab"
    (other / "assay").mkdir(parents=True)
    (other / "clinical.csv").write_text("patient_id\nP9\n")
    (other / "assay" / "x.fcs").write_bytes(b"FCS3.1")
    a, b = load_cohort(str(data)), load_cohort(str(other))
    assert a.name != b.name and a.name.split("-")[0] == b.name.split("-")[0] == "dream_lab"
    assert load_cohort(str(data)).name == a.name  # stable for one folder
    for c in (a, b):
        assert _run(tmp, nbdir, c)[0] == 0
    counts = [(tmp / "results" / c.name / "01_a" / "counts.csv").read_text() for c in (a, b)]
    assert counts == ["n_files\n2\n", "n_files\n1\n"]
    assert load_cohort("ci").name == "ci"  # named cohorts keep their names


def test_outputs_are_group_readable_under_the_users_umask(lab):
    tmp, nbdir, data = lab
    old = os.umask(0o022)
    try:
        cohort = load_cohort(str(data))
        assert _run(tmp, nbdir, cohort)[0] == 0
    finally:
        os.umask(old)
    checked = 0
    for root in (tmp / "results" / cohort.name, tmp / "figures" / cohort.name):
        for p in [root, *root.rglob("*")]:
            mode = stat.S_IMODE(p.stat().st_mode)
            need = 0o755 if p.is_dir() else 0o644
            assert mode & need == need, (p.relative_to(tmp), oct(mode))
            checked += 1
    assert checked > 8


def _run_all_module():
    spec = importlib.util.spec_from_file_location("run_all", repo_root() / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize(("err", "line"), [(errno.ENOSPC, "no space left on the device"),
                                           (errno.EROFS, "read-only file system")])
def test_disk_full_and_read_only_outputs_give_one_line(lab, monkeypatch, capsys, err, line):
    tmp, nbdir, data = lab
    run_all = _run_all_module()
    import helpers.workflow.schedule as pl

    def broken(*a, **k):
        raise OSError(err, os.strerror(err), str(tmp / "results" / "x"))

    monkeypatch.setattr(pl.tempfile, "mkdtemp", broken)
    monkeypatch.setenv("DREAM_OUTPUT_ROOT", str(tmp / "scratch"))
    code = run_all.main(["--cohort", str(data), "--notebooks-dir", str(nbdir), "--results-root", str(tmp / "results"),
                         "--figures-root", str(tmp / "figures")])  # fmt: skip
    err_text = capsys.readouterr().err.strip()
    assert code == 2
    assert err_text.count("\n") == 0 and line in err_text and "Traceback" not in err_text, err_text


def _start(tmp, nbdir, data, release):
    env = dict(os.environ, DREAM_OUTPUT_ROOT=str(tmp / "scratch"))
    return subprocess.Popen(
        [sys.executable, str(repo_root() / "run_all.py"), "--cohort", str(data), "--notebooks-dir", str(nbdir),
         "--results-root", str(tmp / "results"), "--figures-root", str(tmp / "figures"), "-p", f"wait_for={release}"],
        cwd=repo_root(), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip


def _wait_for(path: Path, proc: subprocess.Popen, limit: float = 300) -> None:
    import time

    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() - t0 < limit, "the notebook never started"
        time.sleep(0.2)


def test_a_second_run_on_the_same_cohort_is_refused_and_the_first_completes(lab):
    tmp, nbdir, data = lab
    release = tmp / "release"
    first = _start(tmp, nbdir, data, release)
    try:
        _wait_for(Path(str(release) + ".pid"), first)
        code, logs = _run(tmp, nbdir, load_cohort(str(data)))
        assert code == 2 and any("another run of cohort dream_lab-" in ln for ln in logs), logs
        release.write_text("go")
        out, _ = first.communicate(timeout=600)
        assert first.returncode == 0, out
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    cohort = load_cohort(str(data))
    manifest = json.loads((tmp / "results" / cohort.name / "manifest.json").read_text())
    assert manifest["notebooks"]["01_a"]["status"] == "ok"
    assert not (tmp / "results" / cohort.name / ".staging").exists()


def test_sigkill_of_run_all_leaves_no_process_behind(lab):
    import time

    tmp, nbdir, data = lab
    release = tmp / "never"
    proc = _start(tmp, nbdir, data, release)
    marker = Path(str(release) + ".pid")
    kernel = None
    try:
        _wait_for(marker, proc)
        kernel, worker = (int(x) for x in marker.read_text().split())
        assert psutil.Process(worker).ppid() == proc.pid  # the kernel's parent is run_all's pool worker
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        t0 = time.monotonic()

        def alive(pid):
            try:
                return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
            except psutil.NoSuchProcess:
                return False

        while (alive(worker) or alive(kernel)) and time.monotonic() - t0 < 120:
            time.sleep(0.2)
        assert not alive(worker), "pool worker outlived the killed run"
        assert not alive(kernel), "kernel outlived the killed run"
    finally:
        mine = [p.pid for p in psutil.process_iter() if _session_of(p) == proc.pid]
        if kernel is not None and psutil.pid_exists(kernel):
            mine.append(kernel)  # the kernel runs in a session of its own
        for pid in mine:  # only processes of the run this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _session_of(p: psutil.Process) -> int | None:
    try:
        return os.getsid(p.pid)
    except (ProcessLookupError, PermissionError):
        return None


@pytest.mark.slow
def test_cytometry_notebook_on_a_lab_folder_shares_no_path_or_instrument_file_name(ci_cohort, tmp_path):
    import shutil

    import pandas as pd

    lab = tmp_path / "Klinikum_Nord" / "dream_2026"
    (lab / "cytometry").mkdir(parents=True)
    for f in ("clinical.csv", "samples.csv"):
        shutil.copyfile(ci_cohort / f, lab / f)
    src = ci_cohort / "cytometry"
    for f in src.iterdir():
        if f.is_file():
            shutil.copyfile(f, lab / "cytometry" / f.name)
    sheet = pd.read_csv(src / "sample_sheet.csv", dtype=str, keep_default_na=False)
    (lab / "cytometry" / "export").mkdir()
    names = [f"export/MUSTERMANN_ERIKA_{i:03d}.fcs" for i in range(len(sheet))]
    for old, new in zip(sheet["file"], names, strict=True):
        shutil.copyfile(src / old, lab / "cytometry" / new)
    sheet.assign(file=names).to_csv(lab / "cytometry" / "sample_sheet.csv", index=False)
    # The batch and MRD reference controls are instrument files too: patient-like names for them as well.
    controls = pd.read_csv(src / "reference_controls.csv", dtype=str, keep_default_na=False)
    control_names = [f"export/KONTROLLE_MEIER_{i:03d}.fcs" for i in range(len(controls))]
    for old, new in zip(controls["file"], control_names, strict=True):
        shutil.copyfile(src / old, lab / "cytometry" / new)
    controls.assign(file=control_names).to_csv(lab / "cytometry" / "reference_controls.csv", index=False)
    cohort = load_cohort(str(lab))
    logs: list[str] = []
    code = run_pipeline(cohort, only=["02_cytometry"], results_root=tmp_path / "results",
                        figures_root=tmp_path / "figures", private_root=tmp_path / "private", log=logs.append)
    assert code == 0, logs
    files = list(_shareable(tmp_path, cohort.name))
    assert any(f.name == "qc.csv" for f in files) and any(f.suffix == ".png" for f in files)
    for f in files:
        text = f.read_bytes().decode("latin-1")
        for secret in (str(tmp_path), "Klinikum", "MUSTERMANN", "KONTROLLE_MEIER"):
            assert secret not in text, (f.relative_to(tmp_path), secret)
    qc = pd.read_csv(tmp_path / "results" / cohort.name / "02_cytometry" / "qc.csv")
    assert "file" not in qc and qc["tube_id"].is_unique
