"""Figures of the single-cell axis (matplotlib; colour-blind-safe palettes; labelled axes with units).

One-panel functions take ``ax=None`` (keyword) and return the Axes (scanpy's pattern); the QC, UMAP and paired
panels return the Figure and draw into given ``axes=``.
"""

from __future__ import annotations

from collections.abc import Sequence

import anndata as ad
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..plotting import OKABE_ITO, RESPONSE_COLORS, TIMEPOINT_COLORS, axes_or_new, label_points
from .genesets import CELL_TYPES, HIERARCHY_STATES

__all__ = [
    "CELL_TYPE_COLORS",
    "plot_qc",
    "plot_umaps",
    "plot_composition",
    "plot_paired_change",
    "plot_dotplot",
    "plot_volcano",
    "plot_annotation_confusion",
]

# Paul Tol's "muted" scheme (colour-blind safe) for the leukemic hierarchy, from primitive (dark blue) to monocytic
# (purple); Okabe-Ito colours and greys for the normal populations.
CELL_TYPE_COLORS = {
    "LSPC-Quiescent": "#332288", "LSPC-Primed": "#88CCEE", "LSPC-Cycle": "#44AA99", "GMP-like": "#117733",
    "ProMono-like": "#DDCC77", "Mono-like": "#CC6677", "cDC-like": "#AA4499",
    "T": "#999999", "B": "#000000", "NK": "#56B4E9", "Erythroid": "#D55E00", "Myeloid": "#E69F00",
}  # fmt: skip
_STATUS_COLORS = {"pass": "#0072B2", "low_genes": "#999999", "low_counts": "#999999", "high_counts": "#CC79A7",
                  "high_genes": "#CC79A7", "high_mito": "#009E73", "hb_dominated": "#D55E00", "doublet": "#E69F00"}


def _palette(values: pd.Series) -> dict:
    cats = list(values.cat.categories) if isinstance(values.dtype, pd.CategoricalDtype) else sorted(values.unique())
    known = {**CELL_TYPE_COLORS, **RESPONSE_COLORS, **TIMEPOINT_COLORS}
    out, k = {}, 0
    cmap = plt.get_cmap("tab20")  # only for many samples/patients, where identity matters less than separation
    for c in cats:
        if c in known:
            out[c] = known[c]
        elif len(cats) <= len(OKABE_ITO):
            out[c] = OKABE_ITO[k % len(OKABE_ITO)]
            k += 1
        else:
            out[c] = cmap(k % 20)
            k += 1
    return out


