"""Binder and installation outside a checkout: environment.yml, postBuild, the wheel in a fresh venv, the lock."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from helpers.paths import repo_root
from helpers.registry import dataset_digest, load_registry

ROOT = repo_root()
sys.path.insert(0, str(ROOT / "tools"))
from sync_environment import lock_pins  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from test_registry import _serve  # noqa: E402

# repo2docker's conda build pack reads the Python version with this pattern (repo2docker/buildpacks/conda) and has
# conda lock files for these versions only; anything else fails the build.
R2D_PYTHON = re.compile(r"python\s*=+\s*([\d\.]*)")
R2D_PYTHONS = {"3.8", "3.9", "3.10", "3.11", "3.12", "3.13"}


def test_environment_yml_is_what_repo2docker_accepts():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert isinstance(env, dict), "repo2docker: environment.yml should contain a dictionary"
    deps = env["dependencies"]
    assert isinstance(deps, list)
    pythons = [R2D_PYTHON.match(d) for d in deps if isinstance(d, str) and d.startswith("python")]
    assert len(pythons) == 1 and pythons[0].group(1) in R2D_PYTHONS
    assert "pip" in deps  # the pip section needs pip itself
    pip = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert len(pip) == 1
    # The same exact pins as requirements.lock, nothing else (the helper package itself comes from postBuild).
    pins = dict(line.split("==") for line in pip[0])
    assert {k.lower(): v for k, v in pins.items()} == lock_pins()
    # Binder takes the root's files only when there is no binder/ folder; postBuild must be executable.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    assert (ROOT / "postBuild").stat().st_mode & stat.S_IXUSR
    # A requirements.txt beside environment.yml would be ignored by repo2docker: there must be none to mislead.
    assert not (ROOT / "requirements.txt").exists()


def test_readme_has_a_binder_badge():
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"\[!\[Binder\]\(https://mybinder.org/badge_logo.svg\)\]\(https://mybinder.org/v2/", readme)


def test_every_dependency_is_pinned_by_the_lock():
    """``pip install . -c requirements.lock`` installs the lock's versions: each dependency must be in it."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + project["optional-dependencies"]["test"]
    pins = lock_pins()
    for spec in names:
        name = re.split(r"[\[<>=!~ ]", spec, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pins, f"{name} is not pinned in requirements.lock"


def _postbuild_env(tmp_path: Path) -> dict:
    """postBuild's environment with ``python -m pip`` stubbed (the package is already installed in this venv)."""
    shim = tmp_path / "bin"
    shim.mkdir()
    (shim / "python").write_text(textwrap.dedent(f"""\
        #!/bin/bash
        if [[ "$1 $2" == "-m pip" ]]; then echo "pip $*" >> "{tmp_path}/pip.log"; exit 0; fi
        exec "{sys.executable}" "$@"
    """))
    (shim / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DREAM_")}
    env.update(PATH=f"{shim}:{os.environ['PATH']}", HOME=str(tmp_path / "home"), NB_PYTHON_PREFIX=str(tmp_path / "prefix"),
               DREAM_PUBLIC_DATA=str(tmp_path / "mirror"))  # fmt: skip
    env.pop("XDG_CACHE_HOME", None)
    return env


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


def test_postbuild_without_any_data_source_still_builds(tmp_path):
    env = _postbuild_env(tmp_path)
    out = subprocess.run(["bash", str(ROOT / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    # Without a mirror the registry tries the dataset's upstream (no network here; and two of its files are derived,
    # mirror-only): the build goes on either way.
    assert "public data not downloadable" in out.stderr
    assert "cannot download" in out.stderr or "not in its upstream" in out.stderr
    assert (tmp_path / "prefix" / "share" / "jupyter" / "lab" / "settings" / "overrides.json").is_file()


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
