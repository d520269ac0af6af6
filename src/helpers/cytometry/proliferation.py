"""Proliferation by dye dilution (CFSE, CellTrace Violet, CellTrace Far Red...) and EdU incorporation.

A cell-tracking dye is shared between the two daughters of every division, so the dye signal of generation ``g`` is
the undivided (day-0) signal divided by ``dilution ** g`` (2 for an even split), after the autofluorescence is taken
off. On the log2 scale the generations are peaks a fixed ``log2(dilution)`` apart, starting at the day-0 peak.

:func:`fit_generations` fits those peaks as a Gaussian mixture on log2(signal - autofluorescence) whose means are
*fixed* by the day-0 reference and the dilution factor (one shared shift of at most half a generation absorbs dye
loss during culture), with one shared width, by expectation-maximisation. A free Gaussian mixture (scikit-learn,
flowFit's nls.lm) lets neighbouring generations trade places or merge when a generation is small; holding the spacing
is what the physics gives, and no maintained Python library fits that constrained model, hence the few lines here.

Indices from the cell counts ``N_g`` per generation (Roederer 2011, Cytometry A 79:95-101, "Interpretation of
cellular proliferation data: avoid the panglossian"), with ``P_g = N_g / 2^g`` the precursors (original cells) that
gave them (assuming no cell death):

- ``division_index`` = sum_g g P_g / sum_g P_g: divisions per original cell, the undivided included;
- ``proliferation_index`` = sum_{g>=1} g P_g / sum_{g>=1} P_g: divisions per original cell that divided;
- ``percent_divided`` = 100 sum_{g>=1} P_g / sum_g P_g: the original cells that divided at least once;
- ``precursor_frequency`` = the same as a fraction (0-1): Roederer's precursor frequency of responding cells;
- ``mean_divisions`` = sum_g g N_g / sum_g N_g: divisions behind the cells present (weighted by cells, not
  precursors);
- ``expansion_index`` = sum_g N_g / sum_g P_g: fold expansion of the culture (flowFit's "proliferation index", Munson
  2010, Cytometry A 77:909).

The model-free estimate needs no peaks: ``median_divisions`` = log2((ref - af) / (sample - af)) / log2(dilution) on the
medians of the reference, the sample and the unstained control (autofluorescence, af).

EdU: :func:`edu_positive_fraction` counts events above the 99.5th percentile of the unstained (or EdU-free) control.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataContractError
from .fcs import read_fcs

__all__ = [
    "GenerationFit",
    "fit_generations",
    "proliferation_indices",
    "median_divisions",
    "edu_positive_fraction",
    "dye_values",
    "proliferation_table",
    "PROLIFERATION_COLUMNS",
]

PROLIFERATION_COLUMNS = ["file", "events", "median", "mean_divisions", "division_index", "proliferation_index",
                         "percent_divided", "precursor_frequency"]  # fmt: skip
_MAX_SHIFT = 0.5  # generations: dye loss during culture may move every peak, never by a whole generation


@dataclass
class GenerationFit:
    """A fitted generation structure.

    Attributes
    ----------
    fractions
        Fraction of the cells in each generation (0, 1, ..., G).
    peak0
        log2 position of the undivided peak (after the shift).
    width
        Common standard deviation of the peaks (log2 units).
    shift
        Fitted shift of all peaks from the reference (log2 units; negative = dye lost).
    n_events
        Events fitted.
    """

    fractions: np.ndarray
    peak0: float
    width: float
    shift: float
    n_events: int


def _log_signal(values: np.ndarray, autofluorescence: float, floor: float) -> np.ndarray:
    return np.log2(np.maximum(np.asarray(values, dtype=np.float64) - autofluorescence, floor))


def fit_generations(values: np.ndarray, reference: np.ndarray, *, autofluorescence: float = 0.0,
                    dilution: float = 2.0, max_generations: int = 10, floor: float | None = None,
                    n_iter: int = 300, tol: float = 1e-9) -> GenerationFit:  # fmt: skip
    """Fit generation peaks to dye intensities.

    Parameters
    ----------
    values
        Dye intensities of the cultured cells (linear, compensated).
    reference
        Dye intensities of the day-0 (undivided) cells, stained the same way.
    autofluorescence
        Signal of unstained cells (median of the unstained control), subtracted first.
    dilution
        Dye ratio between a mother and a daughter (2 for an even split).
    max_generations
        Most generations fitted; fewer when the last peaks would sit below the floor.
    floor
        Lowest dye signal above autofluorescence that still counts (default: the spread of the reference's
        autofluorescence-subtracted signal at the low end, 1/1000 of the reference median).
    n_iter, tol
        EM iterations and convergence tolerance on the log-likelihood.

    Returns
    -------
    GenerationFit
        Fraction of the cells in each generation (0 = undivided), the fitted day-0 peak and width (log2 units), the
        shift of the peaks against the reference (log2, dye loss in culture) and the events fitted.

    Raises
    ------
    DataContractError
        Fewer than 20 events in ``values`` or ``reference``, or a reference no brighter than the autofluorescence.
    """
    ref = np.asarray(reference, dtype=np.float64)
    v = np.asarray(values, dtype=np.float64)
    if ref.size < 20 or v.size < 20:
        raise DataContractError(None, f"too few events for a generation fit ({v.size} cells, {ref.size} reference)")
    ref_med = float(np.median(ref)) - autofluorescence
    if ref_med <= 0:
        raise DataContractError(None, "the day-0 reference is not brighter than the autofluorescence")
    floor = floor if floor is not None else ref_med / 1000.0
    lr = _log_signal(ref, autofluorescence, floor)
    mu0 = float(np.median(lr))
    sd0 = float(1.4826 * np.median(np.abs(lr - mu0)))
    step = float(np.log2(dilution))
    n_gen = int(min(max_generations, np.floor((mu0 - np.log2(floor)) / step))) + 1
    x = _log_signal(v, autofluorescence, floor)
    offs = -step * np.arange(n_gen)
    w = np.full(n_gen, 1.0 / n_gen)
    sd, shift = max(sd0, 0.05), 0.0
    last = -np.inf
    for _ in range(n_iter):
        mu = mu0 + shift + offs
        z = (x[:, None] - mu[None, :]) / sd
        logp = np.log(np.maximum(w, 1e-300))[None, :] - 0.5 * z * z - np.log(sd)
        m = logp.max(axis=1, keepdims=True)
        p = np.exp(logp - m)
        s = p.sum(axis=1, keepdims=True)
        ll = float((np.log(s) + m).sum())
        r = p / s
        w = r.mean(axis=0)
        # Shared shift and width given the fixed spacing (closed-form M-step).
        shift = float(np.clip((r * (x[:, None] - mu0 - offs[None, :])).sum() / x.size, -_MAX_SHIFT * step,
                              _MAX_SHIFT * step))  # fmt: skip
        resid = x[:, None] - (mu0 + shift + offs)[None, :]
        sd = float(np.sqrt(max((r * resid * resid).sum() / x.size, 1e-4)))
        if ll - last < tol * abs(ll):
            break
        last = ll
    return GenerationFit(fractions=w, peak0=mu0 + shift, width=sd, shift=shift, n_events=int(x.size))


def proliferation_indices(fractions: Sequence[float], *, dilution: float = 2.0) -> dict[str, float]:
    """Compute Roederer's indices (and the expansion index) from the fraction of cells per generation (0, 1, ...).

    The precursors of generation ``g`` are ``N_g / dilution^g`` (2^g for an even split).

    Parameters
    ----------
    fractions
        Fraction (or count) of the cells in each generation, undivided first (e.g. :attr:`GenerationFit.fractions`).
    dilution
        Dye ratio between a mother and a daughter (2 for an even split).

    Returns
    -------
    dict of str to float
        ``mean_divisions`` (mean generation of the cells), ``division_index`` (mean divisions of the precursors,
        undivided included), ``proliferation_index`` (mean divisions of the precursors that divided; NaN when none),
        ``percent_divided`` (% of precursors that divided), ``precursor_frequency`` (the same as a fraction) and
        ``expansion_index`` (cells per precursor).
    """
    n = np.asarray(fractions, dtype=np.float64)
    g = np.arange(n.size)
    prec = n / float(dilution) ** g
    tot_p, div_p = prec.sum(), prec[1:].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "mean_divisions": float((g * n).sum() / n.sum()),
            "division_index": float((g * prec).sum() / tot_p),
            "proliferation_index": float((g[1:] * prec[1:]).sum() / div_p) if div_p > 0 else np.nan,
            "percent_divided": float(100 * div_p / tot_p),
            "precursor_frequency": float(div_p / tot_p),
            "expansion_index": float(n.sum() / tot_p),
        }


def median_divisions(sample_median: float, reference_median: float, *, autofluorescence: float = 0.0,
                     dilution: float = 2.0) -> float:  # fmt: skip
    """Estimate divisions without a model from medians: log2((ref - af) / (sample - af)) / log2(dilution).

    Parameters
    ----------
    sample_median
        Median dye intensity of the cultured cells (linear).
    reference_median
        Median dye intensity of the day-0 cells (linear).
    autofluorescence
        Median signal of unstained cells, subtracted from both.
    dilution
        Dye ratio between a mother and a daughter.

    Returns
    -------
    float
        Divisions (NaN when either median is not above the autofluorescence).
    """
    a, b = reference_median - autofluorescence, sample_median - autofluorescence
    if a <= 0 or b <= 0:
        return float("nan")
    return float(np.log2(a / b) / np.log2(dilution))


def edu_positive_fraction(values: np.ndarray, control: np.ndarray, *, quantile: float = 0.995) -> float:
    """Compute the fraction of events above the ``quantile`` of the control (unstained or EdU-free) intensities.

    Parameters
    ----------
    values
        EdU intensities of the stained cells (linear).
    control
        EdU intensities of the control tube; its ``quantile`` is the positivity threshold.
    quantile
        Quantile of the control that a positive event exceeds (0.995: 0.5 % false positives).

    Returns
    -------
    float
        Fraction 0-1 of ``values`` above the threshold (NaN when ``values`` is empty).

    Raises
    ------
    DataContractError
        A control with fewer than 20 events.
    """
    v, c = np.asarray(values, dtype=np.float64), np.asarray(control, dtype=np.float64)
    if c.size < 20:
        raise DataContractError(None, f"the EdU control has {c.size} events; at least 20 are needed for a threshold")
    return float((v > np.quantile(c, quantile)).mean()) if v.size else float("nan")


def dye_values(path: str | Path, channel: str, *, min_fsc: float | None = 35000.0) -> np.ndarray:
    """Read the dye channel of one file, linear, compensated with the file's matrix when it has one.

    Debris (FSC-A below ``min_fsc``, the cohort strategy's debris gate) is left out when the file has FSC-A.

    Parameters
    ----------
    path
        The FCS file.
    channel
        The dye's marker ($PnS, e.g. ``"CFSE"``) or detector ($PnN).
    min_fsc
        FSC-A threshold of the debris gate (linear units); None keeps every event.

    Returns
    -------
    numpy.ndarray
        float64 intensities of the kept events.

    Raises
    ------
    DataContractError
        An unreadable file or no channel of that name.
    """
    data = read_fcs(path)
    if data.spillover is not None:
        from .transforms import compensate

        data = compensate(data, inplace=True)
    v = np.asarray(data.events[:, data.column(channel)], dtype=np.float64)
    if min_fsc is not None and "FSC-A" in data.channels:
        v = v[data.events[:, data.channels.index("FSC-A")] >= min_fsc]
    return v


def proliferation_table(files: Sequence[str | Path], channel: str, reference: str | Path, *,
                        unstained: str | Path | None = None, dilution: float = 2.0, max_generations: int = 10,
                        min_fsc: float | None = 35000.0) -> pd.DataFrame:  # fmt: skip
    """Tabulate the dye-dilution read-outs of each file (the ``proliferation`` command line).

    Parameters
    ----------
    files
        The cultured tubes' FCS files.
    channel
        The dye's marker or detector name.
    reference
        The day-0 tube (undivided cells) of the same staining.
    unstained
        Unstained control whose median is subtracted as autofluorescence (None: 0).
    dilution, max_generations
        As :func:`fit_generations`.
    min_fsc
        FSC-A threshold of the debris gate (None: keep every event).

    Returns
    -------
    pandas.DataFrame
        :data:`PROLIFERATION_COLUMNS`, then ``expansion_index``, ``median_divisions``, ``peak_shift`` (log2) and
        ``gen_<g>_pct`` (cells per generation, %). ``file`` is the file name without its folder.
    """
    ref = dye_values(reference, channel, min_fsc=min_fsc)
    af = float(np.median(dye_values(unstained, channel, min_fsc=min_fsc))) if unstained is not None else 0.0
    ref_med = float(np.median(ref))
    rows = []
    for f in files:
        v = dye_values(f, channel, min_fsc=min_fsc)
        fit = fit_generations(v, ref, autofluorescence=af, dilution=dilution, max_generations=max_generations)
        idx = proliferation_indices(fit.fractions, dilution=dilution)
        med = float(np.median(v))
        row = {"file": Path(f).name, "events": int(v.size), "median": med, **idx,
               "median_divisions": median_divisions(med, ref_med, autofluorescence=af, dilution=dilution),
               "peak_shift": fit.shift}  # fmt: skip
        row.update({f"gen_{g}_pct": 100 * float(p) for g, p in enumerate(fit.fractions)})
        rows.append(row)
    df = pd.DataFrame(rows)
    extra = [c for c in df.columns if c not in PROLIFERATION_COLUMNS]
    gens = sorted((c for c in extra if c.startswith("gen_")), key=lambda c: int(c.split("_")[1]))
    df = df[PROLIFERATION_COLUMNS + [c for c in extra if not c.startswith("gen_")] + gens]
    return df.fillna({c: 0.0 for c in gens})
