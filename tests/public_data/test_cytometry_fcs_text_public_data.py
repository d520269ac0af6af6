"""The fast FCS TEXT reader against FlowIO on every FCS file of the public mirror (the constructed-file cases are in
tests/unit/test_cytometry_fcs_text.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
from test_cytometry_fcs_text import _flowio_info

from helpers.cytometry import read_fcs
from helpers.cytometry.fcs import _fast_text, _key, _open_flowdata
from helpers.registry import dataset_path, load_manifest

# Read by FlowIO on purpose: a CellQuest FCS 2.0 file whose doubled delimiters mean empty values, not escapes.
FLOWIO_FILES = {"data1.fcs"}


def _public_fcs_files() -> list[tuple[str, str]]:
    return [(name, rel) for name, files in sorted(load_manifest().items()) for rel, _, _ in files
            if rel.lower().endswith(".fcs")]  # fmt: skip


def test_every_public_fcs_file_reads_as_flowio_reads_it(public_data):
    files = _public_fcs_files()
    assert len(files) >= 8  # the mirror's FCS files: FlowIO's, FlowKit's, Gating-ML 2.0's and the CyTOF AML files
    fast_read = set()
    for name, rel in files:
        path = dataset_path(name, rel)
        ref = _flowio_info(path)
        info = _fast_text(path, path.stat().st_size)
        if info is not None:
            fast_read.add(path.name)
            assert dataclasses.asdict(info) == dataclasses.asdict(ref), path.name
        data = read_fcs(path, dtype=np.float64)
        assert data.metadata == {_key(k): v for k, v in _open_flowdata(path, only_text=True).text.items()}
        assert data.channels == ref.channels and data.version == ref.version
        fd = _open_flowdata(path, only_text=False)
        expected = fd.as_array(preprocess=True)
        assert data.events.shape == expected.shape == (ref.n_events, ref.n_channels), path.name
        np.testing.assert_array_equal(data.events, expected, err_msg=path.name)
    assert fast_read == {p.rsplit("/", 1)[-1] for _, p in files} - FLOWIO_FILES
