"""A real Jupyter server opens the Jupytext .py notebooks as notebooks (contents API), parameters cell included."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time

import pytest
import requests

from helpers.paths import repo_root


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_TOKEN=token)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={repo_root()}", "--ServerApp.open_browser=False", "--allow-root"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"{base}/api/status", headers=headers, timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail(f"jupyter server did not start: {proc.stderr.read().decode()[-2000:]}")
    yield base, headers
    proc.terminate()
    proc.wait(timeout=20)


def test_py_notebook_opens_as_notebook_with_parameters(server):
    base, headers = server
    r = requests.get(f"{base}/api/contents/notebooks/00_cohort.py", params={"type": "notebook"}, headers=headers, timeout=30)
    assert r.status_code == 200, r.text
    model = r.json()
    assert model["type"] == "notebook"
    cells = model["content"]["cells"]
    tagged = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "data_dir" in tagged[0]["source"]
    assert model["content"]["metadata"]["kernelspec"]["name"] == "python3"


def test_listing_shows_py_notebooks_as_notebooks(server):
    base, headers = server
    listing = requests.get(f"{base}/api/contents/notebooks", headers=headers, timeout=30).json()
    types = {item["name"]: item["type"] for item in listing["content"]}
    assert types["00_cohort.py"] == "notebook"
