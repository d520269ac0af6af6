"""The public-data registry: fetching datasets over HTTP (checksum, resume) and the package's own data.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_registry.py``.
"""

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


def test_fetch_command_line(mirror, tmp_path, capsys):
    _, url = mirror
    assert registry.main(["fetch", "transforms", "--url", url, "--dest", str(tmp_path), "--no-progress"]) == 0
    assert "transforms: ok" in capsys.readouterr().out
    assert registry.main(["fetch", "transforms", "--url", "http://127.0.0.1:9", "--dest", str(tmp_path / "x"),
                          "--no-progress"]) == 1


def _upstream_tree(public_data: Path, root: Path, name: str, layout: dict[str, str]) -> None:
    """Lay the mirror's files of ``name`` out as its upstream repository holds them (paths written by hand)."""
    folder = public_data / load_registry()[name]["path"]
    for rel, upstream_path in layout.items():
        target = root / upstream_path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder / rel, target)


def test_fetch_from_the_upstream_without_a_mirror(public_data, tmp_path, monkeypatch):
    monkeypatch.delenv(registry.MIRROR_URL_ENV, raising=False)
    served = tmp_path / "github"
    repo = "Sage-Bionetworks-Challenges/CTD2-BeatAML-Challenge/06bfe74fdb930fcfb771ea44f07751a7ffa2257b"
    _upstream_tree(public_data, served, "ctd2_beataml", {
        "all-responses-with-metadata.csv": f"{repo}/analysis/all-responses-with-metadata.csv",
        "beataml-published-survival.csv": f"{repo}/analysis/beataml-published-survival.csv"})  # fmt: skip
    splintr = "DaneVass/bartools/cece95367b3eae4bb2a8a7f981d3b5e89b0ba6fc"
    _upstream_tree(public_data, served, "bartools_splintr",
                   {"sample_table.csv": f"{splintr}/inst/extdata/test_sampletable.csv"})
    server, url = _serve(served)
    monkeypatch.setattr(registry, "GITHUB_RAW", url)
    dest = tmp_path / "dest"
    try:
        got = fetch(["ctd2_beataml"], dest=dest, progress=False)
        assert dataset_digest(got["ctd2_beataml"]) == load_registry()["ctd2_beataml"]["sha256"]
        assert sorted(p for p, _ in server.requests) == [f"/{repo}/analysis/all-responses-with-metadata.csv",
                                                         f"/{repo}/analysis/beataml-published-survival.csv"]
        # A dataset with a derived file: the upstream file arrives, the derived one is named as mirror-only.
        with pytest.raises(PublicDataMissing, match="counts_bm.tsv"):
            fetch(["bartools_splintr"], dest=dest, progress=False)
        folder = dest / load_registry()["bartools_splintr"]["path"]
        assert (folder / "sample_table.csv").read_bytes() == (
            public_data / load_registry()["bartools_splintr"]["path"] / "sample_table.csv").read_bytes()
        assert not (folder / "counts_bm.tsv").exists()
        # A corrupted upstream file fails its sha256 check like a mirror's.
        victim = served / repo / "analysis" / "beataml-published-survival.csv"
        data = bytearray(victim.read_bytes())
        data[5] ^= 1
        victim.write_bytes(bytes(data))
        (got["ctd2_beataml"] / "beataml-published-survival.csv").unlink()
        with pytest.raises(ChecksumMismatch, match="sha256"):
            fetch(["ctd2_beataml"], dest=dest, progress=False)
    finally:
        server.shutdown()
        server.server_close()
    # The mirror-only file then comes from a mirror; what is in place is not downloaded again.
    server, url = _serve(public_data)
    try:
        fetch(["bartools_splintr"], dest=dest, url=url, progress=False)
        assert [p for p, _ in server.requests] == [f"/{load_registry()['bartools_splintr']['path']}/counts_bm.tsv"]
        assert verify_dataset_at(dest, "bartools_splintr")
    finally:
        server.shutdown()
        server.server_close()


def verify_dataset_at(root: Path, name: str) -> bool:
    return dataset_digest(root / load_registry()[name]["path"]) == load_registry()[name]["sha256"]


def test_binder_path_fetches_what_the_upstream_has_and_simulates_the_cohort(public_data, tmp_path, monkeypatch):
    # What postBuild does on Binder, where there is no mirror: fetch the gene sets from their upstream repository
    # (three files public at the pinned commit; the two derived files are mirror-only), then simulate the CI cohort
    # from those files alone.
    monkeypatch.delenv(registry.MIRROR_URL_ENV, raising=False)
    served = tmp_path / "github"
    repo = "andygxzeng/AMLHierarchies/" + load_registry()["aml_gene_sets"]["commit"]
    layout = {rel: f"{repo}/{path}" for rel, path in load_registry()["aml_gene_sets"]["upstream"]["files"].items()}
    _upstream_tree(public_data, served, "aml_gene_sets", layout)
    server, url = _serve(served)
    monkeypatch.setattr(registry, "GITHUB_RAW", url)
    dest = tmp_path / "cache"
    try:
        with pytest.raises(PublicDataMissing, match="aml_signatures.json"):
            fetch(["aml_gene_sets"], dest=dest, progress=False)
        got = fetch(["aml_gene_sets"], dest=dest, progress=False, available_only=True)
    finally:
        server.shutdown()
        server.server_close()
    assert sorted(p.name for p in got["aml_gene_sets"].iterdir()) == sorted(layout)
    env = {**__import__("os").environ, "DREAM_PUBLIC_DATA": str(dest)}
    out = __import__("subprocess").run(
        [__import__("sys").executable, "-m", "helpers.simulate", "--scale", "ci", "--out", str(tmp_path / "ci")],
        env=env, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    assert (tmp_path / "ci" / "scrna" / "sample_sheet.csv").is_file()
    assert (tmp_path / "ci" / "samples.csv").is_file()
