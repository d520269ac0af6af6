"""Count tables as input: a barcode x sample matrix (or a long table) and a design sheet, validated on load.

Layout of ``<data_dir>/barcodes/`` for a lab that starts from counts (see docs/barcodes.md)::

    counts.tsv | counts.csv | counts.txt   wide (barcode rows, one column per sequenced library) or long
                                            (``barcode, sample, count``); the separator is read from the content
    sample_sheet.csv                        the design: one row per column of the count table

Wide tables are what bartools, barcodetrackR, pycashier (``combine``) and genBaRcode write: a first column of barcode
names (its header may be empty) and one integer column per library. The design sheet names at least
``sample, mouse, arm, tissue, timepoint, pcr_replicate``; arms have free names. Optional columns: ``pdx_id``,
``patient_id``, ``sample_id`` (the patient sample of origin), ``baseline`` (the ``mouse`` value of the baseline rows this
mouse started from: a shared pre-transplant pool is one set of rows with ``arm = baseline``, referenced by every mouse;
a mouse's own pre-treatment sample is referenced by the mouse's own name), ``control`` (``true`` on the rows of the
control arm) and ``burden_pct`` (per mouse leukemic burden, e.g. human CD45 chimerism in %, for absolute clone sizes).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataContractError
from ..validation import read_csv_checked

__all__ = [
    "DESIGN_COLUMNS", "BASELINE_ARM", "COUNT_FILE_NAMES", "CountDataset", "read_count_table", "load_design",
    "load_count_dataset", "design_from_fastq_sheet", "design_from_bartools", "collapse_replicates", "control_arm", "samples_from_units",
    "absolute_clone_sizes",
]  # fmt: skip

DESIGN_COLUMNS = ("sample", "mouse", "arm", "tissue", "timepoint", "pcr_replicate")
BASELINE_ARM = "baseline"
COUNT_FILE_NAMES = ("counts.tsv", "counts.csv", "counts.txt")
_TRUE = {"true", "yes", "1", "y", "t"}
_FALSE = {"false", "no", "0", "n", "f", ""}


@dataclass
class CountDataset:
    """A validated count-table data folder: ``counts`` (barcode x sample, int64) and its ``design``."""

    root: Path
    counts: pd.DataFrame
    design: pd.DataFrame


def _sniff_separator(path: Path) -> str:
    """Separator of a delimited text file, read from its first lines (never from the suffix)."""
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        head = "".join(fh.readline() for _ in range(5))
    if not head.strip():
        raise DataContractError(path, "empty count table")
    try:
        return csv.Sniffer().sniff(head, delimiters="\t,;").delimiter
    except csv.Error:
        first = head.splitlines()[0]
        counts = {d: first.count(d) for d in "\t,;"}
        sep = max(counts, key=counts.get)
        if counts[sep] == 0:
            raise DataContractError(path, "cannot tell the separator (no tab, comma or semicolon in the header)",
                                    row=1) from None  # fmt: skip
        return sep


def _integer_counts(values: pd.DataFrame, path: Path, *, line_offset: int) -> pd.DataFrame:
    """Check that every cell is a non-negative integer (``175.0`` accepted, as bartools writes); return int64."""
    num = values.apply(pd.to_numeric, errors="coerce")
    for problem, bad in (
        ("is not a number", num.isna() & values.notna() & (values.astype(str).apply(lambda s: s.str.strip()) != "")),
        ("is empty", values.isna() | (values.astype(str).apply(lambda s: s.str.strip()) == "")),
        ("is negative", num < 0),
        ("is not an integer count", (num % 1).abs() > 1e-9),
    ):
        arr = bad.to_numpy()
        if arr.any():
            i, j = np.argwhere(arr)[0]
            raise DataContractError(path, f"count {values.iat[i, j]!r} {problem}", row=int(i) + line_offset,
                                    column=str(values.columns[j]))  # fmt: skip
    return num.round().astype("int64")


def read_count_table(path: str | Path) -> pd.DataFrame:
    """Read a barcode count table, wide or long, comma-, tab- or semicolon-separated (told from the content).

    Parameters
    ----------
    path
        A wide table (first column the barcode, one column per sample) or a long one with columns ``barcode``,
        ``sample`` (or ``library_id``) and ``count``.

    Returns
    -------
    DataFrame
        Barcode x sample matrix of int64 counts (index ``barcode``, columns ``sample``), in the file's order.

    Raises
    ------
    DataContractError
        Missing or empty file, a table without rows or sample columns, a missing or duplicated barcode (or
        barcode-sample pair of a long table), a count that is not a non-negative integer. Rows are line numbers in the
        file (header = 1).
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "count table not found")
    df = read_csv_checked(path, sep=_sniff_separator(path), dtype=str, na_values=[])
    if df.shape[0] == 0:
        raise DataContractError(path, "empty count table (no barcode rows)")
    cols = [c.strip() for c in df.columns]
    df.columns = cols
    sample_col = "sample" if "sample" in cols else "library_id" if "library_id" in cols else None
    if {"barcode", "count"} <= set(cols) and sample_col is not None:
        for c in ("barcode", sample_col):
            empty = np.flatnonzero(df[c].str.strip() == "")
            if empty.size:
                raise DataContractError(path, "empty value", row=int(empty[0]) + 2, column=c)
        dup = np.flatnonzero(df.duplicated(["barcode", sample_col]).to_numpy())
        if dup.size:
            raise DataContractError(path, f"duplicated (barcode, {sample_col}) pair "
                                    f"({df['barcode'].iat[dup[0]]}, {df[sample_col].iat[dup[0]]})",
                                    row=int(dup[0]) + 2, column="barcode")  # fmt: skip
        cnt = _integer_counts(df[["count"]], path, line_offset=2)["count"]
        long = pd.DataFrame({"barcode": df["barcode"], "sample": df[sample_col], "count": cnt})
        wide = long.pivot(index="barcode", columns="sample", values="count").fillna(0).astype("int64")
        wide = wide.reindex(index=pd.unique(long["barcode"]), columns=pd.unique(long["sample"]))
    else:
        bc_col = cols[0]
        if df.shape[1] < 2:
            raise DataContractError(path, "a wide count table needs a barcode column and at least one sample column")
        barcodes = df[bc_col].str.strip()
        empty = np.flatnonzero(barcodes == "")
        if empty.size:
            raise DataContractError(path, "missing barcode name", row=int(empty[0]) + 2, column=bc_col or "(first)")
        dup = np.flatnonzero(barcodes.duplicated().to_numpy())
        if dup.size:
            raise DataContractError(path, f"duplicated barcode row {barcodes.iat[dup[0]]!r}", row=int(dup[0]) + 2,
                                    column=bc_col or "(first)")  # fmt: skip
        dup_cols = pd.Index(cols[1:])[pd.Index(cols[1:]).duplicated()]
        if len(dup_cols):
            raise DataContractError(path, f"duplicated sample column {dup_cols[0]!r}", row=1, column=dup_cols[0])
        wide = _integer_counts(df.iloc[:, 1:], path, line_offset=2)
        wide.index = pd.Index(barcodes.to_numpy(), name="barcode")
    wide.index.name, wide.columns.name = "barcode", "sample"
    return wide


