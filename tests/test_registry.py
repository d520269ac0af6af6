"""The public-data registry: fetching datasets over HTTP (checksum, resume) and the package's own data."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest

from helpers import registry
from helpers.registry import (
    ChecksumMismatch,
    PublicDataMissing,
    dataset_digest,
    dataset_path,
    fetch,
    load_manifest,
    load_registry,
    verify_dataset,
)

SMALL = ["transforms", "fimm_dss", "aml_gene_sets"]  # a few small datasets, one of them needed by the simulator


@pytest.mark.parametrize("name", sorted(load_registry()))
def test_dataset_present_and_unchanged(public_data, name):
    assert verify_dataset(name), f"{name}: files in the mirror differ from the registered digest"


def test_unknown_dataset_and_missing_mirror(monkeypatch, tmp_path):
    with pytest.raises(KeyError, match="unknown dataset"):
        dataset_path("no_such_dataset")
    monkeypatch.setenv("DREAM_PUBLIC_DATA", str(tmp_path))
    with pytest.raises(PublicDataMissing, match="DREAM_PUBLIC_DATA"):
        dataset_path("beataml2")


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with single ``Range: bytes=N-`` support (the standard handler ignores ranges); logs requests."""

    honour_ranges = True

    def log_message(self, *args):  # quiet
        pass

    def send_head(self):
        self.server.requests.append((self.path, self.headers.get("Range")))
        rng = self.headers.get("Range")
        path = Path(self.translate_path(self.path))
        if not (rng and self.honour_ranges and path.is_file()):
            return super().send_head()
        start = int(rng.removeprefix("bytes=").split("-")[0])
        data = path.read_bytes()
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        import io

        return io.BytesIO(data[start:])


class _NoRangeHandler(_RangeHandler):
    honour_ranges = False


def _serve(root: Path, handler=_RangeHandler):
    cls = type("H", (handler,), {})

    def factory(*args, **kwargs):
        return cls(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def mirror(public_data):
    server, url = _serve(public_data)
    yield server, url
    server.shutdown()
    server.server_close()


def test_manifest_covers_every_dataset_and_matches_registered_digests(public_data):
    manifest, reg = load_manifest(), load_registry()
    assert set(manifest) == set(reg)
    for name, entry in reg.items():
        assert len(manifest[name]) == entry["files"], name
        folder = public_data / entry["path"]
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) == sorted(
            rel for rel, _, _ in manifest[name]
        ), name


def test_fetch_over_http_reproduces_the_mirror(mirror, public_data, tmp_path):
    server, url = mirror
    got = fetch(SMALL, dest=tmp_path, url=url, progress=False)
    for name in SMALL:
        folder = tmp_path / load_registry()[name]["path"]
        assert got[name] == folder
        assert dataset_digest(folder) == load_registry()[name]["sha256"]
        assert not list(folder.rglob("*.part"))
    n_files = sum(len(load_manifest()[n]) for n in SMALL)
    assert len(server.requests) == n_files
    # A second fetch finds everything in place and downloads nothing.
    fetch(SMALL, dest=tmp_path, url=url, progress=False)
    assert len(server.requests) == n_files


def test_fetch_resumes_a_partial_download(mirror, public_data, tmp_path):
    server, url = mirror
    name = "aml_gene_sets"
    rel, size, _ = max(load_manifest()[name], key=lambda f: f[1])
    folder = tmp_path / load_registry()[name]["path"]
    folder.mkdir(parents=True)
    src = (public_data / load_registry()[name]["path"] / rel).read_bytes()
    (folder / f"{rel}.part").write_bytes(src[: size // 2])
    fetch([name], dest=tmp_path, url=url, progress=False)
    assert (folder / rel).read_bytes() == src
    ranges = [r for path, r in server.requests if path.endswith(rel)]
    assert ranges == [f"bytes={size // 2}-"]


def test_fetch_restarts_when_the_server_ignores_the_range(public_data, tmp_path):
    server, url = _serve(public_data, _NoRangeHandler)
    try:
        name = "transforms"
        (rel, size, _), = load_manifest()[name]
        folder = tmp_path / load_registry()[name]["path"]
        folder.mkdir(parents=True)
        src = (public_data / load_registry()[name]["path"] / rel).read_bytes()
        (folder / f"{rel}.part").write_bytes(src[:100])
        fetch([name], dest=tmp_path, url=url, progress=False)
        assert (folder / rel).read_bytes() == src
    finally:
        server.shutdown()
        server.server_close()


def test_checksum_failure_is_reported_and_leaves_nothing(public_data, tmp_path):
    name = "fimm_dss"
    served = tmp_path / "served"
    shutil.copytree(public_data / load_registry()[name]["path"], served / load_registry()[name]["path"])
    victim = sorted((served / load_registry()[name]["path"]).rglob("*.csv"))[0]
    data = bytearray(victim.read_bytes())
    data[10] ^= 1  # same size, one bit flipped
    victim.write_bytes(bytes(data))
    server, url = _serve(served)
    dest = tmp_path / "dest"
    try:
        with pytest.raises(ChecksumMismatch, match="sha256"):
            fetch([name], dest=dest, url=url, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    target = dest / load_registry()[name]["path"] / victim.relative_to(served / load_registry()[name]["path"])
    assert not target.exists() and not target.with_name(target.name + ".part").exists()


def test_unreachable_mirror_and_missing_address_are_clear(tmp_path, monkeypatch):
    monkeypatch.delenv(registry.MIRROR_URL_ENV, raising=False)
    with pytest.raises(PublicDataMissing, match="no download address"):
        fetch(["transforms"], dest=tmp_path, progress=False)
    with pytest.raises(PublicDataMissing, match="cannot download"):
        fetch(["transforms"], dest=tmp_path, url="http://127.0.0.1:9", progress=False)
    with pytest.raises(KeyError, match="unknown dataset"):
        fetch(["nope"], dest=tmp_path, progress=False)


def test_fetch_command_line(mirror, tmp_path, capsys):
    _, url = mirror
    assert registry.main(["fetch", "transforms", "--url", url, "--dest", str(tmp_path), "--no-progress"]) == 0
    assert "transforms: ok" in capsys.readouterr().out
    assert registry.main(["fetch", "transforms", "--url", "http://127.0.0.1:9", "--dest", str(tmp_path / "x"),
                          "--no-progress"]) == 1


def test_registry_ships_inside_the_package():
    from importlib import resources

    data = resources.files("helpers") / "data"
    assert (data / "registry.yaml").is_file() and (data / "registry_files.tsv").is_file()
    # The checkout's data/registry.yaml is the same file (a link), not a second copy that could drift.
    root = Path(registry.__file__).resolve().parents[2]
    assert (root / "data" / "registry.yaml").resolve() == Path(str(data / "registry.yaml")).resolve()
