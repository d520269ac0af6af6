"""The panel contract, enforced wherever FCS files are read.

Stain names are matched through a synonym table, every marker of a tube must be present exactly once on its declared
detector, and a plausibility check flags swapped channels.

Instruments and operators spell stains in many ways ("Ki-67", "KI67", "ki67 APC-R700", "MKI67"). A stain is matched
by a normalised key (case folded; spaces, hyphens, underscores, dots and slashes removed; a trailing fluorochrome or
clone word dropped when the rest is a known marker) looked up in :data:`MARKER_SYNONYMS`. An unknown stain, a stain
that contradicts the panel, or a marker carried twice is a :class:`helpers.errors.DataContractError` naming the file,
the detector and the marker the panel expects: a misspelt Ki-67 must stop the run, not turn the Ki-67 read-outs into
NaN.

Channel swaps (two antibodies exchanged between detectors in one tube, the labels unchanged) cannot be seen in the
keywords. :func:`swap_warnings` compares, within a sample, the distribution (quantiles over the leukemic cells) of
every marker pair of each tube with the same markers in the sample's other tubes: a tube whose pair fits far better exchanged than as labelled is flagged
(a warning in the QC table, not an error: a real biological change between tubes cannot be excluded by the data).
"""

from __future__ import annotations

import re
from itertools import combinations

import numpy as np
import pandas as pd

from ..errors import DataContractError
from .fcs import FCSData

__all__ = ["FUNCTIONAL_MARKERS", "MARKER_SYNONYMS", "PROFILE_QUANTILES", "canonical_marker", "enforce_panel", "marker_profile", "swap_warnings"]

# Canonical marker (as in panels.csv and the gating strategies) -> accepted spellings besides the canonical one. Keys are
# compared after :func:`_norm` (so "Ki-67", "KI 67" and "ki67" are one entry); list aliases that differ beyond that.
MARKER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "CD45": ("PTPRC", "LCA"),
    "CD34": (),
    "CD117": ("c-kit", "KIT"),
    "CD38": (),
    "CD33": (),
    "CD14": (),
    "CD11b": ("ITGAM", "Mac-1"),
    "CD64": ("FCGR1A",),
    "CD3": (),
    "CD56": ("NCAM1", "NCAM"),
    "CD69": (),
    "CD13": (),
    "CD7": (),
    "CD19": (),
    "CD123": ("IL3RA",),
    "GPR56": ("ADGRG1",),
    "CD90": ("THY1",),
    "CD99": (),
    "CD371": ("CLL-1", "CLEC12A"),
    "TIM-3": ("CD366", "HAVCR2"),
    "HLA-DR": ("HLADR",),
    "PD-1": ("CD279", "PDCD1"),
    "AnnexinV": ("Annexin V", "Annexin-5", "ANXA5", "AnnV", "AxV"),
    "7-AAD": ("7AAD", "7-aminoactinomycin D"),
    "Ki-67": ("MKI67",),
    "BCL2": ("BCL-2",),
    "BCL-xL": ("BCLXL", "BCL2L1", "BCL-XL"),
    "MCL1": ("MCL-1",),
    "Puromycin": ("Puro", "anti-puromycin"),
    "CFSE": ("CFDA-SE", "CFDASE"),
    "CTV": ("CellTrace Violet", "CellTraceViolet", "CTViolet"),
    "CTFR": ("CellTrace Far Red",),
    "EdU": ("EdU-AF647", "Click-iT EdU"),
}

_SEP = re.compile(r"[\s\-_./]+")


def _norm(name: str) -> str:
    return _SEP.sub("", str(name)).casefold()


_LOOKUP: dict[str, str] = {}
for _canon, _aliases in MARKER_SYNONYMS.items():
    for _a in (_canon, *_aliases):
        _LOOKUP[_norm(_a)] = _canon


