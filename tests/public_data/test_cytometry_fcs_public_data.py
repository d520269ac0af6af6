"""FCS reading, compensation, transforms and scrubbing, checked against real public files and peer tools.

This file holds the tests that read the public data mirror (the public_data tier); the unit tests are in
``tests/unit/test_cytometry_fcs.py``.
"""

from __future__ import annotations

import warnings

import flowkit as fk
import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import arcsinh, compensate, gml_asinh, hyperlog, logicle, read_fcs
from helpers.registry import dataset_path


@pytest.fixture(scope="module")
def data1(public_data):
    return dataset_path("gatingml2_compliance", "data1.fcs")


def test_preprocessed_events_match_flowio_reference(data1):
    ref = np.load(dataset_path("fcs_reading", "data1_preprocessed.npy"))
    got = read_fcs(data1, dtype=np.float64)
    assert got.events.shape == ref.shape == (13367, 8)
    np.testing.assert_allclose(got.events, ref, rtol=1e-12, atol=1e-9)
    raw = read_fcs(data1, dtype=np.float64, preprocess=False)
    np.testing.assert_array_equal(raw.events, np.load(dataset_path("fcs_reading", "data1_original_events.npy")))
    assert got.version == "2.0" and got.markers[2] == "CD4 FITC"


def test_offset_quirk_file_reads_and_compensates_like_flowkit(public_data):
    fcs = dataset_path("compensation", "test_comp_example.fcs")
    data = read_fcs(fcs, dtype=np.float64)
    assert data.n_events == 10703 and "CD33" in data.markers
    spill = pd.read_csv(dataset_path("compensation", "comp_complete_example.csv"))
    spill.index = spill.columns
    comp = compensate(data, spill)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = fk.Sample(str(fcs), ignore_offset_error=True, subsample=0)
        ref.apply_compensation(fk.Matrix(spill.to_numpy(), list(spill.columns)))
        expected = ref.get_events(source="comp")
    np.testing.assert_allclose(comp.events, expected, rtol=1e-6, atol=1e-6)
    # Compensation actually changed the spilled channels (the file's own matrix is an identity placeholder).
    j = data.channels.index("PE-A")
    assert np.abs(comp.events[:, j] - data.events[:, j]).max() > 1


def test_transforms_match_reference_values(public_data):
    ref = pd.read_csv(dataset_path("transforms", "reference_transform_values.csv"))
    x = ref["x"].to_numpy()
    np.testing.assert_allclose(logicle(x, 262144, 0.5, 4.5, 0), ref["logicle_T262144_W0.5_M4.5_A0"], atol=1e-9)
    np.testing.assert_allclose(hyperlog(x, 262144, 0.5, 4.5, 0), ref["hyperlog_T262144_W0.5_M4.5_A0"], atol=1e-9)
    np.testing.assert_allclose(gml_asinh(x, 262144, 4.5, 0), ref["gml_asinh_T262144_M4.5_A0"], atol=1e-12)
    np.testing.assert_allclose(arcsinh(x, 150), ref["arcsinh_cofactor150"], atol=1e-12)
    np.testing.assert_allclose(arcsinh(x, 5), ref["arcsinh_cofactor5"], atol=1e-12)