def _truthy(value: str, path: Path, row: int, column: str) -> bool:
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise DataContractError(path, f"{value!r} is not true/false", row=row, column=column)


def load_design(path: str | Path, *, samples: list[str] | pd.Index | None = None) -> pd.DataFrame:
    """Read and validate the design sheet of a count table.

    Parameters
    ----------
    path
        ``sample_sheet.csv`` (separator read from the content).
    samples
        The count table's sample columns: each must be in the sheet and each sheet row in the table.

    Returns
    -------
    DataFrame
        The sheet with ``pcr_replicate`` as int64, ``pdx_id``/``patient_id``/``sample_id`` filled (default: one PDX
        named ``PDX``), ``baseline`` (empty when absent), ``control`` (bool) and ``burden_pct`` (float, NaN when absent).

    Raises
    ------
    DataContractError
        Missing column or value, a PCR replicate that is not a positive integer, a duplicated sample or (mouse, tissue,
        timepoint, replicate), a mouse in two arms or two PDX, a baseline that no baseline row defines, a mouse without a
        baseline when the design has one, a control flag that differs within an arm, a burden outside 0-100 %, a sample
        missing from the count table or a count column missing from the sheet. Rows are line numbers (header = 1).
    """
    path = Path(path)
    if not path.is_file():
        raise DataContractError(path, "sample sheet not found")
    df = read_csv_checked(path, sep=_sniff_separator(path), dtype=str, na_values=[])
    df.columns = [c.strip() for c in df.columns]
    if df.empty:
        raise DataContractError(path, "empty sample sheet")
    missing = [c for c in DESIGN_COLUMNS if c not in df.columns]
    if missing:
        raise DataContractError(path, f"missing required column(s): {', '.join(missing)}", row=1, column=missing[0])
    df = df.apply(lambda s: s.str.strip())
    for col in DESIGN_COLUMNS:
        empty = np.flatnonzero(df[col] == "")
        if empty.size:
            raise DataContractError(path, "empty value", row=int(empty[0]) + 2, column=col)
    rep = pd.to_numeric(df["pcr_replicate"], errors="coerce")
    bad = np.flatnonzero((rep.isna() | (rep < 1) | (rep % 1 != 0)).to_numpy())
    if bad.size:
        raise DataContractError(path, f"PCR replicate must be a positive integer, got {df['pcr_replicate'].iat[bad[0]]!r}",
                                row=int(bad[0]) + 2, column="pcr_replicate")  # fmt: skip
    df["pcr_replicate"] = rep.astype("int64")
    for col in ("pdx_id", "patient_id", "sample_id"):
        if col not in df:
            df[col] = df["pdx_id"] if col != "pdx_id" else "PDX"
        df[col] = df[col].where(df[col] != "", df["pdx_id"])
    dup = np.flatnonzero(df["sample"].duplicated().to_numpy())
    if dup.size:
        raise DataContractError(path, f"duplicated sample {df['sample'].iat[dup[0]]!r}", row=int(dup[0]) + 2,
                                column="sample")  # fmt: skip
    dup = np.flatnonzero(df.duplicated(["mouse", "tissue", "timepoint", "pcr_replicate"]).to_numpy())
    if dup.size:
        raise DataContractError(path, "duplicated (mouse, tissue, timepoint, pcr_replicate)", row=int(dup[0]) + 2,
                                column="pcr_replicate")  # fmt: skip
    for key, col in (("mouse", "arm"), ("mouse", "pdx_id")):
        n = df.groupby(key)[col].transform("nunique")
        bad = np.flatnonzero((n > 1).to_numpy())
        if bad.size:
            raise DataContractError(path, f"mouse {df[key].iat[bad[0]]!r} has more than one {col}",
                                    row=int(bad[0]) + 2, column=col)  # fmt: skip
    is_base = df["arm"].str.lower() == BASELINE_ARM
    if "baseline" not in df:
        df["baseline"] = ""
    base_mice = set(df.loc[is_base, "mouse"])
    own_mice = set(df["mouse"])
    for i in np.flatnonzero(~is_base.to_numpy()):
        ref = df["baseline"].iat[i]
        if ref == "" and base_mice:
            raise DataContractError(path, f"mouse {df['mouse'].iat[i]!r} has no baseline (the design has baseline "
                                    f"rows {', '.join(sorted(base_mice))})", row=i + 2, column="baseline")  # fmt: skip
        if ref != "" and ref not in base_mice and ref != df["mouse"].iat[i]:
            hint = "" if ref not in own_mice else " (it is another mouse, not a baseline)"
            raise DataContractError(path, f"baseline {ref!r} of mouse {df['mouse'].iat[i]!r} is not defined by any row "
                                    f"with arm '{BASELINE_ARM}'{hint}", row=i + 2, column="baseline")  # fmt: skip
    if "control" in df:
        df["control"] = [_truthy(v, path, i + 2, "control") for i, v in enumerate(df["control"])]
        n = df.groupby("arm")["control"].transform("nunique")
        bad = np.flatnonzero((n > 1).to_numpy())
        if bad.size:
            raise DataContractError(path, f"arm {df['arm'].iat[bad[0]]!r} is control in some rows only",
                                    row=int(bad[0]) + 2, column="control")  # fmt: skip
    else:
        df["control"] = False
    if "burden_pct" in df:
        b = pd.to_numeric(df["burden_pct"].replace("", np.nan), errors="coerce")
        bad = np.flatnonzero(((b.isna() & (df["burden_pct"] != "")) | (b < 0) | (b > 100)).to_numpy())
        if bad.size:
            raise DataContractError(path, f"burden {df['burden_pct'].iat[bad[0]]!r} is not a percentage (0-100)",
                                    row=int(bad[0]) + 2, column="burden_pct")  # fmt: skip
        df["burden_pct"] = b
    else:
        df["burden_pct"] = np.nan
    if samples is not None:
        samples = pd.Index(samples)
        absent = np.flatnonzero(~df["sample"].isin(samples).to_numpy())
        if absent.size:
            raise DataContractError(path, f"sample {df['sample'].iat[absent[0]]!r} is not a column of the count table",
                                    row=int(absent[0]) + 2, column="sample")  # fmt: skip
        extra = samples[~samples.isin(df["sample"])]
        if len(extra):
            raise DataContractError(path, f"count table column {extra[0]!r} has no row in the sample sheet",
                                    column="sample")  # fmt: skip
    return df


