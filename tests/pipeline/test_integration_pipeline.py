"""Integration: table assembly and contracts, ELN 2024 rules, statistics, and recovery of the simulated cohort's
planted effects (helpers.simulate.PLANTED_EFFECTS) from feature tables derived from its truth plus noise.

This file holds the tests that execute notebooks (the pipeline tier); the unit tests are in
``tests/unit/test_integration.py``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.paths import repo_root

NOTEBOOK = repo_root() / "notebooks" / "05_integration.py"


@pytest.mark.slow
def test_notebook_runs_with_a_subset_of_axes(upstream, tmp_path):
    """Cohort mode with only two axes (cytometry and barcoding absent): the notebook runs and says what is missing."""
    from nbrun import execute_py_notebook

    out, figs = tmp_path / "out", tmp_path / "figs"
    done = execute_py_notebook(NOTEBOOK, tmp_path, cwd=repo_root(),
                               parameters={"upstream_dirs": {k: upstream[k] for k in ("01_dst", "03_scrna")},
                                           "output_dir": str(out), "figures_dir": str(figs), "cv_repeats": 2,
                                           "n_boot": 50, "power_sizes": []})  # fmt: skip
    status = pd.read_csv(out / "axes_status.csv").set_index("axis")["status"]
    assert status.to_dict() == {"dst": "loaded", "cytometry": "not run", "scrna": "loaded", "barcoding": "not run"}
    av = pd.read_csv(out / "primary_added_value.csv").set_index("marker")
    # Without cytometry the BCL2 and monocytic roles fall back to the scRNA features; no T/NK read-out is left.
    assert set(av.index) == {"ex vivo VEN sensitivity", "BCL2-family score", "monocytic fraction", "LSC17"}
    assert av.loc["monocytic fraction", "predictors"] == "frac_mono_like" and av.loc["LSC17", "n"] == 24
    assert av.loc["ex vivo VEN sensitivity", "p_lrt"] < 0.001
    index = pd.read_csv(out / "figure_index.csv")
    assert {"roc_primary_resistance", "km_relapse_ven", "biomarker_heatmap"} <= set(index["figure"])
    for stem in index["figure"]:
        assert (figs / f"{stem}.png").is_file()
    # The saved outputs (none lost: nbrun waits for them and raises rather than dropping any).
    streams = [o for c in done.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "stream"]
    assert not [o for o in streams if o.name == "stderr"], "warnings leaked into the notebook output"
    # The planted effects span cytometry too: the recovery table is not written, and the notebook says why.
    assert not (out / "planted_effect_recovery.csv").exists() and not (out / "design_power.csv").exists()
    assert any("missing here: T/NK activation" in "".join(o.get("text", "")) for o in streams)
