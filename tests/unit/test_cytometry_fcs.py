"""FCS reading, compensation, transforms and scrubbing, checked against real public files and peer tools.

This file holds the unit tests (the unit tier); the tests that read the public data mirror are in
``tests/public_data/test_cytometry_fcs_public_data.py``.
"""

from __future__ import annotations

import warnings

import flowkit as fk
import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import compensate, parse_spillover, qc_file, read_fcs, scrub_metadata, write_fcs
from helpers.cytometry.__main__ import main as cli
from helpers.cytometry.privacy import tube_id
from helpers.errors import DataContractError
from helpers.simulate import simulate_patients
from helpers.simulate.cytometry import simulate_cytometry


def test_spillover_parsing_and_errors():
    m = parse_spillover("2,A,B,1,0.1,0.05,1")
    assert list(m.index) == ["A", "B"] and m.loc["A", "B"] == 0.1
    with pytest.raises(DataContractError, match="need 7 values, found 6"):
        parse_spillover("2,A,B,1,0.1,0.05")
    with pytest.raises(DataContractError, match="non-numeric"):
        parse_spillover("2,A,B,1,x,0.05,1")


def _sim_file(ci_cyto):
    return ci_cyto / "cytometry" / "fcs" / "DRM001-DX" / "FUNC_VEN.fcs"


def test_truncated_and_corrupt_files_fail_clearly(ci_cyto, tmp_path):
    raw = _sim_file(ci_cyto).read_bytes()
    short = tmp_path / "short.fcs"
    short.write_bytes(raw[: len(raw) - 1000])
    with pytest.raises(DataContractError, match=r"short\.fcs.*truncated"):
        read_fcs(short)
    header_only = tmp_path / "header.fcs"
    header_only.write_bytes(raw[:300])
    with pytest.raises(DataContractError, match=r"header\.fcs.*truncated"):
        read_fcs(header_only)
    junk = tmp_path / "junk.fcs"
    junk.write_bytes(b"PK\x03\x04" + raw[4:])
    with pytest.raises(DataContractError, match=r"junk\.fcs.*not an FCS file"):
        read_fcs(junk)
    nan_file = tmp_path / "nan.fcs"
    data = read_fcs(_sim_file(ci_cyto))
    ev = data.events.copy()
    ev[3, data.column("CD34")] = np.nan
    write_fcs(data, nan_file, events=ev)
    with pytest.raises(DataContractError, match=r"channel 'APC-A'.*non-finite"):
        read_fcs(nan_file)
    with pytest.raises(DataContractError, match="file not found"):
        read_fcs(tmp_path / "missing.fcs")