def control_arm(design: pd.DataFrame, control: str | None = None) -> str:
    """Pick the control arm: ``control`` if given (it must exist), else the arm flagged ``control``, else ``vehicle``.

    Parameters
    ----------
    design
        The design (``arm`` and, optionally, the boolean ``control`` flag).
    control
        An explicit control arm.

    Returns
    -------
    str
        The control arm.

    Raises
    ------
    DataContractError
        An unknown explicit arm, several flagged arms, or no flag and no ``vehicle`` arm.
    """
    arms = set(design["arm"]) - {BASELINE_ARM}
    if control:
        if control not in arms:
            raise DataContractError(None, f"unknown control arm {control!r}; arms: {', '.join(sorted(arms))}",
                                    column="arm")  # fmt: skip
        return control
    flagged = sorted(set(design.loc[design["control"], "arm"]))
    if len(flagged) == 1:
        return flagged[0]
    if len(flagged) > 1:
        raise DataContractError(None, f"more than one control arm flagged: {', '.join(flagged)}", column="control")
    if "vehicle" in arms:
        return "vehicle"
    raise DataContractError(None, f"no control arm: flag it in the sheet's 'control' column or name it; arms: "
                            f"{', '.join(sorted(arms))}", column="control")  # fmt: skip


def load_count_dataset(data_dir: str | Path) -> CountDataset:
    """Load ``<data_dir>/barcodes`` (or a ``barcodes`` folder itself) holding one ``counts.*`` and a sample sheet.

    Parameters
    ----------
    data_dir
        Cohort folder, or its ``barcodes`` folder.

    Returns
    -------
    CountDataset
        The folder, the count table (barcodes x samples) and the design.

    Raises
    ------
    DataContractError
        No or several count tables, or a table or design that breaks the contract.
    """
    root = Path(data_dir)
    if (root / "barcodes").is_dir():
        root = root / "barcodes"
    if not root.is_dir():
        raise DataContractError(root, "barcoding folder not found")
    found = [root / n for n in COUNT_FILE_NAMES if (root / n).is_file()]
    if len(found) != 1:
        raise DataContractError(root, f"expected exactly one of {', '.join(COUNT_FILE_NAMES)}, found {len(found)}")
    counts = read_count_table(found[0])
    design = load_design(root / "sample_sheet.csv", samples=counts.columns)
    return CountDataset(root, counts, design)


