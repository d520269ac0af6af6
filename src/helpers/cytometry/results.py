"""The result of the cytometry chain (:func:`helpers.cytometry.readouts.process_files`): one frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd

__all__ = ["CytometryResult"]


@dataclass(frozen=True, eq=False)
class CytometryResult:
    """The per-tube tables of a cohort's gated FCS files, each with ``tube_id, sample_id, panel, condition``.

    Attributes
    ----------
    stats
        One row per tube and gate: ``gate, parent, count, percent_parent``.
    mfi
        One row per tube, gate and marker: ``gate, marker, n, median`` (median compensated intensity).
    qc
        One row per tube: the QC flags and status of :func:`helpers.cytometry.qc.qc_file` and ``panel_warning``.
    profiles
        One row per tube and marker: the intensity profile that :func:`helpers.cytometry.panel.swap_warnings` compares
        between the tubes of a sample.
    """

    stats: pd.DataFrame
    mfi: pd.DataFrame
    qc: pd.DataFrame
    profiles: pd.DataFrame

    def __getitem__(self, name: str) -> pd.DataFrame:
        """Return the table ``name`` (``result["qc"]`` is ``result.qc``), for code that reads the tables by name.

        Parameters
        ----------
        name
            A field of the result (``stats``, ``mfi``, ``qc``, ``profiles``...).

        Returns
        -------
        pandas.DataFrame
            The table.

        Raises
        ------
        KeyError
            No table of that name.
        """
        if name not in {f.name for f in fields(self)}:
            raise KeyError(name)
        return getattr(self, name)
