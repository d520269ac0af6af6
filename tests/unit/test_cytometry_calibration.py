"""Calibration of the cytometry inferences where the null is true: adversarial simulated nulls and real negative
controls (label permutations of real events, real files split into "batches", a real normal file and LAIPs it cannot
match). Seeds are fixed; each bound is a binomial bound around the nominal 5 %.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_cytometry_calibration_public_data.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.cytometry.calibration import block_design, null_fpr
from helpers.cytometry.differential import differential_abundance
from helpers.errors import DataContractError
from helpers.simulate.cytometry import simulate_cluster_counts


def _binomial_bound(n: int, p: float = 0.05, z: float = 3.0) -> tuple[float, float]:
    sd = np.sqrt(p * (1 - p) / n)
    return max(0.0, p - z * sd), p + z * sd


# ----------------------------------------------------------------------------------------------------------------------
# Differential abundance on adversarial simulated nulls


def test_abundance_calibrated_on_adversarial_nulls():
    """Overdispersion that differs between clusters, between-patient differences, unequal totals, 10 patients."""
    p = []
    for rep in range(25):
        counts, meta = simulate_cluster_counts(seed=500 + rep, n_patients=10, concentration=40.0, total_spread=0.8,
                                               concentration_spread=0.8)  # fmt: skip
        p.append(differential_abundance(counts, meta, group="timepoint", paired=True).assign(rep=rep, test="da"))
    res = null_fpr(pd.concat(p))
    row = res.iloc[0]
    lo, hi = _binomial_bound(int(row["n_tests"]))
    assert lo < row["fpr"] < hi, row.to_dict()
    assert row["n_tests"] >= 250  # the diffcyt filter leaves most clusters testable


def test_abundance_filter_leaves_a_clump_untested():
    counts, meta = simulate_cluster_counts(seed=3, n_patients=8)
    counts[99] = 0
    counts.iloc[0, -1] = 40  # a clump of 40 events in one sample only
    res = differential_abundance(counts, meta, group="timepoint", paired=True).set_index("metacluster")
    assert np.isnan(res.loc[99, "p_value"]) and np.isnan(res.loc[99, "fdr"])
    assert res.drop(index=99)["p_value"].notna().all()
    with pytest.raises(DataContractError, match="metaclusters"):
        differential_abundance(counts[[0]], meta, group="timepoint", paired=True)


def test_block_design_is_paired_and_covers_every_event():
    rng = np.random.default_rng(0)
    s, meta = block_design(1000, n_patients=6, rng=rng)
    assert len(s) == 1000 and set(s) == set(meta.index) and len(meta) == 12
    assert (meta.groupby("patient_id")["timepoint"].nunique() == 2).all()
    assert (np.diff(pd.factorize(s)[0]) >= 0).all()  # contiguous blocks in acquisition order
