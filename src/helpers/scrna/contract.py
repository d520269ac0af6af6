"""The single-cell data contract: the sample sheet and one 10x output per sample, validated and read into one AnnData.

Data contract (``<data_dir>/scrna/``, see docs/scrna.md): ``sample_sheet.csv`` with columns ``sample_id`` and ``path``
(the sample's Cell Ranger output relative to the sheet's folder: a ``filtered_feature_bc_matrix.h5`` file or the
matrix-market folder, or an ``.h5ad`` holding raw counts), optional extra columns copied to every cell (e.g. ``chemistry``, ``library_batch``). Patient and
timepoint come from ``samples.csv``; every sample listed there with the ``scrna`` assay must be in the sheet.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pandera.pandas as pa
import scipy.sparse as sp

from ..assays import has_assay, parse_assays
from ..errors import DataContractError
from ..safepaths import confined_path
from ..validation import read_csv_checked
from .h5ad import read_h5ad_counts
from .tenx import read_10x

__all__ = ["SHEET_SCHEMA", "read_sample_sheet", "load_samples_10x", "load_cohort_scrna"]

SHEET_SCHEMA = pa.DataFrameSchema(
    {
        "sample_id": pa.Column(str, pa.Check.str_matches(r"^[A-Za-z0-9_.-]+$"), unique=True),
        "path": pa.Column(str, pa.Check.str_length(min_value=1)),
    },
    strict=False,
)


def read_sample_sheet(path: str | Path) -> pd.DataFrame:
    """Read and validate a scRNA sample sheet; ``path`` values become absolute paths that must exist.

    Parameters
    ----------
    path
        ``scrna/sample_sheet.csv`` of a cohort folder.

    Returns
    -------
    DataFrame
        ``sample_id``, ``path`` (absolute, inside the sheet's folder) and the sheet's other columns.

    Raises
    ------
    DataContractError
        Unreadable CSV, missing column, bad or duplicated sample id (with the line numbers), or a missing 10x output.
    """
    path = Path(path)
    df = read_csv_checked(path, what="sample sheet", dtype=str)
    missing = [c for c in SHEET_SCHEMA.columns if c not in df.columns]
    if missing:
        raise DataContractError(path, f"missing required column(s): {', '.join(missing)}", column=missing[0])
    try:
        df = SHEET_SCHEMA.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases.iloc[0]
        col, value, check = fc.get("column"), fc.get("failure_case"), str(fc.get("check"))
        idx = fc.get("index")
        row = None if idx is None or pd.isna(idx) else int(idx) + 2  # line number, header = line 1
        if "unique" in check or "duplicates" in check:
            lines = sorted(int(i) + 2 for i in df.index[df[col] == value])
            raise DataContractError(path, f"duplicated value {value!r} (lines {', '.join(map(str, lines))})",
                                    row=row, column=col) from None
        raise DataContractError(path, f"fails check {check}: {value!r}", row=row, column=col) from None
    full = [confined_path(path.parent, p, sheet=path, row=i + 2, column="path") for i, p in enumerate(df["path"])]
    for i, f in enumerate(full):
        if not f.exists():
            raise DataContractError(path, f"10x output '{df['path'].iloc[i]}' not found", row=i + 2, column="path")
    df = df.copy()
    df["path"] = [str(f) for f in full]
    return df


def load_samples_10x(sheet: pd.DataFrame, *, join: str = "exact") -> ad.AnnData:
    """Read every sample of a validated sheet and concatenate them (cells x genes, raw counts).

    Parameters
    ----------
    sheet
        Output of :func:`read_sample_sheet` (extra columns are copied to ``obs``).
    join
        ``"exact"``: all samples must have the same genes in the same order (one Cell Ranger reference), else a
        :class:`DataContractError` naming the first sample that differs; ``"inner"``: keep the genes common to all.

    Returns
    -------
    AnnData
        ``obs_names`` = ``<sample_id>_<barcode>``, ``obs['sample_id']``, ``obs['barcode']`` and the sheet's columns;
        ``var['gene_ids']``.

    Raises
    ------
    ValueError
        An unknown ``join``, or a sheet without samples.
    DataContractError
        With ``join="exact"``, a sample whose features differ from the first sample's; or an unreadable 10x output.
    """
    if join not in ("exact", "inner"):
        raise ValueError(f"join must be 'exact' or 'inner', got {join!r}")
    parts = []
    ref_ids = None
    meta_cols = [c for c in sheet.columns if c not in ("sample_id", "path")]
    for row in sheet.itertuples(index=False):
        a = read_h5ad_counts(row.path) if str(row.path).endswith(".h5ad") else read_10x(Path(row.path))
        ids = a.var["gene_ids"].to_numpy()
        if ref_ids is None:
            ref_ids = ids
        elif join == "exact" and (len(ids) != len(ref_ids) or np.any(ids != ref_ids)):
            raise DataContractError(row.path, f"sample '{row.sample_id}' has {len(ids)} features that differ from "
                                    f"the first sample's {len(ref_ids)} (different Cell Ranger reference?)",
                                    column="features")
        a.obs["barcode"] = a.obs_names.astype(str)
        a.obs["sample_id"] = row.sample_id
        for c in meta_cols:
            a.obs[c] = getattr(row, c)
        a.obs_names = [f"{row.sample_id}_{b}" for b in a.obs_names]
        parts.append(a)
    if not parts:
        raise ValueError("the sample sheet lists no sample")
    if join == "exact":
        var = parts[0].var.copy()
        out = ad.AnnData(X=sp.vstack([p.X for p in parts], format="csr"),
                         obs=pd.concat([p.obs for p in parts]), var=var)
    else:
        out = ad.concat(parts, join="inner", merge="first")
    out.obs["sample_id"] = pd.Categorical(out.obs["sample_id"], categories=list(sheet["sample_id"]))
    return out


def load_cohort_scrna(data_dir: str | Path, *, samples: pd.DataFrame | None = None) -> ad.AnnData:
    """Load a cohort's scRNA-seq: ``scrna/sample_sheet.csv`` cross-checked with ``samples.csv``.

    Parameters
    ----------
    data_dir
        Cohort folder (data contract layout).
    samples
        The validated sample table (default: read with :func:`helpers.clinical.load_samples`).

    Returns
    -------
    AnnData
        Raw counts with ``obs`` columns ``sample_id``, ``patient_id``, ``timepoint``, ``barcode``.

    Raises
    ------
    DataContractError
        A sheet sample missing from ``samples.csv`` or without ``scrna`` among its assays (row = line of the sheet),
        a sample planned for scrna but absent from the sheet, or any problem of the sheet and the 10x outputs.
    """
    from ..clinical import load_samples

    data_dir = Path(data_dir)
    samples = load_samples(data_dir) if samples is None else samples
    sheet_path = data_dir / "scrna" / "sample_sheet.csv"
    sheet = read_sample_sheet(sheet_path)
    known = samples.set_index("sample_id")
    for i, sid in enumerate(sheet["sample_id"]):
        if sid not in known.index:
            raise DataContractError(sheet_path, f"sample '{sid}' is not in samples.csv", row=i + 2, column="sample_id")
        if "scrna" not in parse_assays(known.loc[sid, "assays"]):
            raise DataContractError(sheet_path, f"sample '{sid}' has no 'scrna' in the assays of samples.csv",
                                    row=i + 2, column="sample_id")
    expected = samples.loc[has_assay(samples["assays"], "scrna"), "sample_id"]
    absent = sorted(set(expected) - set(sheet["sample_id"]))
    if absent:
        raise DataContractError(sheet_path, f"samples.csv lists scrna for {absent[:3]} but the sheet does not",
                                column="sample_id")
    adata = load_samples_10x(sheet)
    adata.obs["patient_id"] = known.loc[adata.obs["sample_id"].astype(str), "patient_id"].to_numpy()
    adata.obs["timepoint"] = pd.Categorical(known.loc[adata.obs["sample_id"].astype(str), "timepoint"].to_numpy(),
                                            categories=["diagnosis", "remission", "relapse"])
    return adata
