"""The simulator's planted truth, read in one place: the validation sections of the notebooks.

A simulated cohort folder holds, beside the data-contract folders an analysis reads, a ``truth/`` folder with what
the simulator planted (``truth/<axis>_*.csv[.gz]``: cell labels, clone fates, latent sample biology) and a ``COHORT``
file naming the scale, seed and number of patients it was made with. The analyses never read either: a notebook
compares its results with the planted truth only in a section titled ``Validation against the simulator's planted
truth (simulated cohorts only)``, and only through this module, so that a lab folder (no ``truth/``) runs the same
notebook and simply skips that section::

    from helpers import truth

    cells = truth.planted_truth(data_dir, "scrna_cells")       # None for a lab folder
    if cells is not None:
        ...                                                     # compare the calls with the planted labels

For the integration, :func:`.integration.planted_effects` returns the planted effects,
:func:`.integration.planted_effect_recovery` sets the estimates beside them and :func:`.integration.design_power`
estimates how often a cohort of a given size detects them.

For the barcoding axis the planted truth is also a negative control: :func:`.barcodes.barcode_null_calibration`
re-simulates the same PDX without any resistant clone and runs the same analysis chain on it, so every call there is
false.

The analysis modules never import this package (``tests/unit/test_layers.py``): it sits beside the simulator. The readers
live here and import nothing of the simulator; what needs the simulator or an axis sits in a submodule
(:mod:`.barcodes`, :mod:`.integration`) that a notebook imports on its own, so that a notebook depends (and reruns)
only on the code it uses.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["cohort_settings", "is_simulated", "planted_truth"]


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
    fields = dict(line.split(": ", 1) for line in path.read_text().splitlines()[1:] if ": " in line)
    return {"scale": fields.get("scale", "ci"), "seed": int(fields["seed"]) if "seed" in fields else None,
            "patients": int(fields.get("patients", 120))}  # fmt: skip