def plot_qc(cells: pd.DataFrame, summary: pd.DataFrame, *, hb_max: float, sample_key: str = "sample_id",
            axes: Sequence[plt.Axes] | np.ndarray | None = None) -> plt.Figure:
    """Draw four QC panels: genes vs UMIs by QC outcome, mitochondrial and haemoglobin shares, removals per sample.

    Parameters
    ----------
    cells
        One row per cell: ``qc_status`` (``pass`` or the reason for removal), ``total_counts`` (UMIs),
        ``n_genes``, ``pct_mito`` and ``pct_hb`` (% of UMIs).
    summary
        One row per sample: ``sample_key`` and ``removed_<reason>`` counts (cells).
    hb_max
        The haemoglobin limit (% of UMIs), drawn as a line.
    sample_key
        Column of ``summary`` naming the sample.
    axes
        Four Axes (2 x 2, or four in row order) to draw into (default: a new figure).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    own = axes is None
    if own:
        fig, ax = plt.subplots(2, 2, figsize=(9, 7))
    else:
        ax = np.asarray(axes, dtype=object).reshape(2, 2)
        fig = ax[0, 0].figure
    status = cells["qc_status"].astype(str)
    for st in ["pass", *[s for s in _STATUS_COLORS if s != "pass"]]:
        m = status == st
        if m.any():
            ax[0, 0].scatter(cells.loc[m, "total_counts"], cells.loc[m, "n_genes"], s=3, alpha=0.5,
                             color=_STATUS_COLORS[st], label=f"{st} ({int(m.sum())})", rasterized=True)
    ax[0, 0].set(xscale="log", yscale="log", xlabel="UMIs per cell (count)", ylabel="genes detected per cell (count)",
                 title="Library size and complexity")
    ax[0, 0].legend(fontsize=6, markerscale=3, frameon=False)
    bins = np.linspace(0, 100, 51)
    ax[0, 1].hist([cells.loc[status == "pass", "pct_mito"], cells.loc[status != "pass", "pct_mito"]], bins=bins,
                  stacked=True, color=["#0072B2", "#999999"], label=["kept", "removed"])
    ax[0, 1].set(yscale="log", xlabel="mitochondrial reads (% of UMIs)", ylabel="cells (count)",
                 title="Mitochondrial share")
    ax[0, 1].legend(frameon=False, fontsize=7)
    ax[1, 0].hist([cells.loc[status == "pass", "pct_hb"], cells.loc[status != "pass", "pct_hb"]], bins=bins,
                  stacked=True, color=["#0072B2", "#999999"], label=["kept", "removed"])
    ax[1, 0].axvline(hb_max, color="#D55E00", ls="--", lw=1, label=f"Hb limit {hb_max:g} %")
    ax[1, 0].set(yscale="log", xlabel="haemoglobin reads (% of UMIs)", ylabel="cells (count)",
                 title="Haemoglobin share")
    ax[1, 0].legend(frameon=False, fontsize=7)
    s = summary.set_index(sample_key)
    reasons = [c for c in s.columns if c.startswith("removed_")]
    bottom = np.zeros(len(s))
    for c in reasons:
        key = c.removeprefix("removed_")
        ax[1, 1].bar(np.arange(len(s)), s[c], bottom=bottom, color=_STATUS_COLORS.get(key, "#999999"), label=key)
        bottom += s[c].to_numpy()
    ax[1, 1].set_xticks(np.arange(len(s)), s.index, rotation=90, fontsize=5)
    ax[1, 1].set(ylabel="cells removed (count)", xlabel="sample", title="Removed per sample and reason")
    ax[1, 1].legend(fontsize=6, frameon=False)
    if own:
        fig.tight_layout()
    return fig


def plot_umaps(adata: ad.AnnData, keys: list[str], *, titles: list[str] | None = None,
               axes: Sequence[plt.Axes] | np.ndarray | None = None) -> plt.Figure:  # fmt: skip
    """Draw UMAP panels coloured by categorical ``obs`` columns (cell type, sample, response, timepoint ...).

    Parameters
    ----------
    adata
        Cells with ``obsm["X_umap"]``.
    keys
        ``obs`` columns, one panel each (a legend when a column has at most 14 values).
    titles
        Panel titles (default: ``keys``).
    axes
        One Axes per key to draw into (default: a new figure, one row).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    xy = adata.obsm["X_umap"]
    own = axes is None
    if own:
        axes = plt.subplots(1, len(keys), figsize=(4.2 * len(keys), 4.2), squeeze=False)[1]
    axes = np.asarray(axes, dtype=object).ravel()
    fig = axes[0].figure
    order = np.random.default_rng(0).permutation(adata.n_obs)  # no group painted systematically on top
    for ax, key, title in zip(axes, keys, titles or keys, strict=True):
        vals = adata.obs[key].astype("category")
        pal = _palette(vals)
        ax.scatter(xy[order, 0], xy[order, 1], s=2, c=[pal[v] for v in vals.iloc[order]], rasterized=True,
                   linewidths=0)
        ax.set(xlabel="UMAP 1 (a.u.)", ylabel="UMAP 2 (a.u.)", title=title, xticks=[], yticks=[])
        if len(pal) <= 14:
            handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k) for k, c in pal.items()]
            ax.legend(handles=handles, fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
    if own:
        fig.tight_layout()
    return fig


def plot_composition(features: pd.DataFrame, *, group: str, order: list[str] | None = None,
                     ax: plt.Axes | None = None) -> plt.Axes:
    """Draw stacked bars of the hierarchy composition of each sample's leukemic cells, samples grouped by ``group``.

    Parameters
    ----------
    features
        One row per sample: ``sample_id``, ``group``, ``monocytic_frac`` and one ``frac_<state>`` column per
        hierarchy state (fractions); samples missing a fraction are left out.
    group
        Column to group the samples by (labelled above the bars).
    order
        Group order (default: sorted).
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    cols = [f"frac_{s.lower().replace('-', '_')}" for s in HIERARCHY_STATES]
    f = features.dropna(subset=cols).copy()
    groups = order or sorted(f[group].unique())
    f[group] = pd.Categorical(f[group], categories=groups)
    f = f.sort_values([group, "monocytic_frac"])
    own = ax is None
    ax = axes_or_new(ax, figsize=(max(5, 0.22 * len(f) + 2), 3.6))
    bottom = np.zeros(len(f))
    x = np.arange(len(f))
    for state, col in zip(HIERARCHY_STATES, cols, strict=True):
        ax.bar(x, f[col], bottom=bottom, color=CELL_TYPE_COLORS[state], label=state, width=0.85)
        bottom += f[col].to_numpy()
    ax.set_xticks(x, f["sample_id"], rotation=90, fontsize=5)
    ax.set(ylabel="share of leukemic cells (fraction)", xlabel="sample", ylim=(0, 1))
    for g in groups:  # label the groups under the bars
        idx = np.flatnonzero(f[group].to_numpy() == g)
        if len(idx):
            ax.annotate(str(g), xy=(idx.mean(), 1.02), ha="center", fontsize=7, annotation_clip=False)
    ax.legend(fontsize=6, frameon=False, loc="center left", bbox_to_anchor=(1, 0.5))
    if own:
        ax.figure.tight_layout()
    return ax


def plot_paired_change(features: pd.DataFrame, columns: dict[str, str], *, before: str = "diagnosis",
                       after: str = "relapse", axes: Sequence[plt.Axes] | np.ndarray | None = None) -> plt.Figure:
    """Draw one panel per feature: each patient's value at ``before`` and ``after`` joined by a line.

    Rising lines are vermilion, falling ones blue; a feature without both timepoints leaves its panel empty.

    Parameters
    ----------
    features
        One row per sample: ``patient_id``, ``timepoint`` and the feature columns.
    columns
        ``{column: axis label with unit}``, one panel each.
    before, after
        The two timepoints compared.
    axes
        One Axes per feature to draw into (default: a new figure, one row).

    Returns
    -------
    matplotlib.figure.Figure
        The figure of the panels.
    """
    own = axes is None
    if own:
        axes = plt.subplots(1, len(columns), figsize=(2.6 * len(columns), 3.2), squeeze=False)[1]
    axes = np.asarray(axes, dtype=object).ravel()
    fig = axes[0].figure
    wide = features.pivot_table(index="patient_id", columns="timepoint", values=list(columns), aggfunc="first")
    for ax, (col, label) in zip(axes, columns.items(), strict=True):
        if (col, before) not in wide or (col, after) not in wide:
            continue
        w = wide[col][[before, after]].dropna()
        for _, r in w.iterrows():
            up = r[after] > r[before]
            ax.plot([0, 1], [r[before], r[after]], color="#D55E00" if up else "#0072B2", marker="o", ms=3, lw=1)
        ax.set_xticks([0, 1], [before, after])
        ax.set(ylabel=label, title=f"n = {len(w)} patients", xlim=(-0.3, 1.3))
    if own:
        fig.tight_layout()
    return fig


def plot_dotplot(adata: ad.AnnData, markers: dict[str, list[str]], *, groupby: str = "cell_type",
                 ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a dot plot: dot size = share of cells detecting the gene, colour = mean log-normalised expression.

    Parameters
    ----------
    adata
        Cells with log-normalised ``X`` (ln(1 + counts per 10k)) and a categorical ``obs[groupby]``.
    markers
        ``{group label: genes}``; genes absent from ``adata`` are skipped, repeats drawn once.
    groupby
        ``obs`` column of the rows (empty categories are left out).
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    genes = [g for gs in markers.values() for g in gs if g in adata.var_names]
    genes = list(dict.fromkeys(genes))
    groups = [c for c in adata.obs[groupby].cat.categories if (adata.obs[groupby] == c).any()]
    x = adata[:, genes].X
    x = x.toarray() if sp.issparse(x) else np.asarray(x)
    lab = adata.obs[groupby].to_numpy()
    mean = np.array([x[lab == g].mean(axis=0) for g in groups])
    frac = np.array([(x[lab == g] > 0).mean(axis=0) for g in groups])
    own = ax is None
    ax = axes_or_new(ax, figsize=(0.22 * len(genes) + 3, 0.3 * len(groups) + 1.8))
    yy, xx = np.meshgrid(np.arange(len(groups)), np.arange(len(genes)), indexing="ij")
    sca = ax.scatter(xx.ravel(), yy.ravel(), s=60 * frac.ravel(), c=mean.ravel(), cmap="viridis", linewidths=0)
    ax.set_xticks(np.arange(len(genes)), genes, rotation=90, fontsize=6)
    ax.set_yticks(np.arange(len(groups)), groups, fontsize=7)
    ax.set(xlabel="marker gene", ylabel="annotated cell type")
    ax.invert_yaxis()
    cb = ax.figure.colorbar(sca, ax=ax, fraction=0.02, pad=0.01)
    cb.set_label("mean ln(1 + counts per 10k)")
    for f in (0.25, 0.5, 1.0):
        ax.scatter([], [], s=60 * f, color="grey", label=f"{f:.0%} of cells")
    ax.legend(fontsize=6, frameon=False, loc="upper left", bbox_to_anchor=(1.08, 1))
    if own:
        ax.figure.tight_layout()
    return ax


def plot_volcano(de: pd.DataFrame, *, title: str, label_top: int = 10, fdr: float = 0.1,
                 ax: plt.Axes | None = None) -> plt.Axes:
    """Draw a volcano plot of a pseudobulk DE result (log2 fold change vs -log10 p), top genes labelled.

    Parameters
    ----------
    de
        One row per gene (index: gene): ``log2FoldChange``, ``pvalue`` and ``padj``.
    title
        Panel title.
    label_top
        Label this many genes of smallest p-value.
    fdr
        Genes with ``padj`` below it are coloured.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    d = de.dropna(subset=["pvalue", "log2FoldChange"])
    sig = d["padj"].fillna(1) < fdr
    own = ax is None
    ax = axes_or_new(ax, figsize=(4.2, 3.8))
    ax.scatter(d.loc[~sig, "log2FoldChange"], -np.log10(d.loc[~sig, "pvalue"]), s=4, color="#999999",
               rasterized=True, label="not significant")
    ax.scatter(d.loc[sig, "log2FoldChange"], -np.log10(d.loc[sig, "pvalue"]), s=6, color="#D55E00",
               label=f"FDR < {fdr:g}")
    top = d.sort_values("pvalue").head(label_top)
    label_points(ax, top["log2FoldChange"], -np.log10(top["pvalue"]), top.index, fontsize=6)  # no overlaps
    ax.set(xlabel="log2 fold change", ylabel="-log10 p-value", title=title)
    ax.legend(fontsize=6, frameon=False)
    if own:
        ax.figure.tight_layout()
    return ax


def plot_annotation_confusion(truth: pd.Series, predicted: pd.Series, *, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw the row-normalised confusion matrix of true (planted) and annotated cell types.

    Parameters
    ----------
    truth
        Planted cell type per cell (index: cell).
    predicted
        Annotated cell type per cell; only cells in both are counted.
    ax
        Axes to draw into (default: a new one).

    Returns
    -------
    matplotlib.axes.Axes
        The panel.
    """
    common = truth.index.intersection(predicted.index)
    t, p = truth.loc[common].astype(str), predicted.loc[common].astype(str)
    labels = [c for c in CELL_TYPES if c in set(t) | set(p)]
    m = pd.crosstab(t, p).reindex(index=labels, columns=labels, fill_value=0)
    frac = m.div(m.sum(axis=1).replace(0, np.nan), axis=0)
    own = ax is None
    ax = axes_or_new(ax, figsize=(5.2, 4.6))
    im = ax.imshow(frac.to_numpy(), cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(np.arange(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(len(labels)), labels, fontsize=7)
    ax.set(xlabel="annotated cell type", ylabel="planted cell type")
    cb = ax.figure.colorbar(im, ax=ax, fraction=0.04)
    cb.set_label("share of planted cells (fraction)")
    if own:
        ax.figure.tight_layout()
    return ax