def canonical_marker(stain: str) -> str | None:
    """Return the canonical name of a stain ($PnS), or None when it is not a known marker.

    Matching ignores case and separators ("KI-67", "Ki 67", "ki67" are Ki-67), knows common aliases ("CD279" is PD-1,
    "MKI67" is Ki-67) and drops a trailing fluorochrome or clone word ("CD34 APC", "Ki67 APC-R700", "CD45-V500").

    Parameters
    ----------
    stain
        The stain as written in the file ($PnS), possibly with its conjugate.

    Returns
    -------
    str or None
        A key of :data:`MARKER_SYNONYMS` (e.g. ``"Ki-67"``, ``"PD-1"``), or None for an empty or unknown stain.
    """
    if not stain or not str(stain).strip():
        return None
    key = _norm(stain)
    if key in _LOOKUP:
        return _LOOKUP[key]
    words = str(stain).replace("_", " ").split()
    # "CD34 APC", "Ki67 APC-R700": a known marker followed by its conjugate. Try the longest known prefix of words.
    for k in range(len(words) - 1, 0, -1):
        head = _norm(" ".join(words[:k]))
        if head in _LOOKUP:
            return _LOOKUP[head]
    if len(words) == 1 and "-" in stain:  # "CD45-V500": marker and conjugate joined by a hyphen
        parts = stain.split("-")
        for k in range(len(parts) - 1, 0, -1):
            head = _norm("-".join(parts[:k]))
            if head in _LOOKUP and _norm("-".join(parts[k:])) not in _LOOKUP:
                return _LOOKUP[head]
    return None


def enforce_panel(data: FCSData, panel: dict[str, str], *, panel_name: str = "") -> FCSData:
    """Check a file against its panel and rename its stains to the panel's canonical marker names (in place).

    Parameters
    ----------
    data
        The file as read.
    panel
        Marker -> detector ($PnN) of the tube's panel (from ``panels.csv``).
    panel_name
        For messages.

    Returns
    -------
    FCSData
        ``data``, with ``markers`` set to the panel's names on the panel's detectors.

    Raises
    ------
    DataContractError
        Naming the file, the detector and the expected marker: a panel detector missing from the file; a detector whose
        stain is unknown or is another marker than the panel says; a marker carried on two detectors; a detector
        outside the panel carrying a stain (known or not) that the panel does not list.
    """
    where = f" (panel {panel_name})" if panel_name else ""
    canon_panel = {}
    for marker, channel in panel.items():
        c = canonical_marker(marker)
        if c is None:
            raise DataContractError(data.path, f"panels.csv names marker '{marker}'{where}, which is not in the synonym "
                                               f"table (helpers.cytometry.panel.MARKER_SYNONYMS)", channel=channel)  # fmt: skip
        canon_panel[channel] = (marker, c)
    markers = list(data.markers)
    seen: dict[str, str] = {}
    for channel, (marker, canon) in canon_panel.items():
        if channel not in data.channels:
            raise DataContractError(data.path, f"detector of marker '{marker}'{where} is missing", channel=channel)
        i = data.channels.index(channel)
        stain = data.markers[i] if data.markers[i] != channel else ""
        got = canonical_marker(stain)
        if got is None:
            what = f"unknown stain '{stain}'" if stain else "no stain ($PnS)"
            raise DataContractError(data.path, f"detector carries {what}; expected marker '{marker}'{where}",
                                    channel=channel)  # fmt: skip
        if got != canon:
            raise DataContractError(data.path, f"detector carries '{stain}' ({got}); expected marker '{marker}'{where}",
                                    channel=channel)  # fmt: skip
        seen[canon] = channel
        markers[i] = marker
    for i, channel in enumerate(data.channels):
        if channel in canon_panel or channel.upper().startswith(("FSC", "SSC", "TIME")):
            continue
        stain = data.markers[i] if data.markers[i] != channel else ""
        if not stain.strip():
            continue
        got = canonical_marker(stain)
        if got is not None and got in seen:
            raise DataContractError(data.path, f"marker '{stain}' is carried twice: here and on {seen[got]}; expected "
                                               f"it once{where}", channel=channel)  # fmt: skip
        raise DataContractError(data.path, f"detector carries '{stain}', which panel {panel_name or '?'} does not list "
                                           f"(expected markers: {', '.join(panel)})", channel=channel)  # fmt: skip
    data.markers = markers
    return data


PROFILE_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)
_MIN_PROFILE_EVENTS = 50
# Read-outs that change between the tubes of one sample by design (drug-induced death, cycling, translation, induced
# proteins): never evidence of a swap. The swap check compares lineage markers only.
FUNCTIONAL_MARKERS = frozenset({"AnnexinV", "7-AAD", "Ki-67", "Puromycin", "CFSE", "CTV", "CTFR", "EdU", "BCL2", "BCL-xL",
                                "MCL1", "CD69", "PD-1"})  # fmt: skip


