"""Reading FCS 2.0 / 3.0 / 3.1 files with clear errors, and scrubbing identifying keywords before anything is written.

The HEADER and TEXT segments are parsed here (:func:`_fast_text`) when the TEXT segment is regular, which is almost
always; FlowIO parses everything else, and integer data (bit widths, $PnE log amplification, $PnG gain). Float and
double data are mapped straight from the file with numpy, which is what makes reading fast enough for the cohort (see
``benchmarks/bench_cytometry.py``). Files whose declared offsets do not match their size
(a common quirk of older instrument software) are retried with FlowIO's tolerant options before giving up; a truncated
or corrupt file raises :class:`helpers.errors.DataContractError` naming the file and what is wrong.
"""

from __future__ import annotations

import functools
import io
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import flowio
import numpy as np
import pandas as pd

from ..errors import DataContractError
from ..io import atomic_path

if TYPE_CHECKING:
    import anndata as ad

__all__ = [
    "FCSData",
    "read_fcs",
    "parse_spillover",
    "scrub_metadata",
    "write_fcs",
    "SAFE_KEYWORDS",
]

# Keywords that describe the acquisition and the channels but cannot identify a patient, operator, place or date.
# $CYTSN (the cytometer's serial number) is dropped too: with the acquisition site it narrows a file to a hospital.
# Everything else ($OP, $DATE, $BTIM, $ETIM, $SRC, $FIL, $INST, $COM, $SMNO, $CELLS, $PROJ, $EXP, instrument-vendor
# free text such as "PATIENT ID" or "EXPORT USER NAME") is dropped by :func:`scrub_metadata`.
SAFE_KEYWORDS = {
    "$BYTEORD", "$DATATYPE", "$MODE", "$PAR", "$TOT", "$CYT", "$TIMESTEP", "$SPILLOVER", "$SPILL", "SPILL",
    "$VOL", "$NEXTDATA", "$BEGINDATA", "$ENDDATA", "$BEGINANALYSIS", "$ENDANALYSIS", "$BEGINSTEXT", "$ENDSTEXT",
    "$ORIGINALITY", "$ABRT", "$LOST",
}  # fmt: skip
_CHANNEL_KEY = re.compile(r"^\$P\d+[BEGRNSVLOTFDP]$", re.IGNORECASE)
_PNN_KEY = re.compile(r"\$P\d+N")


@dataclass
class FCSData:
    """Events and metadata of one FCS data set.

    Attributes
    ----------
    path
        The file read.
    channels
        Detector names ($PnN), one per column of ``events``.
    markers
        Stain names ($PnS); the detector name where a channel has none.
    events
        Event matrix (events x channels), float32, after FCS pre-processing: integer channels divided by their gain
        and log-amplified channels decoded (``10^(decades raw / range) * log0``), time multiplied by $TIMESTEP.
    metadata
        The full TEXT segment with upper-case keys, as read. It may identify a patient: never write it out unscrubbed
        (see :func:`scrub_metadata`).
    version
        FCS version of the header ("2.0", "3.0", "3.1").
    """

    path: Path
    channels: list[str]
    markers: list[str]
    events: np.ndarray
    metadata: dict[str, str] = field(repr=False)
    version: str = "3.1"

    @property
    def n_events(self) -> int:
        """Number of events."""
        return int(self.events.shape[0])

    @functools.cached_property
    def spillover(self) -> pd.DataFrame | None:
        """The embedded spillover matrix ($SPILLOVER, $SPILL or SPILL), detectors x detectors, or None (parsed once)."""
        for key in ("$SPILLOVER", "$SPILL", "SPILL"):
            if key in self.metadata:
                return parse_spillover(self.metadata[key], path=self.path)
        return None

    def column(self, name: str) -> int:
        """Find the column of a channel given by marker ($PnS) or detector ($PnN) name.

        Parameters
        ----------
        name
            A stain (e.g. ``"CD34"``) or detector (e.g. ``"FL3-A"``) name, exactly as in the file; markers are
            searched first.

        Returns
        -------
        int
            The column index in :attr:`events`.

        Raises
        ------
        DataContractError
            When neither a marker nor a detector has that name.
        """
        if name in self.markers:
            return self.markers.index(name)
        if name in self.channels:
            return self.channels.index(name)
        raise DataContractError(self.path, f"no channel or marker named '{name}' (markers: {', '.join(self.markers)})",
                                channel=name)  # fmt: skip

    def frame(self) -> pd.DataFrame:
        """Return the events as a DataFrame with marker names as columns.

        Returns
        -------
        pandas.DataFrame
            Events x channels (float32, pre-processed as :attr:`events`), columns the stain names ($PnS, else $PnN).
        """
        return pd.DataFrame(self.events, columns=self.markers)

    def to_anndata(self) -> ad.AnnData:
        """Convert to AnnData (events x channels) for scverse tools.

        Returns
        -------
        anndata.AnnData
            ``X`` the events (linear, uncompensated), ``var`` indexed by unique marker names with ``channel`` ($PnN)
            and ``marker`` ($PnS); ``uns['file']`` the file name and ``uns['fcs']`` the scrubbed keywords only
            (identifying keywords never travel with the events).
        """
        import anndata as ad

        var = pd.DataFrame({"channel": self.channels, "marker": self.markers},
                           index=pd.Index(_unique(self.markers), name="name"))  # fmt: skip
        return ad.AnnData(X=self.events, var=var, uns={"file": self.path.name, "fcs": scrub_metadata(self.metadata)})


