"""Plausibility rules of the data contract: values that parse but cannot be right.

A schema says a column holds numbers; these rules say which numbers make sense (a venetoclax concentration of
10,000 uM is a nanomolar value in a micromolar column, a blast percentage of 0.45 is a fraction, a response a year
before diagnosis is a typing error that would lengthen relapse-free survival). Each rule returns a list of
:class:`~helpers.errors.DataContractError` naming the file, the row (line number in the file, header = 1) and the
column, so that the loaders raise the first one and ``python -m helpers check`` lists them all.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .errors import DataContractError

__all__ = [
    "DRUG_MAX_UM",
    "DEFAULT_MAX_UM",
    "drug_max_um",
    "raise_first",
    "report",
    "clinical_problems",
    "samples_problems",
    "concentration_problems",
    "viability_fraction_problems",
    "truncated_low_doses",
    "synergy_problems",
    "fastq_problems",
    "empty_file_problems",
]

# Highest concentration (uM) an ex vivo screen plausibly uses, per drug (lower-case name or alias). VEN and AZA are
# tested up to 10 uM in BeatAML (Tyner et al. 2018) and FIMM (Yadav et al. 2014) panels; three times that is
# accepted. Above DEFAULT_MAX_UM (1 mM) no screened drug is soluble in the well: the column holds nM.
DRUG_MAX_UM = {"venetoclax": 30.0, "ven": 30.0, "azacitidine": 100.0, "azacytidine": 100.0, "aza": 100.0}
DEFAULT_MAX_UM = 1000.0
LINE_OFFSET = 2  # line number in the file = 0-based data row + 2 (header = line 1)
_DATE_ORDER = ("diagnosis_date", "response_date", "relapse_date", "last_followup_date")


def drug_max_um(drug: str) -> float:
    """Look up the highest plausible concentration of ``drug``; a combination (``AZA+VEN``) takes the lower bound.

    Parameters
    ----------
    drug
        Drug name or alias, any case; combinations joined by ``+`` or ``/``.

    Returns
    -------
    float
        The bound in µM (:data:`DRUG_MAX_UM`, else :data:`DEFAULT_MAX_UM`).
    """
    parts = [p.strip().lower() for p in str(drug).replace("+", "/").split("/") if p.strip()]
    return min((DRUG_MAX_UM.get(p, DEFAULT_MAX_UM) for p in parts), default=DEFAULT_MAX_UM)


def raise_first(problems: Iterable[DataContractError]) -> None:
    """Raise the first problem of ``problems`` (loaders stop at the first; ``check`` lists them all).

    Parameters
    ----------
    problems
        Problems found by a rule.

    Raises
    ------
    DataContractError
        The first of ``problems``, if any.
    """
    for p in problems:
        raise p


def report(found: list[DataContractError], problems: list[DataContractError] | None = None) -> None:
    """Raise the first of ``found`` or, when a ``problems`` list is given (``python -m helpers check``), collect all.

    Parameters
    ----------
    found
        Problems found by a rule.
    problems
        The list to extend with ``found`` (``None``: raise instead).

    Raises
    ------
    DataContractError
        The first of ``found`` when ``problems`` is ``None``.
    """
    if problems is None:
        raise_first(found)
    else:
        problems.extend(found)


def _line(index_value: int) -> int:
    return int(index_value) + LINE_OFFSET


def _dates(df: pd.DataFrame, path: str | Path | None, columns: Iterable[str]
           ) -> tuple[dict[str, pd.Series], list[DataContractError]]:  # fmt: skip
    """Parse ISO date columns; a well-formed but impossible date (2023-02-30) is a problem, never a silent NaT."""
    out, problems = {}, []
    for c in columns:
        if c not in df:
            continue
        raw = df[c]
        parsed = pd.to_datetime(raw, format="%Y-%m-%d", errors="coerce")
        bad = raw.notna() & parsed.isna()
        for i in df.index[bad]:
            problems.append(DataContractError(path, f"impossible date {raw.at[i]!r} (ISO YYYY-MM-DD)", row=_line(i),
                                              column=c))  # fmt: skip
        out[c] = parsed
    return out, problems


def clinical_problems(df: pd.DataFrame, path: str | Path) -> list[DataContractError]:
    """Check that dates exist and follow each other (diagnosis <= response <= relapse <= last follow-up); blasts in %.

    Parameters
    ----------
    df
        ``clinical.csv`` as read (default index: row ``i`` is line ``i + 2``).
    path
        The file, named in each problem.

    Returns
    -------
    list of DataContractError
        One per impossible date, per patient whose dates are out of order, and one when ``bm_blast_pct`` holds
        fractions.
    """
    dates, problems = _dates(df, path, _DATE_ORDER)
    for i in df.index:
        prev = None
        for c in _DATE_ORDER:
            if c not in dates or pd.isna(dates[c].at[i]):
                continue
            if prev is not None and dates[c].at[i] < dates[prev].at[i]:
                problems.append(DataContractError(path, f"{c} {df.at[i, c]} is before {prev} {df.at[i, prev]} "
                                                  f"(expected {' <= '.join(_DATE_ORDER)})", row=_line(i), column=c))
                break
            prev = c
    if "bm_blast_pct" in df:
        v = pd.to_numeric(df["bm_blast_pct"], errors="coerce")
        if v.notna().sum() >= 2 and v.max() <= 1.0 and v.max() > 0:
            i = v.first_valid_index()
            problems.append(DataContractError(path, f"every value is <= 1 (max {v.max():g}): blasts given as a "
                                              "fraction, expected % (AML at diagnosis has >= 10-20 % marrow blasts)",
                                              row=_line(i), column="bm_blast_pct"))  # fmt: skip
    return problems


def samples_problems(df: pd.DataFrame, path: str | Path) -> list[DataContractError]:
    """Check that collection dates exist and sample ids are usable as one path component (folders are named by them).

    Parameters
    ----------
    df
        ``samples.csv`` as read.
    path
        The file, named in each problem.

    Returns
    -------
    list of DataContractError
        One per impossible date and per unusable ``sample_id``.
    """
    from .safepaths import check_name

    problems = _dates(df, path, ["collection_date"])[1]
    for i, v in zip(df.index, df.get("sample_id", []), strict=False):
        try:
            check_name(v, what="sample_id", path=path, row=_line(i), column="sample_id")
        except DataContractError as exc:
            problems.append(exc)
    return problems


def concentration_problems(df: pd.DataFrame, path: str | Path, *, drug: str | None = "drug", conc: str = "conc_uM",
                           column: str | None = None, fixed_drug: str | None = None) -> list[DataContractError]:  # fmt: skip
    """Find concentrations that are negative or above the drug's plausible maximum (a unit mix-up: nM given as µM).

    Parameters
    ----------
    df
        Table with a drug-name column ``drug`` (or ``fixed_drug`` for all rows) and concentrations in µM ``conc``.
    path
        The file, named in each problem.
    drug
        Column of drug names.
    conc
        Column of concentrations (µM); without it there is no problem.
    column
        Column name to report (default ``conc``), e.g. the raw ``conc`` column of a plate map.
    fixed_drug
        The drug of every row, when the table has no drug column.

    Returns
    -------
    list of DataContractError
        Negative values first, then values above :func:`drug_max_um`, each with its line and column.
    """
    problems = []
    if conc not in df:
        return problems
    values = pd.to_numeric(df[conc], errors="coerce")
    names = pd.Series(fixed_drug, index=df.index) if fixed_drug is not None else df[drug].fillna("")
    limits = names.map(drug_max_um)
    for i in df.index[values < 0]:
        problems.append(DataContractError(path, f"negative concentration {values.at[i]:g}", row=_line(i),
                                          column=column or conc))  # fmt: skip
    for i in df.index[values > limits]:
        problems.append(DataContractError(path, f"{names.at[i] or 'drug'} at {values.at[i]:g} uM is above the highest "
                                          f"plausible {limits.at[i]:g} uM: a concentration in nM given as uM?",
                                          row=_line(i), column=column or conc))  # fmt: skip
    return problems


def viability_fraction_problems(df: pd.DataFrame, path: str | Path | None, *, column: str = "viability_pct"
                                ) -> list[DataContractError]:  # fmt: skip
    """Detect viability given as a fraction (every value within [-1.5, 1.5], at least 3 values) where % is expected.

    Parameters
    ----------
    df
        The table.
    path
        The file, named in the problem; ``None`` also leaves the row out.
    column
        The viability column (%); without it there is no problem.

    Returns
    -------
    list of DataContractError
        Empty, or one problem naming the column and the first valid line.
    """
    if column not in df:
        return []
    v = pd.to_numeric(df[column], errors="coerce")
    if v.notna().sum() >= 3 and v.abs().max() <= 1.5:
        return [DataContractError(path, f"every value is within [0, 1.5] (max {v.max():g}): viability given as a "
                                  "fraction, expected % (0-100)", row=_line(v.first_valid_index()) if path else None,
                                  column=column)]  # fmt: skip
    return []


def truncated_low_doses(curves: pd.DataFrame, *, drug: str = "drug", min_conc: str = "min_conc_uM",
                        factor: float = 10.0) -> pd.Series:  # fmt: skip
    """Flag curves whose lowest tested concentration is ``factor`` times above that drug's usual lowest one.

    The usual lowest concentration is the median over the drug's curves; a curve that misses its low doses has no
    top plateau, so its fitted IC50, AUC and DSS are not comparable with the others'.

    Parameters
    ----------
    curves
        One row per dose-response curve.
    drug
        Column of drug names.
    min_conc
        Column of each curve's lowest concentration (µM).
    factor
        How many times above the drug's median lowest concentration a curve is flagged.

    Returns
    -------
    pandas.Series
        Boolean, indexed like ``curves``; all False with fewer than two curves or no ``drug`` column.
    """
    if drug not in curves or len(curves) < 2:
        return pd.Series(False, index=curves.index)
    usual = curves.groupby(drug)[min_conc].transform("median")
    return (curves[min_conc] > factor * usual).fillna(False)


def synergy_problems(cells: pd.DataFrame, path: str | Path | None = None, *, block: str = "block",
                     conc_row: str = "conc_row", conc_col: str = "conc_col",
                     response: str = "inhibition_pct") -> list[DataContractError]:  # fmt: skip
    """Find dose matrices that cannot be scored: negative concentrations, no zero dose, missing monotherapies.

    A Loewe or ZIP score needs both monotherapy curves: with one of them missing the fit extrapolates from nothing
    and the block means come out several times too large, with no error.

    Parameters
    ----------
    cells
        One row per well of the combination blocks.
    path
        The file, named in each problem; without it no row is named.
    block
        Column identifying a dose matrix.
    conc_row, conc_col
        Columns of the two drugs' concentrations (µM).
    response
        Column of the response (% inhibition).

    Returns
    -------
    list of DataContractError
        Up to five negative concentrations per drug (and nothing else then), else one problem per block and drug
        without a zero dose or with a missing or all-NaN monotherapy.
    """
    problems = []
    rows = (lambda i: _line(i)) if path is not None else (lambda i: None)  # noqa: E731
    for c in (conc_row, conc_col):
        v = pd.to_numeric(cells[c], errors="coerce")
        for i in cells.index[v < 0][:5]:
            problems.append(DataContractError(path, f"block {cells.at[i, block]}: negative concentration {v.at[i]:g}",
                                              row=rows(i), column=c))  # fmt: skip
    if problems:
        return problems
    for b, g in cells.groupby(block, sort=True):
        r, c = pd.to_numeric(g[conc_row], errors="coerce"), pd.to_numeric(g[conc_col], errors="coerce")
        y = pd.to_numeric(g[response], errors="coerce")
        for col, zero, other, what in ((conc_row, r == 0, c, "column"), (conc_col, c == 0, r, "row")):
            if not zero.any():
                problems.append(DataContractError(path, f"block {b}: no zero concentration ({col} = 0): the "
                                                  f"{what} drug's monotherapy is missing", column=col))  # fmt: skip
                continue
            mono = zero & (other > 0)
            if not y[mono].notna().any():
                problems.append(DataContractError(path, f"block {b}: the {what} drug's monotherapy ({col} = 0) is "
                                                  "missing or all NaN", column=response))  # fmt: skip
    return problems


def fastq_problems(files: Iterable[tuple[int, Path, str]], sheet: str | Path) -> list[DataContractError]:
    """Find FASTQ files that are empty (no reads) or not readable gzip; missing files are left to the loader.

    Parameters
    ----------
    files
        ``(line in the sheet, path, value shown)`` per listed file.
    sheet
        The sample sheet, named in each problem.

    Returns
    -------
    list of DataContractError
        One per bad file, at its line, column ``file``.
    """
    problems = []
    for line, p, shown in files:
        try:
            if p.stat().st_size == 0:
                raise EOFError
            opener = gzip.open if p.name.endswith(".gz") else open
            with opener(p, "rb") as fh:
                if not fh.read(1):
                    raise EOFError
        except FileNotFoundError:
            continue  # reported by the loader
        except EOFError:
            problems.append(DataContractError(sheet, f"FASTQ file {shown!r} is empty (no reads)", row=line,
                                              column="file"))  # fmt: skip
        except (OSError, zlib.error) as exc:
            problems.append(DataContractError(sheet, f"FASTQ file {shown!r} is not readable gzip ({exc})", row=line,
                                              column="file"))  # fmt: skip
    return problems


def empty_file_problems(files: Iterable[tuple[int, Path, str]], sheet: str | Path, *, what: str
                        ) -> list[DataContractError]:  # fmt: skip
    """Find listed files of size zero (an export that failed), e.g. an empty FCS file.

    Parameters
    ----------
    files
        ``(line in the sheet, path, value shown)`` per listed file.
    sheet
        The sample sheet, named in each problem.
    what
        What the files are, for the message (e.g. "FCS file").

    Returns
    -------
    list of DataContractError
        One per empty file, at its line, column ``file``.
    """
    out = []
    for line, p, shown in files:
        if p.is_file() and p.stat().st_size == 0:
            out.append(DataContractError(sheet, f"{what} {shown!r} is empty (0 bytes)", row=line, column="file"))
    return out

