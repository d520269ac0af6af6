"""The compendium as used in Jupyter: opening is not editing, figures show inline, headless stays headless.

This file holds the unit tests (the unit tier); the tests that execute notebooks are in
``tests/pipeline/test_jupyter_pipeline.py``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from helpers.paths import repo_root

ROOT = repo_root()
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    """A real Jupyter server (with Jupytext's contents manager) on a copy of the notebooks, configured as `make lab`.

    It gets the same ``JUPYTER_CONFIG_PATH`` as ``make lab`` and no ``--allow-root``: when the suite runs as root,
    the server starting at all shows that ``make lab`` works as root.
    """
    root = tmp_path_factory.mktemp("lab")
    (root / "notebooks").mkdir()
    for nb in NOTEBOOKS:
        shutil.copy2(nb, root / "notebooks" / nb.name)
    shutil.copy2(ROOT / "jupytext.toml", root / "jupytext.toml")
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_CONFIG_PATH=str(ROOT / "config" / "jupyterlab"),
        JUPYTER_CONFIG_DIR=str(root / ".jupyter"),  # no user configuration
        JUPYTER_RUNTIME_DIR=str(root / ".runtime"),
    )
    log = open(root / "server.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/api/contents/"

    def call(method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(
            base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=120) as resp:
            return json.load(resp)

    # Readiness, not timing: wait (generously) until the server answers or has exited.
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            log.close()
            pytest.fail(f"jupyter server exited ({proc.returncode}):\n{(root / 'server.log').read_text()[-3000:]}")
        try:
            call("GET", "")
            break
        except (urllib.error.URLError, ConnectionError):
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("jupyter server did not answer")
            time.sleep(0.5)
    yield root, call
    proc.terminate()
    proc.wait(timeout=60)
    log.close()


def test_py_notebook_opens_as_notebook_with_parameters(jupyter_server):
    _, call = jupyter_server
    model = call("GET", "notebooks/00_cohort.py?type=notebook&content=1")
    assert model["type"] == "notebook"
    tagged = [c for c in model["content"]["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "data_dir" in "".join(tagged[0]["source"])
    assert model["content"]["metadata"]["kernelspec"]["name"] == "python3"


def test_listing_shows_py_notebooks_as_notebooks(jupyter_server):
    _, call = jupyter_server
    types = {item["name"]: item["type"] for item in call("GET", "notebooks")["content"]}
    assert all(types[nb.name] == "notebook" for nb in NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("name", [nb.name for nb in NOTEBOOKS])
def test_open_run_save_leaves_the_py_byte_identical(jupyter_server, name):
    root, call = jupyter_server
    path = root / "notebooks" / name
    before = path.read_bytes()
    model = call("GET", f"notebooks/{name}?type=notebook&content=1")
    nb = model["content"]
    assert nb["cells"], "the contents manager did not read the notebook"
    # What running every cell in JupyterLab adds: the kernel's spec and language, outputs, execution metadata.
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nb["metadata"]["language_info"] = {"name": "python", "version": sys.version.split()[0], "mimetype": "text/x-python",
                                       "file_extension": ".py", "codemirror_mode": {"name": "ipython", "version": 3}}
    for i, cell in enumerate(nb["cells"]):
        cell["metadata"]["execution"] = {"iopub.execute_input": "2026-01-01T00:00:00.000Z"}
        cell["metadata"]["scrolled"] = True
        if cell["cell_type"] == "code":
            cell["execution_count"] = i + 1
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "output\n"}]
    call("PUT", f"notebooks/{name}", {"type": "notebook", "format": "json", "content": nb})
    after = path.read_bytes()
    assert after == before, f"saving {name} without edits changed it:\n{after.decode()[:800]}"
    # The outputs went nowhere: no .ipynb was paired beside it.
    assert not list((root / "notebooks").glob("*.ipynb"))


def test_lab_settings_open_py_as_notebooks_and_allow_root():
    overrides = json.loads((ROOT / "config" / "jupyterlab" / "overrides.json").read_text())
    assert overrides["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == "Jupytext Notebook"
    server = json.loads((ROOT / "config" / "jupyterlab" / "jupyter_server_config.json").read_text())
    assert server["ServerApp"]["allow_root"] is True
    recipe = (ROOT / "Makefile").read_text().split("\nlab:", 1)[1].split("\n\n", 1)[0]
    assert "JUPYTER_CONFIG_PATH" in recipe and "config/jupyterlab" in recipe


FIGURE_CELL = """
import matplotlib.pyplot as plt
from helpers.plotting import save_figure
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
paths = save_figure(fig, "panel")
print(sorted(p.name for p in paths), plt.get_fignums())
"""


def test_headless_save_displays_nothing_and_keeps_the_figure_open(tmp_path):
    code = FIGURE_CELL + "\nimport sys; print('IPython' in sys.modules)\n"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True,
                         env=dict(os.environ, MPLBACKEND="Agg"))  # fmt: skip
    assert out.stdout.splitlines() == ["['panel.pdf', 'panel.png'] [1]", "False"]
    assert "Image object" not in out.stdout