def marker_profile(data: FCSData, mask: np.ndarray | None, markers: list[str], *, cofactor: float = 150.0) -> pd.DataFrame:
    """Compute quantiles (:data:`PROFILE_QUANTILES`) of arcsinh(x / cofactor) of each marker over events in ``mask``.

    The shape of a marker's distribution over the leukemic cells, not one summary: CD34 and CD38 can have similar
    means on CD34+ CD38+ blasts while CD34 spreads from negative to very bright and CD38 sits in a narrower band.

    Parameters
    ----------
    data
        One file (compensated linear intensities), its stains renamed to the panel's markers.
    mask
        Boolean mask of the events to profile (e.g. the blast gate); None uses every event.
    markers
        Markers to profile; those not in the file are skipped.
    cofactor
        arcsinh cofactor (150 for fluorescence).

    Returns
    -------
    pandas.DataFrame
        One row per marker: ``marker`` and ``q10, q25, q50, q75, q90`` (NaN with fewer than 50 events: too noisy to compare).
    """
    cols = [f"q{int(round(100 * q))}" for q in PROFILE_QUANTILES]
    rows = []
    for m in markers:
        if m not in data.markers:
            continue
        v = data.events[:, data.markers.index(m)]
        v = v[mask] if mask is not None else v
        qs = np.quantile(np.arcsinh(v / cofactor), PROFILE_QUANTILES) if v.size >= _MIN_PROFILE_EVENTS else np.full(len(cols), np.nan)
        rows.append({"marker": m, **dict(zip(cols, map(float, qs), strict=True))})
    return pd.DataFrame(rows, columns=["marker", *cols])


def swap_warnings(profiles: pd.DataFrame, *, min_shift: float = 1.5, ratio: float = 0.35,
                  exclude: frozenset[str] = FUNCTIONAL_MARKERS) -> pd.Series:  # fmt: skip
    """Flag tubes whose marker pattern fits far better with two markers exchanged.

    Parameters
    ----------
    profiles
        Long table: ``file``, ``sample_id``, ``marker`` and the quantile columns of :func:`marker_profile`.
    min_shift
        A pair is only considered when its labelled fit is off by at least this much from the sample's other tubes
        (mean absolute quantile difference in arcsinh units, summed over the two markers).
    ratio
        Flag when the exchanged fit is below ``ratio`` times the labelled fit.
    exclude
        Markers left out (:data:`FUNCTIONAL_MARKERS`: they differ between conditions by design).

    Returns
    -------
    pandas.Series
        Indexed by file: ``""`` or a warning such as ``"CD34 and CD38 look swapped (vs the sample's other tubes)"``.

    Notes
    -----
    The reference of a tube is the per-quantile median of the same markers in the sample's other tubes, so at least
    two other tubes must carry both markers; a pair whose two markers have alike distributions in the sample cannot
    be told apart and is never flagged.
    """
    qcols = [c for c in profiles.columns if c.startswith("q")]
    files = profiles["file"].unique()
    out = pd.Series("", index=files, dtype=object)
    profiles = profiles[~profiles["marker"].isin(exclude)]
    for _, grp in profiles.groupby("sample_id", sort=True):
        cube = grp.pivot(index="file", columns="marker", values=qcols)  # files x (quantile, marker)
        fnames, markers = list(cube.index), sorted(grp["marker"].unique())
        if len(fnames) < 3:
            continue
        arr = np.stack([cube[q][markers].to_numpy(dtype=float) for q in qcols], axis=-1)  # files x markers x q
        for i, f in enumerate(fnames):
            others = np.delete(arr, i, axis=0)
            flagged = []
            for a, b in combinations(range(len(markers)), 2):
                x = arr[i, [a, b]]
                ref_rows = others[:, [a, b]]
                ref_rows = ref_rows[np.isfinite(ref_rows).all(axis=(1, 2))]
                if len(ref_rows) < 2 or not np.isfinite(x).all():
                    continue
                ref = np.median(ref_rows, axis=0)
                same = np.abs(x[0] - ref[0]).mean() + np.abs(x[1] - ref[1]).mean()
                swapped = np.abs(x[0] - ref[1]).mean() + np.abs(x[1] - ref[0]).mean()
                if same >= min_shift and swapped < ratio * same:
                    flagged.append(f"{markers[a]} and {markers[b]} look swapped (vs the sample's other tubes)")
            if flagged:
                out[f] = "; ".join(flagged)
    return out
