"""The lock, pyproject.toml and environment.yml agree, and the lock avoids known traps."""

from __future__ import annotations

import re
import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]  # tests/unit/ is two levels below the root
sys.path.insert(0, str(ROOT / "tools"))
from sync_environment import lock_pins  # noqa: E402


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.sub(r"\[.*\]", "", name)).lower()


@pytest.fixture(scope="module")
def pins() -> dict[str, str]:
    return {_norm(k): v for k, v in lock_pins(ROOT / "requirements.lock").items()}


def test_every_pyproject_dependency_is_pinned_in_the_lock(pins):
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    for req in reqs:
        name = _norm(re.match(r"^[A-Za-z0-9_.\-\[\]]+", req).group(0))
        assert name in pins, f"{name} is in pyproject.toml but not pinned in requirements.lock"
        if "==" in req:
            assert pins[name] == req.split("==")[1].split(";")[0].strip(), f"{name}: pyproject and lock disagree"


def test_environment_yml_installs_exactly_the_lock(pins):
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.12" in deps
    pip_section = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    env_pins = {_norm(p.split("==")[0]): p.split("==")[1] for p in pip_section}
    assert env_pins == pins


def test_known_traps_are_avoided(pins):
    # pynndescent 0.7.0 breaks sc.pp.neighbors above 4,096 cells with scanpy 1.12.4; 0.6.0 works.
    assert pins["pynndescent"] == "0.6.0"
    assert pins["scanpy"].startswith("1.12")


def test_the_running_environment_is_the_lock(pins):
    assert sys.version_info[:2] == (3, 12)
    for name in ("numpy", "pandas", "scanpy", "anndata", "papermill", "jupytext", "flowkit", "pydeseq2"):
        assert version(name) == pins[name], f"installed {name} {version(name)} differs from the lock"


def test_setup_finds_a_python_312_by_itself():
    import subprocess

    out = subprocess.run(["bash", str(ROOT / "tools" / "find_python.sh")], capture_output=True, text=True, check=True)
    found = out.stdout.strip()
    ver = subprocess.run([found, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert ver.stdout.strip() == "(3, 12)"
    bad = subprocess.run(["/bin/bash", str(ROOT / "tools" / "find_python.sh")], capture_output=True, text=True,
                         env={"PATH": "/nonexistent", "HOME": "/nonexistent"})
    assert bad.returncode != 0 and "no Python 3.12" in bad.stderr