@dataclass
class _TextInfo:
    """What :func:`read_fcs` needs from the HEADER and TEXT segments, from the fast reader or from FlowIO."""

    text: dict[str, str]  # keywords in the project's form (see :func:`_key`)
    version: str
    data_start: int  # HEADER offsets of the DATA segment (0 when the TEXT holds them)
    data_stop: int
    channels: list[str]  # $PnN, in parameter order
    stains: list[str]  # $PnS ('' where absent)
    gains: list[float]  # $PnG (1.0 where absent, and for the time channel)
    time_index: int | None
    n_channels: int
    n_events: int
    data_type: str


def _info_from_flowio(fd: flowio.FlowData) -> _TextInfo:
    chans = [fd.channels[n] for n in sorted(fd.channels)]
    return _TextInfo(text={_key(k): v for k, v in fd.text.items()}, version=fd.version,
                     data_start=fd.header["data_start"], data_stop=fd.header["data_stop"],
                     channels=list(fd.pnn_labels), stains=list(fd.pns_labels), gains=[c["png"] for c in chans],
                     time_index=fd.time_index, n_channels=fd.channel_count, n_events=fd.event_count,
                     data_type=fd.data_type)  # fmt: skip


def _fast_text(path: Path, size: int) -> _TextInfo | None:
    r"""Parse the HEADER, TEXT and supplemental TEXT segments (FCS 2.0, 3.0, 3.1), or None to leave the file to FlowIO.

    Why not FlowIO for every file: FlowIO 1.4 is pure Python; it splits the TEXT with a regular expression, builds a
    record of every parameter keyword and opens the file several times, which was most of the per-file time on the
    cohort's small files. This reader does only what :func:`read_fcs` needs and returns what FlowIO would (keys in
    the form of :func:`_key`, which also reproduces FlowIO's removal of '$' from keys), with two standard rules that
    FlowIO lacks: a doubled delimiter in an FCS 3.x TEXT is an escaped delimiter (FlowIO leaves '||', '\\' and
    '**' doubled), and the supplemental TEXT ($BEGINSTEXT / $ENDSTEXT) is read (a keyword of the primary TEXT wins).
    The DATA offsets come from the HEADER, or from $BEGINDATA / $ENDDATA when the HEADER holds 0 (files over
    99,999,999 bytes).

    It returns None, and FlowIO reads the file as before, wherever the readings could differ or FlowIO's tolerant
    retries matter: a doubled delimiter in FCS 2.0 (writers such as CellQuest meant an empty value), three or more
    delimiters in a row, an empty keyword or value, a '$' inside a value (FlowIO drops it), a TEXT segment not closed
    by its delimiter, several data sets ($NEXTDATA), an ANALYSIS segment, DATA offsets in HEADER and TEXT that
    disagree or run past the end of the file, parameters numbered unusually ($P01N) and any keyword that does not
    parse.
    """
    try:
        with open(path, "rb") as fh:
            head = fh.read(58)
            version = head[3:6].decode("ascii")
            t0, t1, d0, d1 = (int(head[i : i + 8]) for i in (10, 18, 26, 34))
            a0, a1 = (int(v) if v.strip() else -1 for v in (head[42:50], head[50:58]))
            if version not in ("2.0", "3.0", "3.1") or not 58 <= t0 < t1 < size:
                return None
            fh.seek(t0)
            raw = fh.read(t1 - t0 + 1)
            text = _fast_pairs(raw, escapes=version != "2.0")
            if text is None:
                return None
            s0, s1 = text.get("$BEGINSTEXT", "0").strip() or "0", text.get("$ENDSTEXT", "0").strip() or "0"
            s0, s1 = int(s0), int(s1)
            if s1 > s0 > 0:
                if s1 >= size:
                    return None
                fh.seek(s0)
                supplement = _fast_pairs(fh.read(s1 - s0 + 1), escapes=True)
                if supplement is None:
                    return None
                text = {**supplement, **text}
        if int(text.get("$NEXTDATA", "0")) != 0:
            return None
        # FlowIO parses an ANALYSIS segment (TEXT offsets first, then HEADER ones) and can fail on it.
        if int(text.get("$BEGINANALYSIS", a0)) != int(text.get("$ENDANALYSIS", a1)):
            return None
        if version != "2.0":
            b0, b1 = int(text["$BEGINDATA"]), int(text["$ENDDATA"])
            # HEADER offsets of 0 mean "see TEXT" (files over 99,999,999 bytes, and some writers always).
            if (b0, b1) != (d0, d1) and (d0, d1) != (0, 0):
                return None
            stop = b1
        else:
            stop = d1
        if stop > size:
            return None
        n_channels, n_events, data_type = int(text["$PAR"]), int(text["$TOT"]), text["$DATATYPE"]
        layout = _channel_layout(tuple(text))
        if layout is None:
            return None
        channels, stains, gains, time_index = [], [], [], None
        for i, (k_n, k_r, k_e, k_g, k_s) in enumerate(layout):
            name = text[k_n]
            float(text[k_r])  # required; FlowIO fails on a missing or non-numeric range
            if k_e in text:
                _decades, _log0 = (float(x) for x in text[k_e].split(","))  # FlowIO's validation
            gain = float(text[k_g]) if k_g in text else 1.0
            if name.lower() == "time":  # FlowIO's rule: the time channel has no gain
                time_index, gain = i, 1.0
            channels.append(name)
            stains.append(text.get(k_s, ""))
            gains.append(gain)
    except (ValueError, KeyError, IndexError, OSError, UnicodeDecodeError):
        return None
    return _TextInfo(text=text, version=version, data_start=d0, data_stop=d1, channels=channels, stains=stains,
                     gains=gains, time_index=time_index, n_channels=n_channels, n_events=n_events,
                     data_type=data_type)  # fmt: skip


