"""Gating: the Gating-ML 2.0 compliance suite, YAML strategies and their Gating-ML compilation, the command line.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_cytometry_gating_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import apply_strategy, compensate, compile_gatingml, gate_file, load_strategy, read_fcs
from helpers.errors import DataContractError
from helpers.paths import repo_root


@pytest.mark.parametrize("tube", ["FUNC_untreated", "FUNC_AZA-VEN", "PHENO_untreated", "SCENITH_DGO"])
def test_yaml_strategy_equals_flowkit_on_compiled_gatingml(ci_cyto, tmp_path, tube):
    f = ci_cyto / "cytometry" / "fcs" / "DRM002-DX" / f"{tube}.fcs"
    data = read_fcs(f, dtype=np.float64)
    strategy = load_strategy()
    panel = strategy.for_panel(set(data.markers) | set(data.channels))
    xml = tmp_path / "strategy.xml"
    compile_gatingml(panel, dict(zip(data.markers, data.channels, strict=True)), out=xml)
    ours, _ = apply_strategy(compensate(data), strategy, compensated=True)
    ref = gate_file(f, xml)
    assert set(ours.membership) == set(ref.membership) == {g.id for g in panel.gates}
    for gate, mask in ours.membership.items():
        assert np.array_equal(mask, ref.membership[gate]), gate
    assert ours.membership["blasts"].sum() > 0


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("gates: [{id: a, parent: b, rect: {CD45: [1, null]}}]", "parent 'b' is not defined"),
        ("gates: [{id: a, parent: null, rect: {CD45: [null, null]}}]", "neither min nor max"),
        ("gates: [{id: a, parent: null, rect: {CD45: [3, 1]}}]", "min >= max"),
        ("gates: [{id: a, parent: null, polygon: {dims: [X, Y], vertices: [[0, 0], [1, 1]]}}]", "at least 3"),
        ("gates: [{id: a, parent: null, rect: {X: [0, 1]}}, {id: a, parent: null, rect: {X: [0, 1]}}]", "duplicated"),
        ("gates: [{id: a, parent: null, boolean: {op: not, of: [zz]}}]", "not a sibling"),
        ("gates: [{id: a, parent: null, ellipse: {}}]", "exactly one of rect, polygon, boolean"),
        ("gates: [{id: a, parent: null, rect: {X: [zero, 1]}}]", "is not a number"),
    ],
)
def test_strategy_validation_messages(tmp_path, text, pattern):
    p = tmp_path / "bad.yaml"
    p.write_text(text)
    with pytest.raises(DataContractError, match=rf"bad\.yaml.*{pattern}"):
        load_strategy(p)


def test_missing_spillover_is_a_contract_error(ci_cyto, tmp_path):
    from helpers.cytometry import FCSData, write_fcs

    d = read_fcs(ci_cyto / "cytometry" / "fcs" / "DRM001-DX" / "FUNC_untreated.fcs")
    meta = {k: v for k, v in d.metadata.items() if k != "$SPILLOVER"}
    bare = write_fcs(FCSData(d.path, d.channels, d.markers, d.events, meta), tmp_path / "nospill.fcs")
    with pytest.raises(DataContractError, match=r"nospill\.fcs.*no \$SPILLOVER"):
        gate_file(bare, "aml_functional")
    # A given matrix works instead.
    ok = gate_file(bare, "aml_functional", spillover=d.spillover)
    assert ok.membership["blasts"].sum() == gate_file(d.path, "aml_functional").membership["blasts"].sum()


def test_command_line_help_documents_every_option():
    import argparse
    import subprocess
    import sys

    from helpers.cytometry.__main__ import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(sub.choices) == {"gate", "readouts", "proliferation", "scrub"}
    for name, parser in sub.choices.items():
        for action in parser._actions:
            if action.dest != "help":
                assert action.help and len(action.help) > 10, (name, action.dest)
    r = subprocess.run([sys.executable, "-m", "helpers.cytometry", "gate", "--help"], capture_output=True, text=True,
                       check=True, cwd=repo_root())  # fmt: skip
    assert "percent_parent" in r.stdout and "--spillover" in r.stdout


def test_gates_recover_true_event_populations(ci_cyto):
    """Per-event planted labels (files of the first samples): each gate's precision and recall."""
    labels = pd.read_csv(ci_cyto / "truth" / "cytometry_event_labels.csv")
    strategy = load_strategy()
    tally: dict[str, np.ndarray] = {}
    for f, g in labels.groupby("file"):
        m = gate_file(ci_cyto / "cytometry" / f, strategy).membership
        g = g.sort_values("event")
        pop, single = g["population"].to_numpy(), g["doublet"].to_numpy() == 0
        truth = {
            "blasts": np.isin(pop, ["lsc", "cd34_blast", "cd117_blast", "mono_leuk"]) & single,
            "lsc": (pop == "lsc") & single,
            "monocytic": (pop == "mono_leuk") & single,
            "t_cells": (pop == "t_cell") & single,
            "apoptotic": (g["apoptosis"].to_numpy() != "live") & m["blasts"],
        }
        for gate, t in truth.items():
            if gate in m:
                tally[gate] = tally.get(gate, np.zeros(3)) + [(m[gate] & t).sum(), m[gate].sum(), t.sum()]
        assert (m["singlets"] & ~single).sum() <= 0.1 * (~single).sum() + 1  # doublets are gated out
    assert set(tally) == {"blasts", "lsc", "monocytic", "t_cells", "apoptotic"}
    for gate, (tp, n_pred, n_true) in tally.items():
        assert tp / n_pred > 0.95 and tp / n_true > 0.93, (gate, tp / n_pred, tp / n_true)
