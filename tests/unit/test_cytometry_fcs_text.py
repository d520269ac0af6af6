"""The fast HEADER / TEXT reader of ``helpers.cytometry.fcs`` on constructed files: the same keywords and events as
FlowIO, the FCS 3.x rules FlowIO lacks (escaped delimiters, supplemental TEXT), and FlowIO for everything else (every
public FCS file: tests/public_data/test_cytometry_fcs_text_public_data.py)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from helpers.cytometry import read_fcs
from helpers.cytometry.fcs import _fast_text, _info_from_flowio, _open_flowdata
from helpers.errors import DataContractError


def _flowio_info(path):
    return _info_from_flowio(_open_flowdata(path, only_text=True))


def _fcs(pairs: dict[str, str], events: np.ndarray, *, version: str = "3.1", delim: str = "/",
         header_data: bool = True, stext: dict[str, str] | None = None, escape: bool = True) -> bytes:  # fmt: skip
    """An FCS file built by hand: HEADER, TEXT (and supplemental TEXT), float32 little-endian DATA."""
    data = events.astype("<f4").tobytes()

    def segment(kv: dict[str, str]) -> bytes:
        esc = (lambda s: s.replace(delim, delim * 2)) if escape else (lambda s: s)
        return (delim + "".join(f"{esc(k)}{delim}{esc(v)}{delim}" for k, v in kv.items())).encode()

    n_ev, n_par = events.shape
    base = {"$BYTEORD": "1,2,3,4", "$DATATYPE": "F", "$MODE": "L", "$NEXTDATA": "0", "$PAR": str(n_par),
            "$TOT": str(n_ev), **pairs}  # fmt: skip
    offsets = {"$BEGINDATA": "0" * 8, "$ENDDATA": "0" * 8, "$BEGINSTEXT": "0" * 8, "$ENDSTEXT": "0" * 8}
    text = segment({**base, **offsets})
    sup = segment(stext) if stext else b""
    t0 = 58
    s0 = t0 + len(text)
    d0 = s0 + len(sup)
    offsets["$BEGINDATA"], offsets["$ENDDATA"] = f"{d0:08d}", f"{d0 + len(data) - 1:08d}"
    if stext:
        offsets["$BEGINSTEXT"], offsets["$ENDSTEXT"] = f"{s0:08d}", f"{s0 + len(sup) - 1:08d}"
    text = segment({**base, **offsets})
    assert len(text) == s0 - t0
    head = f"FCS{version}    " + "".join(f"{v:>8}" for v in (t0, s0 - 1, *((d0, d0 + len(data) - 1) if header_data
                                                                            else (0, 0)), 0, 0))  # fmt: skip
    return head.encode() + text + sup + data


def _channels(n: int = 3) -> dict[str, str]:
    out = {}
    for i in range(1, n + 1):
        out |= {f"$P{i}N": ["FSC-A", "B1-A", "Time"][i - 1], f"$P{i}R": "262144", f"$P{i}B": "32", f"$P{i}E": "0,0"}
    out |= {"$P2S": "CD34", "$P2G": "2.0", "$P3G": "4.0", "$TIMESTEP": "0.01"}
    return out


@pytest.fixture
def events() -> np.ndarray:
    return np.random.default_rng(0).uniform(0, 1000, (50, 3)).astype(np.float32)


@pytest.mark.parametrize("version", ["2.0", "3.0", "3.1"])
@pytest.mark.parametrize("delim", ["/", "|", "\\", "*", "\x0c"])
def test_fast_reader_matches_flowio_on_constructed_files(tmp_path, events, version, delim):
    path = tmp_path / "a.fcs"
    path.write_bytes(_fcs(_channels(), events, version=version, delim=delim))
    info = _fast_text(path, path.stat().st_size)
    assert info is not None
    assert dataclasses.asdict(info) == dataclasses.asdict(_flowio_info(path))
    data = read_fcs(path, dtype=np.float64)
    assert data.markers == ["FSC-A", "CD34", "Time"]
    expected = events.astype(np.float64) / [1.0, 2.0, 1.0] * [1.0, 1.0, 0.01]  # $PnG, none on time; $TIMESTEP
    np.testing.assert_allclose(data.events, expected, rtol=1e-15)


def test_data_offsets_from_text_when_the_header_holds_zero(tmp_path, events):
    path = tmp_path / "big.fcs"
    path.write_bytes(_fcs(_channels(), events, header_data=False))
    info = _fast_text(path, path.stat().st_size)
    assert info is not None and (info.data_start, info.data_stop) == (0, 0)
    np.testing.assert_array_equal(read_fcs(path, preprocess=False).events, events)


def test_escaped_delimiters_follow_the_standard(tmp_path, events):
    pairs = _channels() | {"$P2S": "CD34/CD38", "NOTE": "a/b/c"}
    for delim in ("/", "|"):
        path = tmp_path / f"esc{ord(delim)}.fcs"
        path.write_bytes(_fcs({k: v.replace("/", delim) for k, v in pairs.items()}, events, delim=delim))
        data = read_fcs(path)
        assert data.markers[1] == f"CD34{delim}CD38" and data.metadata["NOTE"] == f"a{delim}b{delim}c"
    # FlowIO unescapes '/' as the standard says (and leaves '||' doubled, where the fast reader differs).
    assert _flowio_info(tmp_path / "esc47.fcs").stains[1] == "CD34/CD38"


def test_supplemental_text_is_read(tmp_path, events):
    path = tmp_path / "stext.fcs"
    spill = "2,B1-A,FSC-A,1,0.1,0,1"
    path.write_bytes(_fcs(_channels(), events, stext={"$SPILLOVER": spill, "$PAR": "99"}))
    data = read_fcs(path)
    assert data.metadata["$SPILLOVER"] == spill and "$SPILLOVER" not in _flowio_info(path).text  # FlowIO ignores it
    assert data.metadata["$PAR"] == "3"  # the primary TEXT wins


def _read_or_error(path):
    try:
        data = read_fcs(path, preprocess=False)
    except DataContractError as err:
        return str(err)
    return data.metadata, data.channels, data.markers, data.events.tobytes()


@pytest.mark.parametrize("case", ["empty value 2.0", "triple delimiter", "dollar in value", "unclosed", "P01N",
                                  "nextdata", "offset discrepancy"])  # fmt: skip
def test_irregular_files_are_left_to_flowio(tmp_path, events, case, monkeypatch):
    pairs, kw = _channels(), {}
    if case == "empty value 2.0":
        pairs, kw = pairs | {"&1Data File Prefix": ""}, {"version": "2.0"}
    elif case == "triple delimiter":
        pairs = pairs | {"NOTE": "x/"}
    elif case == "dollar in value":
        pairs = pairs | {"NOTE": "cost $5"}
    elif case == "P01N":
        pairs = {k.replace("$P1", "$P01"): v for k, v in pairs.items()}
    elif case == "nextdata":
        pairs = pairs | {"$NEXTDATA": "12345"}
    raw = _fcs(pairs, events, **kw)
    if case == "unclosed":
        t1 = int(raw[18:26])
        raw = raw[: t1 - 1] + b"xx" + raw[t1 + 1 :]
    elif case == "offset discrepancy":
        raw = raw[:26] + f"{int(raw[26:34]) - 4:>8}{int(raw[34:42]) - 4:>8}".encode() + raw[42:]
    path = tmp_path / "odd.fcs"
    path.write_bytes(raw)
    assert _fast_text(path, path.stat().st_size) is None
    got = _read_or_error(path)
    # The same outcome as with FlowIO alone (the reader before the fast path): the same data or the same error.
    monkeypatch.setattr("helpers.cytometry.fcs._fast_text", lambda path, size: None)
    assert got == _read_or_error(path)