@functools.lru_cache(maxsize=256)  # a cohort's files share their keyword sets: find the parameters once per set
def _pnn_numbers(keys: tuple[str, ...]) -> list[int]:
    """Return the sorted parameter numbers n of the $PnN keywords."""
    return sorted(int(k[2:-1]) for k in keys if _PNN_KEY.fullmatch(k))


@functools.lru_cache(maxsize=256)
def _channel_layout(keys: tuple[str, ...]) -> tuple[tuple[str, str, str, str, str], ...] | None:
    """Return the keywords ($PnN, $PnR, $PnE, $PnG, $PnS) of each parameter in order, None when numbered unusually."""
    numbers = _pnn_numbers(keys)
    names = set(keys)
    if any(f"$P{n}N" not in names for n in numbers):  # e.g. $P01N: FlowIO's numbering is left to FlowIO
        return None
    return tuple(tuple(f"$P{n}{c}" for c in "NREGS") for n in numbers)


@functools.lru_cache(maxsize=256)
def _normalised_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_key(k.replace("$", "").lower()) for k in keys)


def _fast_pairs(raw: bytes, *, escapes: bool) -> dict[str, str] | None:
    """Keyword-value pairs of a TEXT segment (its first character the delimiter), or None (see :func:`_fast_text`).

    ``escapes``: a doubled delimiter is an escaped delimiter (FCS 3.x); otherwise a doubled delimiter returns None.
    """
    try:
        segment = raw.decode()
    except UnicodeDecodeError:  # the same fallback as FlowIO
        segment = raw.decode("ISO-8859-1")
    if len(segment) < 3:
        return None
    delim = segment[0]
    # FlowIO drops the segment's last character whatever it is: a closing delimiter, or one stray byte after it.
    if segment[-1] == delim:
        body = segment[1:-1]
    elif segment[-2] == delim:
        body = segment[1:-2]
    else:
        return None
    if not body:
        return None
    escaped = delim * 2 in body
    if escaped:
        # Keyword values are never empty (FCS 3.1, 3.2.6), so a pair of delimiters is one escaped delimiter; a run of
        # three or more has two readings.
        placeholder = "\ue000"  # a private-use character, stands for the escaped delimiter while splitting
        if not escapes or delim * 3 in body or placeholder in body:
            return None
        body = body.replace(delim * 2, placeholder)
    parts = body.split(delim)
    if len(parts) % 2 or not all(parts):
        return None
    keys, values = parts[0::2], parts[1::2]
    if "$" in "".join(values):
        return None
    if escaped:
        keys = [k.replace(placeholder, delim) for k in keys]
        values = [v.replace(placeholder, delim) for v in values]
    return dict(zip(_normalised_keys(tuple(keys)), values, strict=True))


