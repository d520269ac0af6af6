"""Binder and installation outside a checkout: environment.yml, postBuild, the wheel in a fresh venv, the lock.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_binder_public_data.py``.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from helpers.paths import repo_root

ROOT = repo_root()
sys.path.insert(0, str(ROOT / "tools"))
from sync_environment import lock_pins  # noqa: E402

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


def test_postbuild_without_any_data_source_still_builds(tmp_path):
    env = _postbuild_env(tmp_path)
    out = subprocess.run(["bash", str(ROOT / "postBuild")], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    # Without a mirror the registry tries the dataset's upstream (no network here; and two of its files are derived,
    # mirror-only): the build goes on either way.
    assert "public data not downloadable" in out.stderr
    assert "cannot download" in out.stderr or "not in its upstream" in out.stderr
    assert (tmp_path / "prefix" / "share" / "jupyter" / "lab" / "settings" / "overrides.json").is_file()
