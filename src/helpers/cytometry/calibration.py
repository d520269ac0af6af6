"""Real negative controls for the cluster tests: label permutations of real events.

A planted truth proves only what the simulator does not assume, so the differential tests of
:mod:`helpers.cytometry.differential` are also run where the null is true by construction on real data: the events of
one real acquisition, clustered as the pipeline does, cut in acquisition order into contiguous blocks of unequal
size (one block = one "sample", two neighbouring blocks = one "patient"), and the two group labels assigned at random
within every patient. Whatever structure the acquisition has (fluidics drift, clumps, the populations' real shapes
and the real spread of a marker's median in small clusters) is in the data; no group effect is. The share of
p-values under ``alpha`` over many random splits and labelings is the test's false-positive rate on real data.

:func:`block_design` cuts the events, :func:`permutation_null` runs the tests and :func:`null_fpr` summarises them
with a Monte-Carlo error that respects the correlation of the tests within one labeling (the standard error of the
per-labeling rates, not the binomial one of all p-values).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .differential import cluster_counts, differential_abundance, differential_state

__all__ = ["block_design", "permutation_null", "null_fpr"]


def block_design(n_events: int, *, n_patients: int, rng: np.random.Generator,
                 size_spread: float = 0.5) -> tuple[np.ndarray, pd.DataFrame]:  # fmt: skip
    """Cut ``n_events`` events (in acquisition order) into ``2 n_patients`` contiguous blocks with random labels.

    Parameters
    ----------
    n_events
        Events of the acquisition, in the order they were acquired.
    n_patients
        Pseudo-patients; each gets two neighbouring blocks.
    rng
        Random generator (block sizes and labels).
    size_spread
        Standard deviation of the blocks' log sizes (unequal totals, as real samples have).

    Returns
    -------
    (sample_of_event, meta)
        The pseudo-sample of every event, and ``meta`` indexed by sample with ``patient_id`` and ``timepoint``
        (``diagnosis`` / ``relapse``, in random order within each patient).
    """
    w = np.exp(rng.normal(0, size_spread, 2 * n_patients))
    edges = np.round(np.concatenate([[0], np.cumsum(w) / w.sum()]) * n_events).astype(int)
    ids = [f"S{k + 1:03d}" for k in range(2 * n_patients)]
    sample_of = np.repeat(np.asarray(ids), np.diff(edges))
    rows = []
    for p in range(n_patients):
        tps = ["diagnosis", "relapse"] if rng.random() < 0.5 else ["relapse", "diagnosis"]
        rows += [{"sample_id": ids[2 * p + j], "patient_id": f"P{p + 1:02d}", "timepoint": tps[j]} for j in range(2)]
    return sample_of, pd.DataFrame(rows).set_index("sample_id")


def permutation_null(labels: np.ndarray, values: np.ndarray | None = None, *, n_patients: int = 10,
                     n_rep: int = 20, seed: int = 0, size_spread: float = 0.5,
                     min_cells_state: int = 5) -> pd.DataFrame:  # fmt: skip
    """Differential abundance and state tests on random paired labels of real events.

    Parameters
    ----------
    labels
        Metacluster of every event, in acquisition order.
    values
        Optional: one state marker per event (transformed scale); its median per sample and metacluster is tested
        with :func:`helpers.cytometry.differential.differential_state`.
    n_patients
        Pseudo-patients per labeling (two samples each).
    n_rep
        Random splits and labelings.
    seed
        Seeds the splits and labels.
    size_spread
        As for :func:`block_design`.
    min_cells_state
        A sample's median in a metacluster needs at least this many cells (else it is missing).

    Returns
    -------
    pandas.DataFrame
        One row per test: ``rep, test`` (``abundance`` / ``state``), ``metacluster, p_value``.
    """
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    out = []
    for rep in range(n_rep):
        sample_of, meta = block_design(labels.size, n_patients=n_patients, rng=rng, size_spread=size_spread)
        counts = cluster_counts(sample_of, labels).reindex(columns=np.unique(labels), fill_value=0)
        da = differential_abundance(counts, meta, group="timepoint", paired=True)
        out.append(da[["metacluster", "p_value"]].assign(rep=rep, test="abundance"))
        if values is not None:
            df = pd.DataFrame({"s": sample_of, "m": labels, "v": np.asarray(values, dtype=float)})
            g = df.groupby(["s", "m"])["v"]
            med = g.median().where(g.size() >= min_cells_state).unstack().reindex(meta.index)
            ds = differential_state(med, meta, group="timepoint")
            out.append(ds[["metacluster", "p_value"]].assign(rep=rep, test="state"))
    return pd.concat(out, ignore_index=True)[["rep", "test", "metacluster", "p_value"]]


def null_fpr(pvalues: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """False-positive rate per test with its Monte-Carlo error.

    Parameters
    ----------
    pvalues
        :func:`permutation_null` output (or any table with ``rep, test, p_value``).
    alpha
        Nominal level.

    Returns
    -------
    pandas.DataFrame
        One row per test: ``test, n_tests`` (finite p-values), ``n_rep, fpr``, ``mc_se`` (standard error of the mean
        of the per-labeling rates: the tests of one labeling share its split and are not independent) and
        ``binomial_se`` (as if all tests were independent).
    """
    rows = []
    for test, g in pvalues.dropna(subset=["p_value"]).groupby("test", sort=False):
        hit = g["p_value"].to_numpy() < alpha
        per = g.assign(h=hit).groupby("rep")["h"].agg(["sum", "size"])
        fpr = float(hit.mean())
        # Ratio estimator: rep-level deviations weighted by the reps' numbers of tests.
        dev = (per["sum"] - fpr * per["size"]) / per["size"].mean()
        mc = float(np.sqrt((dev**2).sum() / (len(per) * max(len(per) - 1, 1)))) if len(per) > 1 else np.nan
        rows.append({"test": test, "n_tests": int(hit.size), "n_rep": int(len(per)), "fpr": fpr, "mc_se": mc,
                     "binomial_se": float(np.sqrt(fpr * (1 - fpr) / hit.size))})  # fmt: skip
    return pd.DataFrame(rows)