def _read_info(path: Path, size: int) -> _TextInfo:
    info = _fast_text(path, size)
    return info if info is not None else _info_from_flowio(_open_flowdata(path, only_text=True))


def _open_flowdata(path: Path, *, only_text: bool) -> flowio.FlowData:
    """FlowIO parse with increasingly tolerant offset handling; a clear error if the file is not a readable FCS."""
    attempts = [{}, {"ignore_offset_discrepancy": True}, {"ignore_offset_discrepancy": True, "use_header_offsets": True},
                {"ignore_offset_error": True}]  # fmt: skip
    last = None
    for opts in attempts:
        try:
            return flowio.FlowData(str(path), only_text=only_text, **opts)
        except flowio.exceptions.MultipleDataSetsError as err:
            raise DataContractError(path, "the file holds several data sets; export one data set per FCS file") from err
        except (flowio.exceptions.DataOffsetDiscrepancyError, flowio.exceptions.FCSParsingError) as err:
            last = err
        except (ValueError, IndexError, KeyError, UnicodeDecodeError, struct.error) as err:
            last = err
            break
    raise DataContractError(path, f"not a readable FCS file: {type(last).__name__}: {last}")


def _check_header(path: Path) -> int:
    """Check the HEADER segment against the file's size; returns the size."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(58)
    if len(head) < 58 or not head.startswith(b"FCS"):
        raise DataContractError(path, f"not an FCS file: the header must start with 'FCS' and hold 58 bytes "
                                      f"(found {head[:10]!r}, {size} bytes)")  # fmt: skip
    try:
        text_end = int(head[18:26])
        data_end = int(head[34:42]) if head[34:42].strip() else 0
    except ValueError as err:
        raise DataContractError(path, f"corrupt FCS header offsets: {head[10:58]!r}") from err
    if text_end >= size:
        raise DataContractError(path, f"truncated file: the TEXT segment ends at byte {text_end} but the file has "
                                      f"{size} bytes")  # fmt: skip
    if data_end >= size + 1:
        raise DataContractError(path, f"truncated file: the DATA segment ends at byte {data_end} but the file has "
                                      f"{size} bytes")  # fmt: skip
    return size


def _int_keyword(path: Path, text: dict, key: str) -> int:
    raw = str(text.get(key, "")).strip()
    try:
        return int(float(raw))
    except ValueError as err:
        raise DataContractError(path, f"keyword {key} must be a whole number, found {raw!r}") from err


def _check_structure(path: Path, text: dict, info: _TextInfo, size: int) -> None:
    """Check that the DATA segment holds exactly $TOT x $PAR values of the declared widths, and $PAR must match $PnN.

    FlowIO reads the first $TOT x $PAR values and ignores the rest, so a file holding more data than its keywords
    declare (a wrong $TOT or $PAR written by converting software) would be read with events lost or columns shifted.
    """
    for key in ("$PAR", "$TOT"):
        if key not in text:
            raise DataContractError(path, f"required keyword {key} is missing from the TEXT segment")
    n_par, n_tot = _int_keyword(path, text, "$PAR"), _int_keyword(path, text, "$TOT")
    if n_par < 1 or n_tot < 0:
        raise DataContractError(path, f"$PAR = {n_par} and $TOT = {n_tot} describe no data")
    idx = _pnn_numbers(tuple(text))
    present = set(idx)
    missing = [i for i in range(1, n_par + 1) if i not in present]
    if missing:
        raise DataContractError(path, f"$PAR = {n_par} but keyword $P{missing[0]}N is missing "
                                      f"({len(idx)} $PnN keywords)", channel=f"$P{missing[0]}N")  # fmt: skip
    extra = [i for i in idx if i > n_par]
    if extra:
        raise DataContractError(path, f"$PAR = {n_par} but the TEXT segment describes parameter $P{extra[0]}N "
                                      f"({text[f'$P{extra[0]}N']}): $PAR is wrong or the file was edited",
                                channel=text[f"$P{extra[0]}N"])  # fmt: skip
    dtype = str(text.get("$DATATYPE", "")).strip().upper()
    if dtype == "F":
        widths = [4] * n_par
    elif dtype == "D":
        widths = [8] * n_par
    elif dtype == "I":
        widths = []
        for i in range(1, n_par + 1):
            bits = str(text.get(f"$P{i}B", "")).strip()
            if not bits.isdigit() or int(bits) % 8:
                raise DataContractError(path, f"$P{i}B = {bits!r}: integer data need a bit width that is a multiple "
                                              f"of 8", channel=text.get(f"$P{i}N"))  # fmt: skip
            widths.append(int(bits) // 8)
    else:
        raise DataContractError(path, f"unsupported $DATATYPE {dtype!r} (F, D or I)")
    start, stop = info.data_start, info.data_stop
    if start == 0 and stop == 0:
        start, stop = int(text.get("$BEGINDATA", 0) or 0), int(text.get("$ENDDATA", 0) or 0)
    if stop <= 0 and start <= 0:
        return  # no DATA offsets at all: left to the reader's own checks
    held = stop - start + 1
    need = n_tot * sum(widths)
    # A segment ending one byte past the last value is a common off-by-one of writers; a whole extra value is not.
    if held - need >= min(widths):
        raise DataContractError(path, f"DATA segment holds {held} bytes, more than $TOT x $PAR x bytes per value = "
                                      f"{n_tot} x {n_par} x {sum(widths) / n_par:g} = {need}: $TOT or $PAR is wrong "
                                      f"(events would be lost or columns shifted)")  # fmt: skip
    if held < need and start + need > size:
        raise DataContractError(path, f"truncated file: {n_tot} events x {n_par} channels need {need} bytes from "
                                      f"byte {start}, but the file has {size} bytes")  # fmt: skip
    if held < need:
        raise DataContractError(path, f"DATA segment holds {held} bytes, fewer than $TOT x $PAR x bytes per value = "
                                      f"{n_tot} x {n_par} x {sum(widths) / n_par:g} = {need}")  # fmt: skip


def read_fcs(path: str | Path, *, dtype: type = np.float32, preprocess: bool = True) -> FCSData:
    """Read one FCS file (2.0, 3.0 or 3.1) into an :class:`FCSData`.

    Parameters
    ----------
    path
        The file.
    dtype
        Floating type of the event matrix (float32 halves memory; float64 for exact comparison with other readers).
    preprocess
        Apply $PnG gain, $PnE log decoding and $TIMESTEP (default); False returns the values as stored.

    Returns
    -------
    FCSData
        Detector ($PnN) and stain ($PnS) names, the events (events x channels) and the full TEXT keywords; see
        :class:`FCSData` for the pre-processing applied.

    Raises
    ------
    DataContractError
        File missing, not an FCS file, truncated (the DATA segment runs past the end of the file or holds fewer
        bytes than $TOT x $PAR values), a DATA segment longer than $TOT x $PAR x bytes per value (a wrong $TOT or
        $PAR), $PAR not matching the $PnN keywords, unsupported mode, or non-finite event values (naming the channel).
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "file not found")
    size = _check_header(path)
    info = _read_info(path, size)
    text = info.text
    _check_structure(path, text, info, size)
    mode = text.get("$MODE", "L").upper()
    if mode != "L":
        raise DataContractError(path, f"only list-mode data are supported ($MODE = {mode})")
    channels = list(info.channels)
    markers = [s.strip() if s and s.strip() else n for n, s in zip(info.channels, info.stains, strict=True)]
    n_ch, n_ev = info.n_channels, info.n_events
    start, stop = info.data_start, info.data_stop
    if start == 0 and stop == 0:  # FCS 3.x with large files: offsets only in TEXT
        start, stop = int(text.get("$BEGINDATA", 0)), int(text.get("$ENDDATA", 0))
    dtype_code = info.data_type
    if dtype_code in ("F", "D"):
        width = 4 if dtype_code == "F" else 8
        need = n_ev * n_ch * width
        if start + need > size:
            raise DataContractError(path, f"truncated file: {n_ev} events x {n_ch} channels need {need} bytes from "
                                          f"byte {start}, but the file has {size} bytes")  # fmt: skip
        order = "<" if text.get("$BYTEORD", "1,2,3,4").startswith("1") else ">"
        raw = np.fromfile(path, dtype=f"{order}f{width}", count=n_ev * n_ch, offset=start)
        # np.fromfile returns a fresh array: scaling it in place is safe.
        events = raw.reshape(n_ev, n_ch).astype(dtype, copy=False)
        gains = np.array([g or 1.0 for g in info.gains[:n_ch]], dtype=np.float64)
        if preprocess and np.any(gains != 1.0):
            events /= gains.astype(dtype)
        if preprocess and info.time_index is not None and text.get("$TIMESTEP", "").strip():
            events[:, info.time_index] *= dtype(float(text["$TIMESTEP"]))
    else:
        try:
            full = _open_flowdata(path, only_text=False)
            events = full.as_array(preprocess=preprocess).astype(dtype, copy=False)
        except DataContractError:
            raise
        except Exception as err:  # FlowIO raises bare errors on short integer data
            raise DataContractError(path, f"cannot decode the DATA segment ({dtype_code}): {err}") from err
        if events.shape != (n_ev, n_ch):
            raise DataContractError(path, f"DATA segment holds {events.size} values, expected {n_ev} x {n_ch}")
    finite = np.isfinite(events)
    if not finite.all():
        bad = int(np.flatnonzero(~finite.all(axis=0))[0])
        raise DataContractError(path, "non-finite event values", channel=channels[bad])
    return FCSData(path=path, channels=channels, markers=markers, events=events, metadata=text, version=info.version)


