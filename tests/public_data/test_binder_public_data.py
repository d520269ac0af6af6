"""Binder and installation outside a checkout: environment.yml, postBuild, the wheel in a fresh venv, the lock.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_binder.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_binder import _postbuild_env  # shared with the unit part
from test_registry_public_data import _serve

from helpers.paths import repo_root
from helpers.registry import dataset_digest, load_registry

ROOT = repo_root()


@pytest.mark.slow
def test_postbuild_without_the_mirror_fetches_then_simulates(public_data, tmp_path, ci_cohort):
    server, url = _serve(public_data)
    try:
        env = _postbuild_env(tmp_path) | {"DREAM_DATA_URL": url}
        out = subprocess.run(["bash", str(ROOT / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True)
    finally:
        server.shutdown()
        server.server_close()
    assert out.returncode == 0, out.stderr[-3000:]
    assert "install --no-deps -e ." in (tmp_path / "pip.log").read_text()
    entry = load_registry()["aml_gene_sets"]
    assert dataset_digest(tmp_path / "mirror" / entry["path"]) == entry["sha256"]
    assert (tmp_path / "prefix" / "share" / "jupyter" / "lab" / "settings" / "overrides.json").is_file()
    assert (tmp_path / "prefix" / "etc" / "jupyter" / "jupyter_server_config.json").is_file()
    assert (ROOT / "data" / "simulated" / "ci" / "clinical.csv").is_file()


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_a_checkout(public_data, tmp_path):
    """Build the wheel, install it in a fresh venv, and read public data from a folder that is not a checkout."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                    str(ROOT)], check=True, capture_output=True)  # fmt: skip
    (wheel,) = wheels.glob("dream_helpers-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # The fresh venv gets the compendium's pinned dependencies from this venv's site-packages (a path entry, not a
    # site dir, so this venv's editable install of the helpers is not seen), and the helpers only from the wheel.
    site = next(Path(p) for p in sys.path if p.endswith("site-packages") and Path(p, "pandas").is_dir())
    fresh_site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                              text=True).strip())  # fmt: skip
    (fresh_site / "deps.pth").write_text(f"{site}\n")
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)], check=True,
                   capture_output=True)  # fmt: skip
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    code = textwrap.dedent("""\
        import helpers, helpers.registry as r
        from helpers.scrna.genesets import hallmark_sets
        sets = hallmark_sets()
        print(helpers.__file__)
        print(len(sets), len(r.load_registry()), r.verify_dataset("aml_gene_sets"))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["DREAM_PUBLIC_DATA"] = str(public_data)
    out = subprocess.run([str(py), "-c", code], cwd=outside, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    where, numbers = out.stdout.splitlines()
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout
    n_sets, n_registered, ok = numbers.split()
    assert int(n_sets) == 50 and int(n_registered) == len(load_registry()) and ok == "True"
    # The console scripts are installed and answer --version.
    for script in ("dream-run", "dream-dst", "dream-cytometry", "dream-scrna", "dream-barcodes", "dream-check"):
        v = subprocess.run([str(venv / "bin" / script), "--version"], cwd=outside, env=env, capture_output=True,
                           text=True)  # fmt: skip
        assert v.returncode == 0 and v.stdout.strip() == f"{script} 0.1.0", (script, v.stdout, v.stderr)
    shutil.rmtree(venv)
