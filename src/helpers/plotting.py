"""Publication figure conventions: colour-blind-safe palettes and saving as vector PDF plus PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt

from .io import atomic_path

__all__ = ["OKABE_ITO", "RESPONSE_COLORS", "ARM_COLORS", "TIMEPOINT_COLORS", "save_figure", "set_style"]

# Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000"]
RESPONSE_COLORS = {"responder": "#0072B2", "primary_resistant": "#D55E00", "relapse": "#CC79A7"}
ARM_COLORS = {"vehicle": "#999999", "aza_ven": "#D55E00"}
TIMEPOINT_COLORS = {"diagnosis": "#0072B2", "remission": "#009E73", "relapse": "#D55E00"}


def set_style() -> None:
    """Matplotlib defaults for print: embedded TrueType fonts, readable sizes, no top/right spines."""
    plt.rcParams.update(
        {
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.hashsalt": "dream",
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.labelsize": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "figure.dpi": 100,
            "savefig.dpi": 300,
            "savefig.bbox": "tight",
            "axes.prop_cycle": matplotlib.cycler(color=OKABE_ITO),
        }
    )


def save_figure(fig: plt.Figure, path_stem: str | Path, *, formats: tuple[str, ...] = ("pdf", "png")) -> list[Path]:
    """Save ``fig`` as ``<path_stem>.pdf`` and ``.png`` atomically, with fixed metadata so bytes are reproducible."""
    stem = Path(path_stem)
    out = []
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        meta = {"CreationDate": None} if fmt == "pdf" else {}
        if fmt == "png":
            meta = {"Software": None}
        with atomic_path(target) as tmp:
            fig.savefig(tmp, format=fmt, metadata=meta)
        out.append(target)
    return out