def design_from_fastq_sheet(sheet: pd.DataFrame, *, tissue: str = "peripheral_blood") -> pd.DataFrame:
    """Build the design of a FASTQ data folder from its validated ``sample_sheet.csv``: libraries become samples.

    Each mouse's own ``pre_treatment`` sample is its baseline; the control arm is ``vehicle``.

    Parameters
    ----------
    sheet
        The validated FASTQ sample sheet (:func:`helpers.barcodes.load_sample_sheet`).
    tissue
        Tissue of every library when the sheet has no ``tissue`` column.

    Returns
    -------
    DataFrame
        One row per library: :data:`DESIGN_COLUMNS`, ``pdx_id, patient_id, sample_id, baseline, control, burden_pct``.
    """
    has_pre = set(sheet.loc[sheet["timepoint"] == "pre_treatment", "mouse_id"])
    d = pd.DataFrame({
        "sample": sheet["library_id"], "mouse": sheet["mouse_id"], "arm": sheet["arm"],
        "tissue": sheet["tissue"] if "tissue" in sheet else tissue, "timepoint": sheet["timepoint"],
        "pcr_replicate": sheet["pcr_replicate"].astype("int64"), "pdx_id": sheet["pdx_id"],
        "patient_id": sheet["patient_id"], "sample_id": sheet["sample_id"],
        "baseline": [m if m in has_pre else "" for m in sheet["mouse_id"]],
        "control": sheet["arm"] == "vehicle", "burden_pct": np.nan,
    })  # fmt: skip
    return d.reset_index(drop=True)