def test_simulated_files_readable_by_flowkit_with_embedded_spillover(ci_cyto):
    f = _sim_file(ci_cyto)
    ours = compensate(read_fcs(f, dtype=np.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = fk.Sample(str(f), subsample=0)
        s.apply_compensation(s.metadata["spillover"])
        ref = s.get_events(source="comp")
    np.testing.assert_allclose(ours.events[:, :-1], ref[:, :-1], rtol=1e-5, atol=1e-3)
    assert ours.spillover.shape == (10, 10)


def test_scrubbing_removes_every_identifier(ci_cyto, tmp_path):
    ids = pd.read_csv(ci_cyto / "truth" / "cytometry_identifiers.csv")["identifier"]
    f = _sim_file(ci_cyto)
    raw = f.read_bytes()
    assert any(s.encode() in raw for s in ids), "the raw files must carry identifiers for this test to mean anything"
    meta = read_fcs(f).metadata
    assert {"$OP", "$DATE", "$SRC", "$FIL", "$COM", "PATIENT ID"} <= set(meta)
    kept = scrub_metadata(meta)
    assert not {"$OP", "$DATE", "$BTIM", "$SRC", "$FIL", "$COM", "$INST", "PATIENT ID", "EXPORT USER NAME"} & set(kept)
    # The instrument's serial number narrows a file to a site: not on the allow-list, nor is any vendor free text.
    assert not {"$CYTSN", "OPERATOR NOTE"} & set(scrub_metadata({**meta, "$CYTSN": "SN-4711", "OPERATOR NOTE": "x"}))
    sheet = ci_cyto / "cytometry" / "sample_sheet.csv"
    assert cli(["scrub", "--sheet", str(sheet), "--fcs", str(f), "--out-dir", str(tmp_path)]) == 0
    row = pd.read_csv(sheet).set_index("file").loc[f.relative_to(sheet.parent).as_posix()]
    copy = tmp_path / f"{tube_id(row['sample_id'], row['panel'], row['condition'])}.fcs"
    assert [p.name for p in tmp_path.glob("*.fcs")] == [copy.name] != [f.name]  # named by sample id, not file
    out = copy.read_bytes()
    for s in list(ids) + ["University Hospital", "born 1949"]:
        assert s.encode() not in out, s
    back = read_fcs(copy)
    np.testing.assert_array_equal(back.events, read_fcs(f).events)
    assert back.spillover is not None and back.markers == read_fcs(f).markers


def test_qc_flags_planted_clogs(ci_cyto):
    truth = pd.read_csv(ci_cyto / "truth" / "cytometry_files.csv")
    picks = pd.concat([truth[truth["clog"] == 1].head(15), truth[truth["clog"] == 0].head(60)])
    flags = [qc_file(read_fcs(ci_cyto / "cytometry" / f))["qc_flow_anomaly"] for f in picks["file"]]
    assert np.array_equal(np.array(flags), picks["clog"].to_numpy() == 1)


def test_simulator_deterministic_by_seed(tmp_path):
    tables = simulate_patients(6, seed=11)
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        (tmp_path / name / "truth").mkdir(parents=True)
        simulate_cytometry(tables, tmp_path / name, scale="ci", seed=seed)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files and any(str(f).endswith(".fcs") for f in files)
    same = [(tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files]
    assert all(same)
    fcs = [f for f in files if str(f).endswith(".fcs")]
    assert any((tmp_path / "a" / f).read_bytes() != (tmp_path / "c" / f).read_bytes() for f in fcs)


def test_qc_metrics_on_constructed_events(tmp_path):
    from helpers.cytometry import FCSData

    rng = np.random.default_rng(0)
    n = 2000
    fsc_a = rng.uniform(40000, 120000, n)
    fsc_h = fsc_a * 0.82
    fsc_h[:301] = fsc_a[:301] * 0.45  # 301 doublets: just above the 15 % threshold
    ssc = rng.uniform(10000, 90000, n)
    ssc[-120:] = 262143  # 6 % saturated
    time = np.cumsum(rng.exponential(0.3, n))
    fl = rng.normal(500, 50, n)
    ev = np.column_stack([fsc_a, fsc_h, ssc, fl, time]).astype(np.float32)
    meta = {f"$P{i}R": "262144" for i in range(1, 6)}
    d = FCSData(tmp_path / "x.fcs", ["FSC-A", "FSC-H", "SSC-A", "FITC-A", "Time"], ["FSC-A", "FSC-H", "SSC-A", "CD45",
                "Time"], ev, meta)  # fmt: skip
    q = qc_file(d)
    assert q["n_events"] == n and q["doublet_fraction"] == pytest.approx(301 / n)
    assert q["margin_fraction"] == pytest.approx(120 / n)
    assert q["qc_doublets"] and q["qc_margin"] and not q["qc_flow_anomaly"] and not q["qc_pass"]
    # A pause of 500 s followed by brighter fluorescence is a flow anomaly; the pause alone is not.
    ev2 = ev.copy()
    ev2[1000:, 4] += 500
    assert not qc_file(FCSData(d.path, d.channels, d.markers, ev2, meta))["qc_flow_anomaly"]
    ev2[1000:, 3] *= 3
    q2 = qc_file(FCSData(d.path, d.channels, d.markers, ev2, meta))
    assert q2["qc_flow_anomaly"] and q2["max_gap_ratio"] > 200 and q2["signal_shift"] > 0.25


def test_anndata_view_carries_no_identifiers(ci_cyto):
    d = read_fcs(_sim_file(ci_cyto))
    a = d.to_anndata()
    assert a.shape == d.events.shape and list(a.var["channel"]) == d.channels
    assert a.var_names.is_unique and "CD45" in a.var_names
    np.testing.assert_array_equal(a[:, "CD45"].X.ravel(), d.events[:, d.column("CD45")])
    assert "$OP" not in a.uns["fcs"] and "$SPILLOVER" in a.uns["fcs"]
