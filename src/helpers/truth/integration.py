"""The integration's validation against the simulator: planted effects beside their estimates, power of the design."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["design_power", "planted_effect_recovery", "planted_effects"]


def planted_effects() -> dict[str, dict[str, float]]:
    """Return the effects the simulator plants on the clinical outcomes (log-odds, log-hazard per unit of the latents).

    Returns
    -------
    dict
        :data:`helpers.simulate.cohort.PLANTED_EFFECTS`.
    """
    from ..simulate.cohort import PLANTED_EFFECTS

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
    from ..simulate.cohort import PLANTED_EFFECTS
    from ..simulate.power import planted_effect_tests

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

    from ..simulate.power import planted_effect_power

    return pd.concat([planted_effect_power(n, n_cohorts=n_cohorts) for n in sizes], ignore_index=True)