def design_from_bartools(sample_table: str | Path, *, tissue: str = "bone_marrow", timepoint: str = "endpoint",
                         baseline_group: str = "T0", control: str = "vehicle") -> pd.DataFrame:  # fmt: skip
    """Translate a bartools sample table (``Sample, Group, PCR_Replicate, Treatment``) into the design sheet.

    Rows of ``Group == baseline_group`` become the shared baseline (arm ``baseline``); every other group is a mouse
    (bartools' ``<mouse>_<Treatment>`` group names) whose arm is its treatment in lower case and whose baseline is
    ``baseline_group``.

    Parameters
    ----------
    sample_table
        The bartools sample table (CSV or TSV).
    tissue, timepoint
        Tissue and timepoint of every endpoint sample.
    baseline_group
        The ``Group`` of the shared baseline.
    control
        The control arm.

    Returns
    -------
    DataFrame
        The design (:data:`DESIGN_COLUMNS`, ``baseline``, ``control``), one row per sequenced sample.

    Raises
    ------
    DataContractError
        The table is missing, unreadable or lacks one of the bartools columns.
    """
    path = Path(sample_table)
    if not path.is_file():
        raise DataContractError(path, "bartools sample table not found")
    t = read_csv_checked(path, sep=_sniff_separator(path), dtype=str, na_values=[])
    need = [c for c in ("Sample", "Group", "PCR_Replicate", "Treatment") if c not in t.columns]
    if need:
        raise DataContractError(path, f"missing bartools column(s): {', '.join(need)}", row=1, column=need[0])
    base = t["Group"] == baseline_group
    arm = t["Treatment"].str.lower().where(~base, BASELINE_ARM)
    return pd.DataFrame({
        "sample": t["Sample"], "mouse": t["Group"].where(base, t["Group"].str.split("_").str[0]), "arm": arm,
        "tissue": np.where(base, "pool", tissue), "timepoint": np.where(base, "baseline", timepoint),
        "pcr_replicate": t["PCR_Replicate"], "baseline": np.where(base, "", baseline_group),
        "control": arm == control,
    })  # fmt: skip


