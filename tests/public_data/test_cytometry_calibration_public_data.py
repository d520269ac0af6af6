"""Calibration of the cytometry inferences where the null is true: adversarial simulated nulls and real negative
controls (label permutations of real events, real files split into "batches", a real normal file and LAIPs it cannot
match). Seeds are fixed; each bound is a binomial bound around the nominal 5 %.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_cytometry_calibration.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_cytometry_calibration import _binomial_bound  # shared with the unit part

from helpers.cytometry.calibration import null_fpr, permutation_null
from helpers.cytometry.fcs import read_fcs
from helpers.cytometry.mrd import dfn_events, laip_events, mrd_call
from helpers.cytometry.normalise import QuantileNormaliser
from helpers.cytometry.transforms import compensate
from helpers.registry import dataset_path

# ----------------------------------------------------------------------------------------------------------------------
# Real negative control: random paired labels on real events clustered by FlowSOM


def _real_events(name: str) -> tuple[np.ndarray, list[str]]:
    if name == "data1":  # a FACSCalibur acquisition of lymphocytes (CD3, CD4, CD8), log-amplified channels
        d = read_fcs(dataset_path("gatingml2_compliance", "data1.fcs"))
        chans, cof = ["FSC-H", "SSC-H", "FL1-H", "FL2-H", "FL3-H", "FL4-H"], 1.0
    else:  # a compensated blood sample on a digital instrument (CD3, CD4, CD20, CD33, pStat3, pp38)
        d = compensate(read_fcs(dataset_path("compensation", "test_comp_example.fcs")))
        chans, cof = ["FSC-A", "SSC-A", "Ax488-A", "PE-A", "PerCP-Cy55-A", "PE-Cy7-A", "Ax647-A", "PacBlu-A"], 150.0
    cols = []
    for c in chans:
        v = d.events[:, d.channels.index(c)].astype(np.float64)
        cols.append(v / np.percentile(v, 99) if c.startswith(("FSC", "SSC")) else np.arcsinh(v / cof))
    return np.column_stack(cols).astype(np.float32), chans


@pytest.mark.slow
def test_cluster_tests_calibrated_on_permuted_labels_of_real_events(public_data):
    from helpers.cytometry.clustering import run_flowsom

    X, chans = _real_events("data1")
    _, labels, _ = run_flowsom(X, chans, seed=0)
    pv = permutation_null(labels, X[:, chans.index("FL1-H")], n_patients=10, n_rep=16, seed=1)
    res = null_fpr(pv).set_index("test")
    for test in ("abundance", "state"):
        lo, hi = _binomial_bound(int(res.loc[test, "n_tests"]))
        assert res.loc[test, "fpr"] < hi, res
    assert res.loc["abundance", "n_tests"] >= 100 and res.loc["state", "n_tests"] >= 100


# ----------------------------------------------------------------------------------------------------------------------
# Intensity standardisation where there is no batch effect: one real file split into batches


@pytest.mark.parametrize("order", ["random", "acquisition"])
def test_normalisation_leaves_real_mfis_unchanged_without_batch_effect(public_data, order):
    d = compensate(read_fcs(dataset_path("compensation", "test_comp_example.fcs")))
    chans = ["Ax488-A", "PE-A", "PerCP-Cy55-A", "PE-Cy7-A", "Ax647-A", "PacBlu-A"]
    ev = pd.DataFrame(d.events[:, [d.channels.index(c) for c in chans]].astype(np.float64), columns=chans)
    # "random": four random quarters (control and sample of two batches); "acquisition": the first and second half
    # of the run are the two batches (whatever drifted during the run is then a small real batch effect).
    rng = np.random.default_rng(0)
    part = rng.permutation(len(ev)) % 4 if order == "random" else (
        2 * (np.arange(len(ev)) >= len(ev) // 2) + (rng.random(len(ev)) < 0.5))  # fmt: skip
    controls = {"A": ev[part == 0], "B": ev[part == 2]}
    norm = QuantileNormaliser().fit(controls)
    change = []
    for b, k in (("A", 1), ("B", 3)):
        s = ev[part == k]
        fixed = norm.transform(b, s)
        for c in chans:
            # MFI of the positive cells (above the channel's 60th percentile): the gated read-out the cohort uses
            raw_pos, fix_pos = s[c][s[c] > s[c].quantile(0.6)], fixed[c][s[c] > s[c].quantile(0.6)]
            change.append(abs(np.log(fix_pos.median() / raw_pos.median())))
    change = np.asarray(change)
    # Sampling noise of ~2 700-event controls' quantiles: well under 5 % on every channel.
    assert change.max() < 0.05, change.round(4)


# ----------------------------------------------------------------------------------------------------------------------
# Flow MRD on a real normal sample: LAIPs it cannot match, and DfN


def test_mrd_on_real_normal_blood_is_below_the_lod(public_data):
    d = compensate(read_fcs(dataset_path("compensation", "test_comp_example.fcs")))
    markers = {"CD33": "PE-A", "CD20": "PerCP-Cy55-A", "CD3": "PE-Cy7-A", "CD4": "PacBlu-A"}
    ev = pd.DataFrame(np.arcsinh(d.events[:, [d.channels.index(c) for c in markers.values()]].astype(np.float64)
                                 / 150.0), columns=list(markers))  # fmt: skip
    # Cross-lineage LAIPs (myeloid CD33 with lymphoid CD3 or CD20, B-cell CD20 with T-cell CD3), as AML LAIPs pair
    # a myeloid marker with a lymphoid one: over the 99th percentile of a normal reference on both markers.
    laips = [("CD33", "CD3"), ("CD33", "CD20"), ("CD20", "CD3")]
    rng = np.random.default_rng(0)
    calls = []
    for _ in range(5):
        ref = rng.random(len(ev)) < 0.5  # one half is the normal reference, the other the "remission" sample
        normal, rem = ev[ref], ev[~ref]
        for pair in laips:
            laip = pd.DataFrame({"marker": list(pair), "direction": "over",
                                 "threshold": [float(np.quantile(normal[m], 0.99)) for m in pair]})  # fmt: skip
            calls.append(mrd_call(int(laip_events(rem, laip).sum()), len(rem)))
        flagged = dfn_events(rem, normal)
        assert flagged.mean() < 0.003, flagged.mean()  # DfN flags ~0.1 % of normal cells by construction
    n_detected = sum(c["mrd_events"] >= 20 for c in calls)
    assert n_detected == 0, [c["mrd_events"] for c in calls]
    # Only ~5 000 events: under the LOD, ELN does not allow a negative call (fewer than 500 000 CD45+ cells).
    assert {c["mrd_status"] for c in calls} == {"not_evaluable"}
