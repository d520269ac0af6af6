"""Count-level simulator of a barcoding experiment with a shared pre-transplant baseline and several arms.

Adversarial to the pre-existing-resistance test: it builds in what a test that assumes independent mice and no shared
clone fitness gets wrong (see :func:`simulate_count_experiment`). It writes no files; tests and benchmarks lay its
tables out as a count-table data folder (docs/barcodes.md) when they need one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_count_experiment", "COUNT_DESIGN_SIZES"]


COUNT_DESIGN_SIZES = {
    "ci": {"n_clones": 400, "mice": {"vehicle": 6, "high_dose": 6}, "pcr": 2, "reads": 60000},
    "full": {"n_clones": 1500, "mice": {"vehicle": 6, "low_dose": 6, "high_dose": 6}, "pcr": 2, "reads": 400000},
}


def simulate_count_experiment(*, scale: str = "ci", seed: int = 0, n_resistant: int = 8, n_clones: int | None = None,
                              mice: dict[str, int] | None = None, control: str = "vehicle", kill: float = 3.0,
                              resistant_gain: float = 2.5) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Simulate a barcoding experiment as a count table and design sheet, with what defeats naive tests built in.

    One barcoded pool is sequenced before transplant (the shared baseline, with its own sampling noise) and split into
    mice of each arm, read at the endpoint as PCR replicates. Built in: log-normal pool sizes (dominant clones by
    abundance alone); an intrinsic fitness shared by every mouse of every arm, heavy-tailed (a few clones dominate
    vehicle mice too); an engraftment bottleneck (clones lost at random per mouse); negative-binomial (gamma) growth
    noise between mice; per-mouse drift with rare jackpot expansions; PCR amplification bias and rare PCR jackpots per
    replicate; multinomial sequencing. Treated arms kill sensitive clones by ``kill`` log-units (the low-dose arm by
    half); ``n_resistant`` clones (among those of at least median pool size, so they engraft) escape it and grow by
    ``resistant_gain`` log-units instead. ``n_resistant=0`` is the null cohort.

    Parameters
    ----------
    scale
        ``"ci"`` or ``"full"``: clones and mice per arm (``COUNT_DESIGN_SIZES``).
    seed
        Seed; the draws come from the stream ``[seed, 4, 1000]``.
    n_resistant
        Clones planted as resistant (0: the null experiment).
    n_clones
        Clones in the pool (default: the scale's).
    mice
        ``{arm: mice}`` (default: the scale's), including ``control``.
    control
        The untreated arm.
    kill
        Natural-log units by which treatment shrinks a sensitive clone (half in a low-dose arm).
    resistant_gain
        Natural-log units by which a resistant clone grows under treatment (half in a low-dose arm).

    Returns
    -------
    counts, design, truth
        Wide counts (barcode x sample, int64), the design sheet of the data contract, and per clone ``barcode,
        pool_frequency, fitness, resistant``.
    """
    cfg = COUNT_DESIGN_SIZES[scale]
    rng = np.random.default_rng([seed, 4, 1000])
    n_cl = n_clones or cfg["n_clones"]
    arms = mice or cfg["mice"]
    names = np.array([f"BC_{i + 1:04d}" for i in range(n_cl)])
    pool = rng.lognormal(0.0, 1.3, n_cl)
    pool /= pool.sum()
    fitness = 0.6 * rng.standard_t(3, n_cl)  # heavy tail: some clones win in every mouse, treated or not
    big = np.flatnonzero(pool >= np.median(pool))
    resistant = np.zeros(n_cl, dtype=bool)
    resistant[rng.choice(big, min(n_resistant, big.size), replace=False)] = True
    cols, design = {}, []

    def sequence(cells, sample, **meta):
        p = cells / cells.sum()
        for rep in (1, 2)[: cfg["pcr"]]:
            dna = rng.multinomial(20 * n_cl, p)  # DNA sampling of ~20 cells per clone on average
            bias = rng.gamma(8.0, 1 / 8.0, n_cl)  # amplification efficiency per clone and replicate
            jackpot = rng.random(n_cl) < 0.005
            bias[jackpot] *= rng.uniform(5, 20, int(jackpot.sum()))  # PCR jackpots: early-cycle amplification
            t = dna * bias
            reads = rng.multinomial(cfg["reads"], t / t.sum() if t.sum() > 0 else p)
            cols[f"{sample}-{rep}"] = reads
            design.append({"sample": f"{sample}-{rep}", "pcr_replicate": rep, **meta})

    sequence(pool * n_cl * 50, "T0", mouse="T0", arm="baseline", tissue="pool", timepoint="baseline", baseline="",
             control="false")
    m_id = 0
    for arm, n_mice in arms.items():
        dose = 0.0 if arm == control else (0.5 if "low" in arm else 1.0)
        for _ in range(n_mice):
            m_id += 1
            engrafted = rng.multinomial(15 * n_cl, pool).astype(float)  # bottleneck: ~15 cells per clone
            growth = 2.0 + fitness + rng.normal(0, 0.3, n_cl)  # drift between mice
            jackpot = rng.random(n_cl) < 0.01
            growth += jackpot * rng.normal(2.5, 0.5, n_cl)
            growth -= dose * np.where(resistant, -resistant_gain, kill)
            mu = engrafted * np.exp(growth)
            cells = rng.gamma(1 / 0.3, mu * 0.3 + 1e-12)  # negative-binomial between mice (dispersion 0.3)
            sequence(cells, f"S{m_id}", mouse=f"M{m_id}", arm=arm, tissue="bone_marrow", timepoint="endpoint",
                     baseline="T0", control=str(arm == control).lower())
    counts = pd.DataFrame(cols, index=pd.Index(names, name="barcode")).astype("int64")
    counts.columns.name = "sample"
    cols_order = ["sample", "mouse", "arm", "tissue", "timepoint", "pcr_replicate", "baseline", "control"]
    truth = pd.DataFrame({"barcode": names, "pool_frequency": pool, "fitness": fitness,
                          "resistant": resistant.astype(int)})  # fmt: skip
    return counts, pd.DataFrame(design)[cols_order], truth
