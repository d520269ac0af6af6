"""The simulator's planted truth, read in one place: the validation sections of the notebooks.

A simulated cohort folder holds, beside the data-contract folders an analysis reads, a ``truth/`` folder with what
the simulator planted (``truth/<axis>_*.csv[.gz]``: cell labels, clone fates, latent sample biology) and a ``COHORT``
file naming the scale, seed and number of patients it was made with. The analyses never read either: a notebook
compares its results with the planted truth only in a section titled ``Validation against the simulator's planted
truth (simulated cohorts only)``, and only through this module, so that a lab folder (no ``truth/``) runs the same
notebook and simply skips that section::

    from helpers.simulate import truth

    cells = truth.planted_truth(data_dir, "scrna_cells")       # None for a lab folder
    if cells is not None:
        ...                                                     # compare the calls with the planted labels

For the integration, :func:`planted_effect_recovery` sets the estimates beside the planted effects and
:func:`design_power` estimates how often a cohort of a given size detects them.

For the barcoding axis the planted truth is also a negative control: :func:`barcode_null_calibration` re-simulates
the same PDX without any resistant clone and runs the same analysis chain on it, so every call there is false.

The analysis modules never import this module (``tests/test_layers.py``): it sits with the simulator.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "NullCalibration",
    "barcode_null_calibration",
    "cohort_settings",
    "design_power",
    "is_simulated",
    "planted_effect_recovery",
    "planted_effects",
    "planted_truth",
]


def is_simulated(data_dir: str | Path) -> bool:
    """Whether a cohort folder was written by the simulator (it has a ``truth/`` folder).

    Parameters
    ----------
    data_dir
        Cohort folder.

    Returns
    -------
    bool
        ``True`` for a simulated cohort, ``False`` for a lab's data folder.
    """
    return (Path(data_dir) / "truth").is_dir()


def planted_truth(data_dir: str | Path, name: str) -> pd.DataFrame | None:
    """One planted-truth table of a simulated cohort, or ``None`` when the folder is not simulated.

    Parameters
    ----------
    data_dir
        Cohort folder.
    name
        Table name without suffix, e.g. ``"scrna_cells"`` (per-cell labels: ``sample_id, barcode, cell_type,
        malignant, doublet, damaged``), ``"scrna_samples"`` (per-sample latent biology), ``"barcodes_clones"``.
        ``truth/<name>.csv.gz`` is read, else ``truth/<name>.csv``.

    Returns
    -------
    DataFrame or None
        The table as written by the simulator; ``None`` when ``data_dir`` has no ``truth/`` folder.

    Raises
    ------
    FileNotFoundError
        The folder is simulated but holds no such table (a typo, or an axis that was not simulated).
    """
    import pandas as pd

    folder = Path(data_dir) / "truth"
    if not folder.is_dir():
        return None
    for suffix in (".csv.gz", ".csv"):
        path = folder / f"{name}{suffix}"
        if path.is_file():
            return pd.read_csv(path)
    have = sorted(p.name.split(".")[0] for p in folder.glob("*.csv*"))
    raise FileNotFoundError(f"no planted-truth table {name!r} in the cohort's truth/ folder; it has {', '.join(have)}")


def cohort_settings(data_dir: str | Path) -> dict[str, Any] | None:
    """Scale, seed and number of patients a simulated cohort was made with (its ``COHORT`` file).

    Parameters
    ----------
    data_dir
        Cohort folder.

    Returns
    -------
    dict or None
        ``{"scale": str, "seed": int, "patients": int}``; ``None`` when the folder has no ``COHORT`` file.
    """
    path = Path(data_dir) / "COHORT"
    if not path.is_file():
        return None
    from . import DEFAULT_SEED

    fields = dict(line.split(": ", 1) for line in path.read_text().splitlines()[1:] if ": " in line)
    return {"scale": fields.get("scale", "ci"), "seed": int(fields.get("seed", DEFAULT_SEED)),
            "patients": int(fields.get("patients", 120))}  # fmt: skip


def planted_effects() -> dict[str, dict[str, float]]:
    """Return the effects the simulator plants on the clinical outcomes (log-odds, log-hazard per unit of the latents).

    Returns
    -------
    dict
        :data:`helpers.simulate.cohort.PLANTED_EFFECTS`.
    """
    from .cohort import PLANTED_EFFECTS

    return PLANTED_EFFECTS


def planted_effect_recovery(patients: pd.DataFrame, *, features: dict[str, str]) -> pd.DataFrame:
    """Set the planted effects beside their estimates in one simulated cohort.

    Parameters
    ----------
    patients
        The integration's patient table of a simulated cohort.
    features
        Simulator term (``ven_auc``, ``pct_monocytic``, ``tnk_activation``) -> the feature column that measures it.

    Returns
    -------
    pandas.DataFrame
        :func:`helpers.simulate.power.planted_effect_tests` with the simulator's planted effects.
    """
    from .cohort import PLANTED_EFFECTS
    from .power import planted_effect_tests

    return planted_effect_tests(patients, PLANTED_EFFECTS, features=features)


def design_power(sizes: list[int], *, n_cohorts: int) -> pd.DataFrame:
    """Estimate the power of the design: how often cohorts simulated with other seeds detect each planted effect.

    Parameters
    ----------
    sizes
        Study sizes (patients) to simulate.
    n_cohorts
        Cohorts simulated per size.

    Returns
    -------
    pandas.DataFrame
        :func:`helpers.simulate.power.planted_effect_power` of every size, stacked.
    """
    import pandas as pd

    from .power import planted_effect_power

    return pd.concat([planted_effect_power(n, n_cohorts=n_cohorts) for n in sizes], ignore_index=True)


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
    from . import SCALES
    from .barcodes import simulate_barcodes
    from .cohort import simulate_patients

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