def _unique(names: list[str]) -> list[str]:
    # Marker names can repeat (e.g. two empty $PnS fall back to their detectors, which are unique); make them unique.
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}-{seen[n]}")
    return out


_STANDARD_KEYS = frozenset({
    "beginanalysis", "begindata", "beginstext", "byteord", "datatype", "endanalysis", "enddata", "endstext", "mode",
    "nextdata", "par", "tot", "cyt", "cytsn", "timestep", "spillover", "spill", "vol", "op", "date", "btim", "etim",
    "src", "fil", "inst", "com", "smno", "cells", "proj", "exp", "sys", "originality", "abrt", "lost", "last_modified",
    "last_modifier", "plateid", "platename", "wellid", "unicode", "csmode", "csvbits", "cstot", "gate",
})  # fmt: skip
_INDEXED_KEY = re.compile(r"^[pgr]\d+[a-z]$")


@functools.lru_cache(maxsize=8192)  # a cohort's files share their keywords: normalise each name once
def _key(k: str) -> str:
    # FlowIO lower-cases keywords and strips the leading '$' of standard ones; restore the standard form.
    low = k.lower()
    if low in _STANDARD_KEYS or _INDEXED_KEY.match(low):
        return "$" + low.upper()
    return k.upper()


def parse_spillover(text: str, *, path: str | Path | None = None) -> pd.DataFrame:
    """Parse an FCS spillover string ``n, name_1..name_n, v_11..v_nn`` into a detectors x detectors DataFrame.

    Rows are the dyes (source detector), columns the detectors that see their light, as the FCS 3.1 standard defines.

    Parameters
    ----------
    text
        The keyword's value ($SPILLOVER, $SPILL or SPILL), comma-separated.
    path
        The file it came from, named in error messages.

    Returns
    -------
    pandas.DataFrame
        Spillover fractions (1 on the diagonal), index and columns the detector names ($PnN) in the keyword's order.

    Raises
    ------
    DataContractError
        Wrong number of values or non-numeric entries.
    """
    # A cohort shares a handful of matrices and building the DataFrame costs more than reading a small file: parse
    # each text once and hand out copies (callers may modify theirs).
    hit = _SPILL_CACHE.get(text)
    if hit is None:
        hit = _parse_spillover(text, path)
        if len(_SPILL_CACHE) < 256:
            _SPILL_CACHE[text] = hit
    return hit.copy()


