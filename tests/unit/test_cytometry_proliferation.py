"""Dye-dilution proliferation: Roederer's indices, generation fits on the simulator's planted structure, the CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import load_sample_sheet
from helpers.cytometry.__main__ import main as cli
from helpers.cytometry.proliferation import (
    PROLIFERATION_COLUMNS,
    edu_positive_fraction,
    fit_generations,
    median_divisions,
    proliferation_indices,
)
from helpers.errors import DataContractError
from helpers.simulate.cytometry import simulate_dye_dilution


def test_roederer_indices_by_hand():
    # 100 cells: 40 undivided, 40 in generation 1, 20 in generation 2 -> precursors 40, 20, 5 (65 in all).
    r = proliferation_indices([0.4, 0.4, 0.2])
    assert r["division_index"] == pytest.approx((20 + 2 * 5) / 65)
    assert r["proliferation_index"] == pytest.approx((20 + 2 * 5) / 25)
    assert r["percent_divided"] == pytest.approx(100 * 25 / 65)
    assert r["precursor_frequency"] == pytest.approx(25 / 65)
    assert r["mean_divisions"] == pytest.approx(0.4 + 0.4)
    assert r["expansion_index"] == pytest.approx(1 / (65 / 100))
    none = proliferation_indices([1.0, 0.0, 0.0])
    assert none["division_index"] == 0 and none["percent_divided"] == 0 and np.isnan(none["proliferation_index"])


def test_median_divisions_and_edu():
    assert median_divisions(1000 / 8 + 50, 1050, autofluorescence=50) == pytest.approx(3.0)
    assert np.isnan(median_divisions(40, 1050, autofluorescence=50))
    rng = np.random.default_rng(0)
    ctrl = rng.normal(100, 20, 2000)
    cells = np.concatenate([rng.normal(100, 20, 700), rng.normal(3000, 400, 300)])
    assert edu_positive_fraction(cells, ctrl) == pytest.approx(0.3, abs=0.02)
    with pytest.raises(DataContractError, match="EdU control"):
        edu_positive_fraction(cells, ctrl[:5])


def test_fit_recovers_a_planted_mixture_with_dye_loss():
    rng = np.random.default_rng(4)
    frac = np.array([0.1, 0.15, 0.3, 0.3, 0.15])
    g = rng.choice(5, 5000, p=frac)
    v = 2.0 ** (14 - g - 0.3 + rng.normal(0, 0.25, 5000)) + rng.normal(30, 50, 5000)
    ref = 2.0 ** (14 + rng.normal(0, 0.25, 3000)) + rng.normal(30, 50, 3000)
    fit = fit_generations(v, ref, autofluorescence=30, max_generations=8)
    np.testing.assert_allclose(fit.fractions[:5], frac, atol=0.03)
    assert fit.fractions[5:].sum() < 0.02 and fit.shift == pytest.approx(-0.3, abs=0.05)
    # Negative control: the undivided cells themselves, dimmer by dye loss, are not read as divided.
    same = 2.0 ** (14 - 0.4 + rng.normal(0, 0.25, 3000)) + rng.normal(30, 50, 3000)
    r = proliferation_indices(fit_generations(same, ref, autofluorescence=30).fractions)
    assert r["percent_divided"] < 3


@pytest.fixture(scope="module")
def prolif(tmp_path_factory):
    out = tmp_path_factory.mktemp("prolif")
    truth = simulate_dye_dilution(out, seed=11, n_events=2500, n_samples=2)
    return out, truth


def test_cli_recovers_the_planted_generations(prolif, tmp_path):
    out, truth = prolif
    sheet = load_sample_sheet(out / "sample_sheet.csv")
    for sid, g in sheet.groupby("sample_id"):
        path = dict(zip(g["condition"], g["path"], strict=True))
        arms = ["untreated", "VEN", "AZA", "AZA+VEN"]
        res = tmp_path / f"{sid}.csv"
        assert cli(["proliferation", "--fcs", *[path[a] for a in arms], "--channel", "CFSE", "--reference",
                    path["day0"], "--unstained", path["unstained"], "--out", str(res)]) == 0  # fmt: skip
        got = pd.read_csv(res)
        assert list(got.columns[: len(PROLIFERATION_COLUMNS)]) == PROLIFERATION_COLUMNS
        t = truth[truth["sample_id"] == sid].set_index("condition").loc[arms]
        assert np.abs(got["division_index"].to_numpy() - t["division_index"].to_numpy()).max() < 0.15
        assert np.abs(got["percent_divided"].to_numpy() - t["percent_divided"].to_numpy()).max() < 4
        assert np.abs(got["proliferation_index"].to_numpy() - t["proliferation_index"].to_numpy()).max() < 0.15
        # Drug-treated arms divide less, in the planted order.
        assert (np.diff(got["division_index"].to_numpy()) < 0).all()
        assert (got["median_divisions"].diff().dropna() < 0).all()


def test_sheet_accepts_prolif_tubes_and_wants_a_day0_reference(prolif, tmp_path):
    out, _ = prolif
    sheet = pd.read_csv(out / "sample_sheet.csv")
    assert set(load_sample_sheet(out / "sample_sheet.csv")["panel"]) == {"PROLIF"}
    bad = tmp_path / "sheet.csv"
    sheet[sheet["condition"] != "day0"].assign(file=lambda d: [str(out / f) for f in d["file"]]).to_csv(bad, index=False)
    with pytest.raises(DataContractError, match=r"sheet\.csv.*no day-0 reference"):
        load_sample_sheet(bad)


def test_cli_errors_are_one_line(prolif, tmp_path, capsys):
    out, _ = prolif
    f = str(next(out.rglob("PROLIF_VEN.fcs")))
    assert cli(["proliferation", "--fcs", f, "--channel", "CTV", "--reference", f, "--out", str(tmp_path / "x.csv")]) == 2
    assert "no channel or marker named 'CTV'" in capsys.readouterr().err