def collapse_replicates(counts: pd.DataFrame, design: pd.DataFrame, *, method: str = "sum",
                        trim: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Merge PCR replicates: one column per (mouse, tissue, timepoint).

    Parameters
    ----------
    counts
        Barcode x sample counts.
    design
        Validated design (:func:`load_design`).
    method
        ``"sum"`` (the default: the mouse is the unit and a sum keeps integer counts whose library size is the total)
        or ``"truncated_mean"``: the mean of the replicates' counts per million after dropping the ``trim`` share at
        each end (``scipy.stats.trim_mean``), rescaled to the mean library size and rounded (robust to one jackpotted
        replicate when there are at least three).
    trim
        Share cut at each end for ``"truncated_mean"``.

    Returns
    -------
    counts, units
        The collapsed barcode x unit counts (int64) and one row per unit: ``unit, mouse, arm, tissue, timepoint,
        pdx_id, patient_id, sample_id, baseline, control, burden_pct, n_replicates, lib_size`` (reads); a unit is
        named ``mouse|tissue|timepoint``.

    Raises
    ------
    ValueError
        ``method`` is neither ``sum`` nor ``truncated_mean``.
    """
    from scipy.stats import trim_mean

    if method not in ("sum", "truncated_mean"):
        raise ValueError(f"method must be 'sum' or 'truncated_mean', got {method!r}")
    d = design.set_index("sample").loc[list(counts.columns)].reset_index()
    d["unit"] = d["mouse"] + "|" + d["tissue"] + "|" + d["timepoint"]
    keep = ["mouse", "arm", "tissue", "timepoint", "pdx_id", "patient_id", "sample_id", "baseline", "control",
            "burden_pct"]  # fmt: skip
    units = d.groupby("unit", sort=False).agg(**{k: (k, "first") for k in keep},
                                              n_replicates=("sample", "size")).reset_index()  # fmt: skip
    cols = {}
    x = counts.to_numpy(dtype=float)
    for u, idx in d.groupby("unit", sort=False).indices.items():
        sub = x[:, idx]
        if method == "sum" or sub.shape[1] == 1:
            cols[u] = sub.sum(axis=1)
        else:
            lib = sub.sum(axis=0)
            cpm = sub / np.where(lib > 0, lib, 1) * 1e6
            cols[u] = trim_mean(cpm, trim, axis=1) * lib.mean() / 1e6
    out = pd.DataFrame(cols, index=counts.index).round().astype("int64")
    out.columns.name = "unit"
    units["lib_size"] = out.sum(axis=0).reindex(units["unit"]).to_numpy()
    return out, units


def samples_from_units(counts: pd.DataFrame, units: pd.DataFrame, *, min_count: int = 1) -> pd.DataFrame:
    """Build the long per-sample table of :func:`helpers.barcodes.sample_counts` from collapsed counts.

    A barcode is detected in a unit when it has at least ``min_count`` reads (count tables come error-corrected and
    thresholded by the tool that wrote them). ``sample_key`` is the unit; the baseline unit keeps ``mouse_id`` = its
    ``mouse`` value and ``arm = baseline``.

    Parameters
    ----------
    counts, units
        Collapsed counts and units (:func:`collapse_replicates`).
    min_count
        Reads of a detected barcode.

    Returns
    -------
    DataFrame
        ``pdx_id, mouse_id, arm, timepoint, sample_key, barcode, count, n_replicates, detected, frequency``.
    """
    long = counts.rename_axis(index="barcode", columns="sample_key").stack().rename("count").reset_index()
    long = long[long["count"] > 0]
    meta = units.set_index("unit")
    for col, src in (("pdx_id", "pdx_id"), ("mouse_id", "mouse"), ("arm", "arm"), ("timepoint", "timepoint"),
                     ("n_replicates", "n_replicates")):  # fmt: skip
        long[col] = long["sample_key"].map(meta[src])
    long["detected"] = long["count"] >= min_count
    tot = long[long["detected"]].groupby("sample_key")["count"].sum()
    long["frequency"] = np.where(long["detected"], long["count"] / long["sample_key"].map(tot), 0.0)
    cols = ["pdx_id", "mouse_id", "arm", "timepoint", "sample_key", "barcode", "count", "n_replicates", "detected",
            "frequency"]  # fmt: skip
    return long[cols].sort_values(["pdx_id", "mouse_id", "timepoint", "count", "barcode"], ascending=[1, 1, 1, 0, 1],
                                  ignore_index=True)  # fmt: skip


def absolute_clone_sizes(counts: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """Clone sizes as a share of the tissue's cells: clone frequency x leukemic burden (``burden_pct`` / 100).

    Parameters
    ----------
    counts, units
        Collapsed counts and units (``burden_pct``).

    Returns
    -------
    DataFrame
        Barcode x unit (units with a burden only): the percentage of all cells of the tissue that the clone makes up.
    """
    b = units.set_index("unit")["burden_pct"].dropna()
    x = counts[[u for u in counts.columns if u in b.index]].astype(float)
    return x / x.sum(axis=0).replace(0, np.nan) * b[x.columns]
