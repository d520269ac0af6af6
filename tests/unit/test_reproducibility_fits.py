"""Statistics that used to depend on the BLAS kernel through tied scores (docs/reproducibility.md)."""

import numpy as np
import pandas as pd
from lifelines.utils import concordance_index

from helpers import integration as it
from helpers.integration.survival import harrell_c


def test_harrell_c_keeps_patients_of_one_class_tied():
    rng = np.random.default_rng(3)
    n = 79
    g = rng.choice(["favorable", "intermediate", "adverse"], n)
    risk = pd.Series(g).map({"favorable": 0.0, "intermediate": 0.8, "adverse": 1.0}).to_numpy()
    t = rng.exponential(12 / np.exp(risk))
    e = (rng.uniform(size=n) < 0.7).astype(int)
    df = pd.DataFrame({"t": t, "e": e, "g": pd.Categorical(g, ["favorable", "intermediate", "adverse"])})
    fit = it.fit_cox(df, "t", "e", ["g"])
    beta = fit.model.params_
    # The exact linear predictor: one value per class, so same-class patients tie by construction.
    lp = np.select([g == "intermediate", g == "adverse"], [beta.iloc[0], beta.iloc[1]], 0.0)
    expected = concordance_index(t, -lp, e)
    assert fit.concordance == expected
    X, _ = it.design_matrix(df, ["g"])
    assert harrell_c(fit.model, X, df["t"], df["e"]) == expected
