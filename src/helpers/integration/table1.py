"""Table 1: cohort characteristics by response group, with tests of difference, as CSV, HTML and LaTeX."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from ..io import write_table, write_text
from .stats import is_binary

__all__ = ["table_one", "write_table_one", "format_p"]


def _fmt_median(x: pd.Series) -> str:
    x = x.dropna()
    if x.empty:
        return "-"
    q1, med, q3 = np.percentile(x, [25, 50, 75])
    return f"{med:.1f} ({q1:.1f}-{q3:.1f})"


def _fmt_count(k: int, n: int) -> str:
    return f"{k} ({100 * k / n:.0f}%)" if n else "-"


def table_one(df: pd.DataFrame, group: str, variables: list[str], *, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """Cohort characteristics per group.

    Continuous variables: median (interquartile range), Kruskal-Wallis test (Mann-Whitney for two groups).
    0/1 variables: count (% of patients with a value), Fisher's exact test for two groups, chi-square otherwise.
    Categorical variables: one row per level, one test for the variable. Missing values are counted in a
    ``missing`` column rather than hidden.

    Parameters
    ----------
    df
        Patient table.
    group
        Column defining the groups (e.g. ``response_group``).
    variables
        Rows of the table, in order.
    labels
        Display names of the variables.

    Returns
    -------
    pandas.DataFrame
        ``variable, level, <one column per group with its n in the header>, overall, missing, p, test``.
    """
    labels = labels or {}
    d = df.dropna(subset=[group])
    groups = sorted(d[group].astype(str).unique())
    gcols = {g: f"{g} (n={int((d[group].astype(str) == g).sum())})" for g in groups}
    overall = f"overall (n={len(d)})"
    rows = []
    for v in variables:
        s = d[v]
        g = d[group].astype(str)
        name = labels.get(v, v)
        miss = int(s.isna().sum())
        ok = s.notna()
        if is_binary(s):
            cells = {gcols[k]: _fmt_count(int(s[(g == k) & ok].sum()), int(((g == k) & ok).sum())) for k in groups}
            tab = pd.crosstab(g[ok], s[ok].astype(int)).reindex(columns=[0, 1], fill_value=0)
            p, test = _table_test(tab)
            rows.append({"variable": name, "level": "yes", **cells, overall: _fmt_count(int(s[ok].sum()), int(ok.sum())),
                         "missing": miss, "p": p, "test": test})  # fmt: skip
        elif pd.api.types.is_numeric_dtype(s):
            cells = {gcols[k]: _fmt_median(s[g == k]) for k in groups}
            samples = [s[(g == k) & ok].to_numpy(float) for k in groups]
            samples = [x for x in samples if len(x)]
            if len(samples) == 2:
                p, test = stats.mannwhitneyu(*samples).pvalue, "Mann-Whitney"
            elif len(samples) > 2:
                p, test = stats.kruskal(*samples).pvalue, "Kruskal-Wallis"
            else:
                p, test = np.nan, ""
            rows.append({"variable": name, "level": "median (IQR)", **cells, overall: _fmt_median(s), "missing": miss,
                         "p": p, "test": test})  # fmt: skip
        else:
            levels = list(s.cat.categories) if isinstance(s.dtype, pd.CategoricalDtype) else sorted(s.dropna().unique())
            tab = pd.crosstab(g[ok], s[ok].astype(str)).reindex(columns=[str(x) for x in levels], fill_value=0)
            p, test = _table_test(tab)
            for i, lev in enumerate(levels):
                cells = {gcols[k]: _fmt_count(int(((g == k) & (s.astype(str) == str(lev))).sum()),
                                              int(((g == k) & ok).sum())) for k in groups}  # fmt: skip
                rows.append({"variable": name if i == 0 else "", "level": str(lev), **cells,
                             overall: _fmt_count(int((s.astype(str) == str(lev)).sum()), int(ok.sum())),
                             "missing": miss if i == 0 else np.nan, "p": p if i == 0 else np.nan,
                             "test": test if i == 0 else ""})  # fmt: skip
    return pd.DataFrame(rows)


def _table_test(tab: pd.DataFrame) -> tuple[float, str]:
    tab = tab.loc[tab.sum(axis=1) > 0, tab.sum(axis=0) > 0]
    if tab.shape[0] < 2 or tab.shape[1] < 2:
        return np.nan, ""
    if tab.shape == (2, 2):
        return float(stats.fisher_exact(tab.to_numpy()).pvalue), "Fisher"
    return float(stats.chi2_contingency(tab.to_numpy())[1]), "chi-square"


def _p_text(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "<0.001" if p < 0.001 else f"{p:.3f}"


def format_p(df: pd.DataFrame, columns: tuple[str, ...] = ("p", "q", "p_lrt", "q_lrt", "p_wilcoxon", "ph_p", "p_vs_m0m1"),
             *, digits: int = 3) -> pd.DataFrame:
    """Copy of ``df`` with p-/q-value columns as text (``<0.001`` below 10^-digits), other floats rounded.

    For display: rounding alone would print tiny p-values as 0.

    Parameters
    ----------
    df
        A result table.
    columns
        Its p- and q-value columns (those present are formatted).
    digits
        Decimals shown.

    Returns
    -------
    pandas.DataFrame
        The formatted copy.
    """
    out = df.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].map(lambda p: "" if pd.isna(p) else (f"<{10**-digits:g}" if p < 10**-digits else f"{p:.{digits}f}"))
    return out.round(3)


def write_table_one(t1: pd.DataFrame, stem: str | Path, *, caption: str) -> list[Path]:
    """Write Table 1 as ``<stem>.csv`` (numbers), ``.html`` (standalone) and ``.tex`` (booktabs tabular).

    Parameters
    ----------
    t1
        :func:`table_one` output.
    stem
        Path without suffix.
    caption
        Caption of the HTML and LaTeX tables.

    Returns
    -------
    list of Path
        The three written files.
    """
    stem = Path(stem)
    out = [write_table(t1, stem.with_suffix(".csv"))]
    shown = t1.assign(p=t1["p"].map(_p_text), missing=t1["missing"].map(lambda m: "" if pd.isna(m) else str(int(m))))
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in shown.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>\n"
                   for r in shown.itertuples(index=False))  # fmt: skip
    page = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{html.escape(caption)}</title>"
            "<style>table{border-collapse:collapse;font-family:sans-serif;font-size:12px}"
            "th,td{border-bottom:1px solid #ccc;padding:3px 8px;text-align:left}</style></head><body>\n"
            f"<table>\n<caption>{html.escape(caption)}</caption>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}"
            "</tbody></table>\n</body></html>\n")  # fmt: skip
    out.append(write_text(page, stem.with_suffix(".html")))

    def tex(x: object) -> str:
        s = str(x)
        for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#"),
                     ("<", r"$<$"), (">", r"$>$")):  # fmt: skip
            s = s.replace(a, b)
        return s

    lines = [r"\begin{table}[ht]", r"\centering", rf"\caption{{{tex(caption)}}}",
             r"\begin{tabular}{" + "l" * shown.shape[1] + "}", r"\toprule",
             " & ".join(tex(c) for c in shown.columns) + r" \\", r"\midrule"]  # fmt: skip
    lines += [" & ".join(tex(v) for v in r) + r" \\" for r in shown.itertuples(index=False)]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}", ""]
    out.append(write_text("\n".join(lines), stem.with_suffix(".tex")))
    return out
