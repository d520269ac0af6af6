"""Synergy scores: reference models on constructed surfaces, and R SynergyFinder's ZIP on public MuSyC surfaces.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_dst_synergy.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.dst import block_synergy, synergy_scores, synergy_table
from helpers.dst.synergy import _loewe_expected, drc_ll4, fit_drc_ll4
from helpers.registry import dataset_path


def test_zip_matches_r_synergyfinder_on_musyc_surfaces(public_data):
    """R SynergyFinder's per-cell ZIP on three MuSyC surfaces (upstream means 0.217, -0.282, 3.292): to rounding with
    R's own fitting path, within 0.15 with the vectorised least-squares fits."""
    for i, mean in zip([1, 2, 3], [0.217, -0.282, 3.292], strict=True):
        d = pd.read_csv(dataset_path("musyc_surfaces", f"dataset_{i}.csv"))
        ref = pd.read_csv(dataset_path("musyc_surfaces", f"synergyfinder_zip_output_{i}.csv"))
        mat = d.pivot_table(index="conc_r", columns="conc_c", values="response")
        y, cr, cc = 100 - mat.to_numpy(), mat.index.to_numpy(float), mat.columns.to_numpy(float)
        r = ref.pivot_table(index="d2", columns="d1", values="synergy").to_numpy()
        exact = synergy_scores(y, cr, cc, fit_engine="drc")
        assert np.abs(exact["zip"] - r).max() < 0.01
        assert exact["zip"][1:, 1:].mean() == pytest.approx(mean, abs=0.001)
        fast = synergy_scores(y, cr, cc)
        assert np.abs(fast["zip"] - r).max() < 0.15
        assert fast["zip"][1:, 1:].mean() == pytest.approx(mean, abs=0.01)
    with pytest.raises(ValueError, match="fit_engine"):
        synergy_scores(y, cr, cc, fit_engine="nls")


def test_synergy_table_batches_blocks(public_data):
    d = pd.read_csv(dataset_path("synergyfinder2_results", "result_ZIP_2021-01-07_LL4.csv"))
    cells = d.rename(columns={"PairIndex": "block", "Conc1": "conc_row", "Conc2": "conc_col",
                              "Relative_inhibition": "inhibition_pct"})
    per_cell, per_block = synergy_table(cells)
    assert len(per_block) == 3 and len(per_cell) == 3 * 64
    for bid, g in cells.groupby("block"):  # batch == one block at a time
        mat = g.pivot(index="conc_row", columns="conc_col", values="inhibition_pct")
        one = block_synergy(synergy_scores(mat.to_numpy(), mat.index.to_numpy(float), mat.columns.to_numpy(float)))
        row = per_block.set_index("block").loc[bid]
        for k in ("bliss_mean", "hsa_mean", "zip_mean", "loewe_mean"):
            assert row[k] == pytest.approx(one[k].item(), abs=1e-6)
    # Bliss and HSA need no fit: they follow from the observed monotherapies alone.
    g = cells[cells["block"] == 1].pivot(index="conc_row", columns="conc_col", values="inhibition_pct").to_numpy()
    expect = g[1:, 1:] - (g[1:, :1] + g[:1, 1:] - g[1:, :1] * g[:1, 1:] / 100)
    got = per_cell[per_cell["block"] == 1]["bliss"].to_numpy().reshape(8, 8)[1:, 1:]
    assert np.allclose(got, expect)


def _sf2_pairs(name):
    """The three SynergyFinder 2 example pairs: (inhibition, row conc, col conc, published synergy) per pair."""
    d = pd.read_csv(dataset_path("synergyfinder2_results", name))
    for _, g in d.groupby("PairIndex"):
        mat = g.pivot(index="Conc1", columns="Conc2", values="Relative_inhibition")
        ref = g.pivot(index="Conc1", columns="Conc2", values="Synergy").to_numpy()
        yield mat.to_numpy(), mat.index.to_numpy(float), mat.columns.to_numpy(float), ref


def test_loewe_matches_synergyfinder2_with_its_monotherapy_fits(public_data):
    """SynergyFinder 2's published Loewe (block means 0.557, -0.716, 8.942), every cell, with its monotherapy fits."""
    pairs = list(_sf2_pairs("result_Loewe_2021-01-07_LL4.csv"))
    for (y, cr, cc, ref), mean in zip(pairs, [0.557, -0.716, 8.942], strict=True):
        sc = synergy_scores(y, cr, cc, monotherapy_fit="synergyfinder2")
        # The published table has two decimals: agreement to rounding.
        assert np.abs(sc["loewe"] - ref)[1:, 1:].max() < 0.01
        assert sc["loewe"][1:, 1:].mean() == pytest.approx(mean, abs=0.005)
        assert sc["loewe_row_fit"][2] == 100  # top fixed
        # ZIP and the other scores keep the SynergyFinder 3 convention.
        default = synergy_scores(y, cr, cc)
        for k in ("zip", "bliss", "hsa"):
            assert np.array_equal(sc[k], default[k]), k
    # Pair 3: the column drug (Alpelisib) has a negative response, which becomes the fixed bottom.
    y, cr, cc, ref = pairs[2]
    sc = synergy_scores(y, cr, cc, monotherapy_fit="synergyfinder2")
    assert y[0, 1:].min() < 0 and sc["loewe_col_fit"][1] == y[0, 1:].min() and sc["loewe_row_fit"][1] == 0
    # The row drug's (NVP-LGK974) curve is very shallow and drc's optimiser stops short of the least-squares optimum
    # there; the published cells follow drc's stopping point, which the least-squares fit would move by up to 5 units.
    b, c, d, e = sc["loewe_row_fit"]
    best = fit_drc_ll4(cr[None, 1:], y[None, 1:, 0], fix_c=0.0, fix_d=100.0)
    assert best["sse"][0] < 0.5 * ((y[1:, 0] - drc_ll4(cr[1:], b, c, d, e)) ** 2).sum()
    xr, xc = np.meshgrid(cr, cc, indexing="ij")
    col = tuple(np.atleast_1d(v) for v in sc["loewe_col_fit"])
    with_optimum = y - _loewe_expected(xc[None], xr[None], col, tuple(best[q] for q in "bcde"))[0]
    assert np.abs(with_optimum - ref)[1:, 1:].max() > 2


def test_synergyfinder2_option_passes_through_synergy_table(public_data):
    d = pd.read_csv(dataset_path("synergyfinder2_results", "result_Loewe_2021-01-07_LL4.csv"))
    cells = d.rename(columns={"PairIndex": "block", "Conc1": "conc_row", "Conc2": "conc_col",
                              "Relative_inhibition": "inhibition_pct"})
    _, sf3 = synergy_table(cells)
    _, sf2 = synergy_table(cells, monotherapy_fit="synergyfinder2")
    assert np.allclose(sf2["loewe_mean"], [0.557, -0.716, 8.942], atol=0.005)
    assert np.array_equal(sf2["zip_mean"], sf3["zip_mean"]) and not np.allclose(sf2["loewe_mean"], sf3["loewe_mean"])
    with pytest.raises(ValueError, match="monotherapy_fit"):
        synergy_table(cells, monotherapy_fit="synergyfinder1")
