"""Folder resolution shared by the notebooks."""

from __future__ import annotations

from helpers.paths import output_folders, repo_root, resolve


def test_output_folders_resolve_against_root_and_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("DREAM_OUTPUT_ROOT", raising=False)
    absolute = tmp_path / "results" / "x" / "01_dst"
    out, figs = output_folders(absolute, tmp_path / "figures" / "x" / "01_dst")
    assert out == absolute and out.is_dir() and figs.is_dir()
    assert resolve("results/ci/01_dst") == repo_root() / "results" / "ci" / "01_dst"
    assert output_folders(absolute) == (absolute,)  # existing folders are fine


def test_output_root_redirects_only_results_and_figures(tmp_path, monkeypatch):
    monkeypatch.setenv("DREAM_OUTPUT_ROOT", str(tmp_path))
    assert resolve("results/ci/05_integration") == tmp_path.resolve() / "results" / "ci" / "05_integration"
    assert resolve("figures/ci/01_dst") == tmp_path.resolve() / "figures" / "ci" / "01_dst"
    assert resolve("data/simulated/ci") == repo_root() / "data" / "simulated" / "ci"  # inputs stay in place
    assert resolve(tmp_path / "elsewhere") == tmp_path / "elsewhere"