_SPILL_CACHE: dict[str, pd.DataFrame] = {}


def _parse_spillover(text: str, path: str | Path | None) -> pd.DataFrame:
    parts = [p.strip() for p in text.split(",")]
    try:
        n = int(float(parts[0]))
    except ValueError as err:
        raise DataContractError(path, f"spillover matrix: first value must be the channel count, got {parts[0]!r}") from err
    if len(parts) != 1 + n + n * n:
        raise DataContractError(path, f"spillover matrix: {n} channels need {1 + n + n * n} values, found {len(parts)}")
    names = parts[1 : 1 + n]
    try:
        vals = np.array([float(v) for v in parts[1 + n :]], dtype=np.float64).reshape(n, n)
    except ValueError as err:
        raise DataContractError(path, f"spillover matrix: non-numeric value ({err})") from err
    return pd.DataFrame(vals, index=names, columns=names)


def scrub_metadata(metadata: dict[str, str]) -> dict[str, str]:
    """Keep only keywords that cannot identify a patient (channel keywords and :data:`SAFE_KEYWORDS`).

    A whitelist rather than a blacklist: vendors add free-text keywords (patient, sample or operator names) under
    names nobody can enumerate, so anything not known to be safe is dropped.

    Parameters
    ----------
    metadata
        FCS TEXT keywords (any case).

    Returns
    -------
    dict of str to str
        The safe keywords, keys upper-cased: $PnX channel keywords and :data:`SAFE_KEYWORDS`.
    """
    keep = {}
    for k, v in metadata.items():
        key = k.upper()
        if key in SAFE_KEYWORDS or _CHANNEL_KEY.match(key):
            keep[key] = v
    return keep


