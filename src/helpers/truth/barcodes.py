"""The barcoding axis's negative control: the same PDX re-simulated without any resistant clone, through the same chain."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

from . import cohort_settings, is_simulated

__all__ = ["NullCalibration", "barcode_null_calibration"]


@dataclasses.dataclass(frozen=True)
class NullCalibration:
    """The barcoding analysis run on the same PDX re-simulated without any resistant clone.

    Attributes
    ----------
    summary
        One row: PDX, barcodes tested, false calls (by the whole rule and by the GLM alone), share of one-sided
        expansion p-values below 0.05, PDX-level permutation and Simes p-values below 0.05.
    p_expansion
        The one-sided expansion p-value of every barcode tested (uniform when the test is calibrated).
    """

    summary: pd.DataFrame
    p_expansion: pd.Series


def barcode_null_calibration(
    data_dir: str | Path,
    *,
    treated: str = "aza_ven",
    control: str = "vehicle",
    fdr: float = 0.05,
    max_perm: int = 5000,
    seed: int = 0,
    **chain: Any,
) -> NullCalibration | None:
    """Re-simulate a simulated cohort's PDX without resistant clones and run the barcoding chain and calls on them.

    The PDX, mice, library sizes and clone fitness are drawn as in the cohort (same scale and seed, from its
    ``COHORT`` file); only the planted resistant clones are left out, so every clone called resistant is a false
    call. The data go through :func:`helpers.barcodes.process_barcodes` (``chain`` options) and
    :func:`helpers.barcodes.resistance_calls` exactly as the cohort's own data do.

    Parameters
    ----------
    data_dir
        Simulated cohort folder (FASTQ barcoding data).
    treated, control
        Arms compared.
    fdr, max_perm, seed
        Options of :func:`helpers.barcodes.resistance_calls`.
    **chain
        Options of :func:`helpers.barcodes.process_barcodes` (``min_mean_quality``, ``max_mismatches``,
        ``cluster_method``, ``cluster_distance``, ``cluster_ratio``, ``cluster_metric``, ``collapse``).

    Returns
    -------
    NullCalibration or None
        ``None`` when the folder is not a simulated cohort (no ``truth/`` or no ``COHORT`` file) or was simulated at a
        scale the barcoding simulator does not have.
    """
    import pandas as pd

    from .. import barcodes as bc
    from ..simulate import SCALES
    from ..simulate.barcodes import simulate_barcodes
    from ..simulate.cohort import simulate_patients

    settings = cohort_settings(data_dir)
    if not is_simulated(data_dir) or settings is None or settings["scale"] not in SCALES:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tables = simulate_patients(settings["patients"], seed=settings["seed"])
        simulate_barcodes(tables, tmp, scale=settings["scale"], seed=settings["seed"], plant_resistance=False)
        data = bc.process_barcodes(tmp, **chain)
    res = bc.resistance_calls(data.counts, data.units, treated=treated, control=control, fdr=fdr, max_perm=max_perm,
                              seed=seed)  # fmt: skip
    summary = pd.DataFrame({
        "scenario": ["same PDX re-simulated, no resistant clone"], "pdx": [len(res.pdx)],
        "barcodes_tested": [len(res.barcodes)], "false_calls": [int(res.barcodes["resistant"].sum())],
        "false_calls_glm_only": [int(res.pdx["n_resistant_glm_only"].sum())],
        "share_p_expansion_below_0.05": [float((res.barcodes["p_expansion"] < 0.05).mean())],
        "pdx_p_below_0.05": [int((res.pdx["p_value"] < 0.05).sum())],
        "pdx_simes_below_0.05": [int((res.pdx["p_simes"] < 0.05).sum())],
    })  # fmt: skip
    return NullCalibration(summary=summary, p_expansion=res.barcodes["p_expansion"])
