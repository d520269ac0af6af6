"""The panel contract (stain synonyms, unknown / duplicated stains, swapped channels) and the FCS structure checks."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from helpers.cytometry import load_cytometry, process_files, qc_file, read_fcs, write_fcs
from helpers.cytometry.__main__ import main as cli
from helpers.cytometry.panel import MARKER_SYNONYMS, canonical_marker, enforce_panel
from helpers.cytometry.privacy import tube_id
from helpers.errors import DataContractError


@pytest.fixture(scope="module")
def inputs(ci_cyto):
    return load_cytometry(ci_cyto / "cytometry")


@pytest.mark.parametrize(
    ("stain", "marker"),
    [("KI-67", "Ki-67"), ("Ki67", "Ki-67"), ("ki 67", "Ki-67"), ("MKI67", "Ki-67"), ("Ki67 APC-R700", "Ki-67"),
     ("CD45-V500", "CD45"), ("CD34 APC", "CD34"), ("hla dr", "HLA-DR"), ("CD279", "PD-1"), ("Annexin V", "AnnexinV"),
     ("7AAD", "7-AAD"), ("BCL-XL", "BCL-xL"), ("Bcl-2", "BCL2"), ("Mcl-1", "MCL1"), ("CellTrace Violet", "CTV"),
     ("Ki-76", None), ("CD99x", None), ("", None), ("FITC-A", None)],
)  # fmt: skip
def test_synonym_table(stain, marker):
    assert canonical_marker(stain) == marker


def test_synonym_table_is_unambiguous():
    from helpers.cytometry.panel import _norm

    owner: dict[str, set[str]] = {}
    for c, al in MARKER_SYNONYMS.items():
        for a in (c, *al):
            owner.setdefault(_norm(a), set()).add(c)
    assert all(len(v) == 1 for v in owner.values()), {k: v for k, v in owner.items() if len(v) > 1}


def _restain(src, dst, **stains):
    """Copy an FCS file giving some detectors another $PnS."""
    data = read_fcs(src)
    data.markers = [stains.get(c, m) for c, m in zip(data.channels, data.markers, strict=True)]
    write_fcs(data, dst)
    return dst


def test_synonyms_give_the_same_features_as_the_panel_names(ci_cyto, inputs, tmp_path):
    sheet = inputs.sheet[inputs.sheet["sample_id"] == "DRM001-DX"].copy()
    ref = process_files(sheet, inputs.gating, panels=inputs.panels)
    alt = sheet.copy()
    for i, r in alt.iterrows():
        if r.panel == "FUNC":
            alt.at[i, "path"] = str(_restain(r.path, tmp_path / f"{r.condition}.fcs", **{"APC-R700-A": "KI67",
                                    "FITC-A": "Annexin V", "PerCP-Cy5.5-A": "7AAD", "BV510-A": "CD45 BV510"}))  # fmt: skip
    got = process_files(alt, inputs.gating, panels=inputs.panels)
    pd.testing.assert_frame_equal(ref["stats"], got["stats"])  # tubes are keyed by tube id, not by file name
    assert (got["stats"]["gate"] == "ki67pos").sum() == 4  # Ki-67 read under its synonym in all four FUNC tubes


@pytest.mark.parametrize(
    ("stains", "pattern"),
    [({"APC-R700-A": "Ki-76"}, r"channel 'APC-R700-A'.*unknown stain 'Ki-76'; expected marker 'Ki-67' \(panel FUNC\)"),
     ({"APC-R700-A": "CD38"}, r"channel 'APC-R700-A'.*carries 'CD38' \(CD38\); expected marker 'Ki-67'"),
     ({"APC-R700-A": ""}, r"channel 'APC-R700-A'.*no stain .*expected marker 'Ki-67'")],
)  # fmt: skip
def test_unknown_or_wrong_stain_is_a_named_error(inputs, tmp_path, stains, pattern):
    r = inputs.sheet[(inputs.sheet["panel"] == "FUNC")].iloc[0]
    bad = _restain(r.path, tmp_path / "bad.fcs", **stains)
    with pytest.raises(DataContractError, match=r"bad\.fcs.*" + pattern):
        enforce_panel(read_fcs(bad), inputs.panels["FUNC"], panel_name="FUNC")


def test_duplicated_stain_and_extra_detector_are_errors(inputs, tmp_path):
    r = inputs.sheet[(inputs.sheet["panel"] == "SCENITH")].iloc[0]
    data = read_fcs(r.path)
    panel = {m: c for m, c in inputs.panels["SCENITH"].items() if m != "CD117"}  # PE-A now outside the panel
    data.markers = ["CD34" if c == "PE-A" else m for c, m in zip(data.channels, data.markers, strict=True)]
    with pytest.raises(DataContractError, match=r"channel 'PE-A'.*'CD34' is carried twice: here and on APC-A"):
        enforce_panel(data, panel, panel_name="SCENITH")
    data.markers = ["CD99" if c == "PE-A" else m for c, m in zip(data.channels, data.markers, strict=True)]
    with pytest.raises(DataContractError, match=r"channel 'PE-A'.*carries 'CD99', which panel SCENITH does not list"):
        enforce_panel(data, panel, panel_name="SCENITH")


def test_readouts_cli_stops_on_a_misspelt_stain(ci_cyto, tmp_path, capsys):
    src = ci_cyto / "cytometry"
    dst = tmp_path / "cyto"
    dst.mkdir()
    for f in ("panels.csv", "gating.yaml"):
        shutil.copy(src / f, dst / f)
    sheet = pd.read_csv(src / "sample_sheet.csv")
    sheet = sheet[sheet["sample_id"] == "DRM001-DX"]
    for rel in sheet["file"]:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src / rel, dst / rel)
    sheet.to_csv(dst / "sample_sheet.csv", index=False)
    _restain(src / "fcs/DRM001-DX/FUNC_AZA.fcs", dst / "fcs/DRM001-DX/FUNC_AZA.fcs", **{"APC-R700-A": "KI-76"})
    assert cli(["readouts", "--sheet", str(dst / "sample_sheet.csv"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "FUNC_AZA.fcs" in err and "APC-R700-A" in err and "Ki-67" in err
    assert not (tmp_path / "out" / "features.csv").exists()


def _swap_columns(src, dst, a, b):
    data = read_fcs(src)
    ia, ib = data.channels.index(a), data.channels.index(b)
    ev = data.events.copy()
    ev[:, [ia, ib]] = ev[:, [ib, ia]]
    write_fcs(data, dst, events=ev)
    return dst


def test_swapped_channels_flagged_in_qc_and_no_false_alarm(inputs, tmp_path):
    sids = sorted(inputs.sheet["sample_id"].unique())[:6]
    sheet = inputs.sheet[inputs.sheet["sample_id"].isin(sids)].copy()
    target = sheet.index[(sheet["sample_id"] == sids[0]) & (sheet["panel"] == "FUNC")
                         & (sheet["condition"] == "untreated")][0]  # fmt: skip
    sheet.at[target, "path"] = str(_swap_columns(sheet.at[target, "path"], tmp_path / "swapped.fcs", "APC-A",
                                                 "PE-Cy7-A"))  # fmt: skip
    qc = process_files(sheet, inputs.gating, panels=inputs.panels)["qc"].set_index("tube_id")
    swapped = tube_id(sids[0], "FUNC", "untreated")
    warn = qc.loc[swapped, "panel_warning"]
    assert "CD34 and CD38 look swapped" in warn
    others = qc.drop(index=swapped)["panel_warning"]
    assert (others == "").all(), others[others != ""]  # no false alarm in the 53 unswapped tubes


@pytest.mark.slow
def test_panel_warning_false_positive_rate_on_unswapped_files(inputs):
    gated = inputs.sheet[inputs.sheet["panel"].isin(["FUNC", "PHENO", "SCENITH"])]
    sheet = gated[gated["sample_id"].isin(sorted(gated["sample_id"].unique())[-30:])]
    qc = process_files(sheet, inputs.gating, panels=inputs.panels)["qc"]
    assert len(qc) == 270 and (qc["panel_warning"] != "").sum() == 0


# ----------------------------------------------------------------------------------------------------------------------
# FCS structure


def _edit_text(raw: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and raw.count(old) == 1
    return raw.replace(old, new)


def test_more_data_than_tot_x_par_is_a_named_error(inputs, tmp_path):
    src = inputs.sheet[(inputs.sheet["panel"] == "FUNC") & (inputs.sheet["condition"] == "VEN")].iloc[0].path
    raw = open(src, "rb").read()
    n_tot = read_fcs(src).n_events
    fewer = tmp_path / "tot.fcs"
    fewer.write_bytes(_edit_text(raw, f"$TOT/{n_tot}/".encode(), f"$TOT/{n_tot - 1}/".encode()))
    with pytest.raises(DataContractError, match=r"tot\.fcs.*DATA segment holds \d+ bytes, more than \$TOT x \$PAR"):
        read_fcs(fewer)
    par = tmp_path / "par.fcs"
    par.write_bytes(_edit_text(raw, b"$PAR/14/", b"$PAR/13/"))
    with pytest.raises(DataContractError, match=r"par\.fcs.*channel 'Time'.*\$PAR = 13 but the TEXT segment describes"):
        read_fcs(par)
    more = tmp_path / "more.fcs"
    more.write_bytes(_edit_text(raw, f"$TOT/{n_tot}/".encode(), f"$TOT/{n_tot + 1}/".encode()))
    with pytest.raises(DataContractError, match=r"more\.fcs.*(fewer than|truncated)"):
        read_fcs(more)
    assert read_fcs(src).n_events == n_tot  # the untouched file still reads


def test_qc_reports_not_checked_when_a_check_cannot_run(inputs):
    data = read_fcs(inputs.sheet.iloc[0].path)
    assert qc_file(data)["qc_status"] in ("pass", "fail")
    keep = [i for i, c in enumerate(data.channels) if c not in ("Time", "FSC-H")]
    data.events = data.events[:, keep]
    data.channels = [data.channels[i] for i in keep]
    data.markers = [data.markers[i] for i in keep]
    q = qc_file(data)
    assert q["qc_status"] == "not checked" and not q["qc_pass"]
    assert set(q["qc_not_checked"].split(";")) == {"doublets", "flow"}


def test_failed_check_wins_over_not_checked(inputs):
    data = read_fcs(inputs.sheet.iloc[0].path)
    data.events = data.events[:50]
    keep = [i for i, c in enumerate(data.channels) if c != "Time"]
    data.events, data.channels = data.events[:, keep], [data.channels[i] for i in keep]
    data.markers = [data.markers[i] for i in keep]
    q = qc_file(data)
    assert q["qc_low_events"] and q["qc_status"] == "fail" and q["qc_not_checked"] == "flow"
    assert np.isnan(q["max_gap_ratio"])


def test_t_cell_normalised_bcl2_score_cancels_a_detector_gain(inputs, tmp_path):
    from helpers.cytometry import sample_features

    sheet = inputs.sheet[(inputs.sheet["sample_id"] == "DRM001-DX") & (inputs.sheet["panel"] == "PHENO")].copy()
    ref = sample_features(process_files(sheet, inputs.gating, panels=inputs.panels), sheet, scores=False)
    data = read_fcs(sheet["path"].iloc[0])
    ev = data.events.copy()
    ev[:, data.channels.index("FITC-A")] *= 2  # the BCL2 detector at twice the gain
    bright = sheet.assign(path=str(write_fcs(data, tmp_path / "gain.fcs", events=ev)))
    got = sample_features(process_files(bright, inputs.gating, panels=inputs.panels), bright, scores=False)
    assert got["lsc_bcl2_mfi"].iloc[0] == pytest.approx(2 * ref["lsc_bcl2_mfi"].iloc[0], rel=1e-6)
    # The plain ratio moves with the gain (by less than log2(2): the file's spillover matrix no longer fits the
    # brighter detector, which moves BCL-xL too); the T-cell-normalised ratio moves a tenth as much or less.
    assert got["bcl2_family_score"].iloc[0] - ref["bcl2_family_score"].iloc[0] > 0.5
    assert abs(got["bcl2_family_score_tnorm"].iloc[0] - ref["bcl2_family_score_tnorm"].iloc[0]) < 0.08
