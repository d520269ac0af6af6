"""Folder resolution shared by the notebooks."""

from __future__ import annotations

from helpers.paths import output_folders, repo_root, resolve


def test_output_folders_resolve_against_root_and_exist(tmp_path):
    absolute = tmp_path / "results" / "x" / "01_dst"
    out, figs = output_folders(absolute, tmp_path / "figures" / "x" / "01_dst")
    assert out == absolute and out.is_dir() and figs.is_dir()
    assert resolve("results/ci/01_dst") == repo_root() / "results" / "ci" / "01_dst"
    assert output_folders(absolute) == (absolute,)  # existing folders are fine
