"""The public-data registry: fetching datasets over HTTP (checksum, resume) and the package's own data.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_registry_public_data.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import registry
from helpers.registry import PublicDataMissing, fetch, load_manifest, load_registry


def test_unreachable_mirror_and_missing_address_are_clear(tmp_path, monkeypatch):
    monkeypatch.delenv(registry.MIRROR_URL_ENV, raising=False)
    with pytest.raises(PublicDataMissing, match="no download address"):
        fetch(["transforms"], dest=tmp_path, progress=False)
    with pytest.raises(PublicDataMissing, match="cannot download"):
        fetch(["transforms"], dest=tmp_path, url="http://127.0.0.1:9", progress=False)
    with pytest.raises(KeyError, match="unknown dataset"):
        fetch(["nope"], dest=tmp_path, progress=False)


def test_registry_ships_inside_the_package():
    from importlib import resources

    data = resources.files("helpers") / "data"
    assert (data / "registry.yaml").is_file() and (data / "registry_files.tsv").is_file()
    # The checkout's data/registry.yaml is the same file (a link), not a second copy that could drift.
    root = Path(registry.__file__).resolve().parents[2]
    assert (root / "data" / "registry.yaml").resolve() == Path(str(data / "registry.yaml")).resolve()


# --- upstream addresses at the pinned commit ----------------------------------------------------------------------

RAW = "https://raw.githubusercontent.com"


def test_upstream_urls_at_the_pinned_commit():
    beat = registry.upstream_urls("beataml2")
    commit = "ba94cef2fb73f7e9ac7b66250c549cc6350dd7ce"
    assert beat["cohort.json"] == f"{RAW}/morabitoaj-ops/beataml-explorer/{commit}/web/data/cohort.json"
    assert beat["dose/2014.json"] == f"{RAW}/morabitoaj-ops/beataml-explorer/{commit}/web/data/dose/2014.json"
    assert beat["LICENSE"] == f"{RAW}/morabitoaj-ops/beataml-explorer/{commit}/LICENSE"  # the repository's own
    comp = registry.upstream_urls("compensation")
    assert comp["single_ellipse_51_events.wsp"] == (
        f"{RAW}/whitews/FlowKit/f2159043b6a56e527d4baacf97490caf8354618e/data/simple_line_example/"
        "single_ellipse_51_events.wsp")
    splintr = registry.upstream_urls("bartools_splintr")
    assert splintr["sample_table.csv"].endswith("/DaneVass/bartools/cece95367b3eae4bb2a8a7f981d3b5e89b0ba6fc/"
                                                "inst/extdata/test_sampletable.csv")
    assert splintr["counts_bm.tsv"] is None  # derived from the package's .rda: mirror only
    assert set(registry.upstream_urls("transforms").values()) == {None}  # no public repository


def test_every_upstream_block_is_consistent():
    manifest = load_manifest()
    for name, entry in load_registry().items():
        up = entry.get("upstream")
        if not up:
            continue
        files = {rel for rel, _, _ in manifest[name]}
        assert set(up.get("files") or {}) <= files, name
        for pat in up.get("missing") or []:
            assert any(__import__("fnmatch").fnmatchcase(f, pat) for f in files), (name, pat)
        urls = registry.upstream_urls(name)  # raises on a short commit or a source that is not a repository
        assert any(urls.values()), name
        assert all(u.startswith("https://") and " " not in u for u in urls.values() if u), name


def test_urls_command_line(capsys):
    assert registry.main(["urls", "bartools_splintr"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["bartools_splintr\tcounts_bm.tsv\t-",
                     "bartools_splintr\tsample_table.csv\t" + registry.upstream_urls("bartools_splintr")["sample_table.csv"]]