def write_fcs(data: FCSData, path: str | Path, *, events: np.ndarray | None = None) -> Path:
    """Write ``data`` (or a subset of its events) as an FCS 3.1 file with scrubbed metadata only.

    Parameters
    ----------
    data
        Source data set (its channel names, stains and spillover are kept).
    path
        Target file (written atomically).
    events
        Optional event matrix to write instead of ``data.events`` (e.g. the events of one gate).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    ev = np.array(data.events if events is None else events, dtype=np.float32)
    meta = scrub_metadata(data.metadata)
    # FlowIO writes the structural keywords itself; pass only descriptive ones. Events are already pre-processed
    # (gain divided out), so $PnG is left at 1, and the time channel goes back to $TIMESTEP units.
    structural = re.compile(r"^\$(P\d+[BNSEG]|BEGIN|END|BYTEORD|DATATYPE|MODE|NEXTDATA|PAR|TOT)", re.IGNORECASE)
    extra = {k: v for k, v in meta.items() if not structural.match(k)}
    step = float(meta.get("$TIMESTEP", "") or 1.0)
    up = [c.upper() for c in data.channels]
    if "TIME" in up and step != 1.0:
        ev[:, up.index("TIME")] /= np.float32(step)
    buf = io.BytesIO()
    flowio.create_fcs(buf, ev.ravel(), data.channels, opt_channel_names=data.markers,
                      metadata_dict=extra)  # fmt: skip
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(buf.getvalue())
    return path
