# ---
# jupyter:
#   dream:
#     inputs:
#     - barcodes
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 · Genetic barcoding in xenografts: is resistance to AZA/VEN pre-existing and heritable?
#
# Leukemia cells of each patient were barcoded with a lentiviral library, expanded and split into replicate mice
# (patient-derived xenografts, PDX) given vehicle or AZA/VEN. Barcodes were read from blood DNA by amplicon
# sequencing before and after treatment, each sample as PCR replicates. This notebook turns the FASTQ files into
# error-corrected clone counts, checks their quality, describes clonal diversity and dynamics, and asks the study's
# question: **do the same clones survive AZA/VEN in independent mice, beyond what their starting abundance and the
# vehicle arm explain?** If so, the resistant state existed before treatment and is heritable.
#
# The data layout is the barcoding part of the data contract (`docs/barcodes.md`); all logic lives in
# `helpers.barcodes`, tested against the published outputs of genBaRcode, pycashier and starcode.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/04_barcodes"
figures_dir = "figures/ci/04_barcodes"
upstream_dirs = {}
seed = 20261129
min_mean_quality = 30  # genBaRcode's default read filter (mean Phred over the read)
max_mismatches = 1  # in the 48 fixed positions of the backbone
cluster_method = "message_passing"  # starcode-style
cluster_distance = 2
cluster_ratio = 5.0
cluster_metric = "hamming"
n_perm = 1000
fdr = 0.05
calibration = True  # re-simulate the PDX without resistant clones and run both tests on them
larry_dataset = "larry_clonal_subset"  # public clone-aware scRNA for the single-cell bridge ("" to skip)

# %%
import tempfile
import warnings

import numpy as np
import pandas as pd

import helpers.barcodes as bc
from helpers.barcodes.plots import plot_clone_bars, plot_pvalue_qq, plot_rarefaction, plot_read_fates, plot_resistance
from helpers.io import write_table
from helpers.paths import output_folders, resolve
from helpers.plotting import ARM_COLORS, save_figure, set_style

warnings.filterwarnings("ignore")
set_style()
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 20)
out, figs = output_folders(output_dir, figures_dir)
data = resolve(data_dir)
ds = bc.load_barcode_dataset(data)
sheet = ds.sheet
print(f"library pattern ({ds.pattern.kind}): {ds.pattern} ({ds.pattern.barcode_length} wobble positions)")
print(f"{sheet['pdx_id'].nunique()} PDX, {sheet['mouse_id'].nunique()} mice, {len(sheet)} PCR libraries")
sheet.groupby(["arm", "timepoint"]).agg(mice=("mouse_id", "nunique"), libraries=("library_id", "size"))

# %% [markdown]
# ## Extraction: reads to barcodes
# Each read is searched for the backbone (fixed bases and wobble positions) at any offset; reads with a mean Phred
# quality below the threshold, without the backbone (more mismatches in the fixed positions than allowed), or with an
# N in the barcode are counted by reason.

# %%
raw, lib_qc = bc.count_libraries(ds, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches)
write_table(lib_qc, out / "library_qc.csv")
write_table(raw, out / "counts_uncorrected.csv")
fate_cols = ["reads", "matched", "rejected_low_quality", "rejected_no_pattern", "rejected_n_in_barcode"]
print("reads by fate, summed over libraries:")
print(lib_qc[fate_cols].sum().to_string())
print(f"match rate: median {lib_qc['match_rate'].median():.3f} (range {lib_qc['match_rate'].min():.3f}"
      f"-{lib_qc['match_rate'].max():.3f})")
_ = save_figure(plot_read_fates(lib_qc), figs / "read_fates")

# %% [markdown]
# ## Error correction
# Sequencing and PCR errors create many rare variants of every true barcode. Barcodes are clustered per PDX over
# the reads pooled from all its libraries (starcode-style message passing: a barcode passes its reads to a
# neighbour within the distance that has at least `ratio` times its count), so that a clone keeps one name in every
# mouse.

# %%
corrected = bc.correct_by_group(raw, sheet, method=cluster_method, distance=cluster_distance, ratio=cluster_ratio,
                                metric=cluster_metric)
write_table(corrected, out / "counts_corrected.csv")
before = raw.assign(pdx_id=raw["library_id"].map(sheet.set_index("library_id")["pdx_id"])).groupby("pdx_id")[
    "barcode"].nunique()
after = corrected.groupby("pdx_id")["barcode"].nunique()
pd.DataFrame({"distinct_before": before, "distinct_after": after})

# %% [markdown]
# ## Quality control: PCR replicates, detection threshold, saturation
# PCR replicates of a sample should agree (Pearson correlation of counts per million). A barcode seen in one replicate
# only is noise or too rare to be sampled twice; the detection threshold of a sample is the count such noise reaches
# (99th percentile), and a barcode is detected above it or when seen in both replicates.

# %%
samples = bc.sample_counts(corrected, sheet)
write_table(samples, out / "sample_counts.csv")
rep = bc.replicate_correlation(corrected, sheet)
write_table(rep, out / "replicate_correlation.csv")
print(f"PCR replicate correlation: median {rep['correlation'].median():.3f}, min {rep['correlation'].min():.3f}")
det = samples.groupby(["pdx_id", "arm", "timepoint"]).agg(detected=("detected", "sum"))
det = det.join(samples[samples["detected"]].groupby(["pdx_id", "arm", "timepoint"])["mouse_id"].nunique())
(det["detected"] / det["mouse_id"]).unstack(["arm", "timepoint"]).round(1)

# %%
curves = {}
for key, sub in samples[samples["detected"]].groupby("sample_key"):
    depth = np.linspace(0, sub["count"].sum(), 25)
    curves[key] = (depth, bc.rarefaction(sub["count"].to_numpy(), depth))
arm_of = samples.drop_duplicates("sample_key").set_index("sample_key")["arm"]
_ = save_figure(plot_rarefaction(curves, colors={k: ARM_COLORS[arm_of[k]] for k in curves}), figs / "rarefaction")
sat = pd.Series({k: (y[-1] - y[-2]) / max(y[-1], 1) for k, (x, y) in curves.items()})
print(f"new barcodes in the last 4 % of reads: median {100 * sat.median():.2f} % of the sample's barcodes")

# %% [markdown]
# ## Diversity per sample and per arm
# Hill numbers: q = 0 richness, q = 1 exp(Shannon), q = 2 inverse Simpson; higher q weighs dominant clones more.

# %%
div_rows = []
for _key, sub in samples[samples["detected"]].groupby("sample_key"):
    d = bc.diversity_table(sub.set_index("barcode")[["count"]]).iloc[0]
    meta = sub.iloc[0]
    div_rows.append({"pdx_id": meta["pdx_id"], "mouse_id": meta["mouse_id"], "arm": meta["arm"],
                     "timepoint": meta["timepoint"], **d.to_dict()})
div = pd.DataFrame(div_rows)
write_table(div, out / "diversity.csv")
div.groupby(["arm", "timepoint"])[["richness", "shannon", "simpson", "hill_1", "hill_2", "gini"]].mean().round(2)

# %% [markdown]
# ## Clonal dynamics
# Dominant clones (over 2 % of a sample) before and after treatment, and how many dominant clones mice share.

# %%
dom = bc.dominant_clones(samples)
write_table(dom, out / "dominant_clones.csv")
dom.groupby(["arm", "timepoint"])[["n_dominant", "dominant_share"]].mean().round(2)

# %%
fc = bc.fold_changes(samples)
write_table(fc, out / "fold_changes.csv")
first = sorted(sheet["pdx_id"].unique())[0]
print(f"dominant clones shared between mice after treatment, {first}:")
bc.shared_clones(samples, first)

# %% [markdown]
# ## Is resistance pre-existing and heritable?
# **Method.** For each mouse, every barcode present before treatment gets a log2 fold change (after / before), made
# comparable across barcodes by standardising it against barcodes of *similar starting abundance in the same mouse*
# (median and MAD within quantile strata of the pre-treatment count); this removes the mouse's global kill and the
# larger noise of small clones. A barcode's statistic is its consensus z over the AZA/VEN mice (the minimum for up to
# four mice: it must expand in every treated mouse) minus its expansion in vehicle mice (treatment-independent
# fitness). The null redraws, in every mouse, each barcode's z from barcodes of the same abundance stratum: clone
# identities become independent between mice while each mouse's distribution and each barcode's starting abundance
# are kept. p-values pool the null over barcodes; Benjamini-Hochberg within each PDX controls the false discovery
# rate; the null is refitted without barcodes already called (they would otherwise mask each other). A PDX-level
# p-value uses the maximum statistic.
#
# **Assumptions.** Mice are independent replicates of one barcoded pool; without heritable resistance, a clone's fate
# in one mouse says nothing about its fate in another beyond its starting abundance and its fitness in vehicle mice;
# fold changes are exchangeable within abundance strata. With three treated mice, only strong and consistent
# expansions can be detected.
#
# **Why not a uniform null?** Asking whether the dominant clones of treated mice overlap more than uniform draws of
# barcodes would is anti-conservative: the large clones of the pool dominate every mouse, treated or not.

# %%
res = bc.resistance_test(samples, n_perm=n_perm, fdr=fdr, seed=seed)
write_table(res.barcodes, out / "resistance_barcodes.csv")
write_table(res.pdx, out / "resistance_pdx.csv")
naive = bc.uniform_overlap_test(samples)
write_table(naive, out / "uniform_null_barcodes.csv")
summary = res.pdx.set_index("pdx_id")[["n_barcodes", "n_treated", "n_vehicle", "n_resistant", "p_value"]]
summary["naive_calls"] = naive.groupby("pdx_id")["called"].sum()
summary.round(4)

# %%
_ = save_figure(plot_resistance(res.barcodes), figs / "resistance_volcano")
called_all = set(res.barcodes.loc[res.barcodes["resistant"], "barcode"])
for pdx in sorted(sheet["pdx_id"].unique())[:2]:
    arms = sheet.drop_duplicates("mouse_id").set_index("mouse_id")["arm"].to_dict()
    freq = bc.frequency_table(samples, pdx)
    freq = freq.loc[:, [c for c in freq.columns if c[1] in ("pre_treatment", "post_treatment")]]
    _ = save_figure(plot_clone_bars(freq, called_all, arms=arms, title=f"{pdx}: top clones (coloured: called resistant)"),
                    figs / f"clones_{pdx}")

# %% [markdown]
# Recovery of the clones the simulator plants (precision and recall against its truth tables) is checked by the test
# suite (`tests/test_barcodes_sim.py`), never here: analyses do not read the planted truth.
#
# ## Calibration: the same xenografts with no resistant clone
# The simulator re-creates these PDX with the same clone sizes, fitness, engraftment and drift but plants no resistant
# clone, so every call is a false discovery. A calibrated test calls nothing and its p-values follow the uniform
# distribution; the uniform-overlap null calls the clones that are large in every mouse. A small excess of moderate
# p-values remains in our test: clone fitness shared by all mice is estimated from only two or three vehicle mice, so
# part of it is left in the statistic; it does not reach the false discovery threshold.

# %%
if calibration:
    from helpers.simulate import simulate_patients
    from helpers.simulate.barcodes import simulate_barcodes

    cfg = dict(line.split(": ", 1) for line in (data / "COHORT").read_text().splitlines()[1:] if ": " in line) \
        if (data / "COHORT").is_file() else {}
    with tempfile.TemporaryDirectory() as tmp:
        tables = simulate_patients(int(cfg.get("patients", 120)), seed=int(cfg.get("seed", seed)))
        simulate_barcodes(tables, tmp, scale=cfg.get("scale", "ci"), seed=int(cfg.get("seed", seed)),
                          plant_resistance=False)
        ds0 = bc.load_barcode_dataset(tmp)
        raw0, _ = bc.count_libraries(ds0, min_mean_quality=min_mean_quality, max_mismatches=max_mismatches)
    cor0 = bc.correct_by_group(raw0, ds0.sheet, method=cluster_method, distance=cluster_distance, ratio=cluster_ratio,
                               metric=cluster_metric)
    s0 = bc.sample_counts(cor0, ds0.sheet)
    res0 = bc.resistance_test(s0, n_perm=n_perm, fdr=fdr, seed=seed)
    naive0 = bc.uniform_overlap_test(s0)
    calib = pd.DataFrame({
        "method": ["stratified resampling (this test)", "uniform overlap (naive)"],
        "barcodes_tested": [len(res0.barcodes), len(naive0)],
        "false_discoveries": [int(res0.barcodes["resistant"].sum()), int(naive0["called"].sum())],
        "share_p_below_0.05": [(res0.barcodes["p_value"] < 0.05).mean(), (naive0["p_value"] < 0.05).mean()],
        "pdx_p_below_0.05": [int((res0.pdx["p_value"] < 0.05).sum()), np.nan],
    })
    write_table(calib, out / "calibration_no_resistance.csv")
    print(calib.round(3).to_string(index=False))
    _ = save_figure(plot_pvalue_qq({"this test": res0.barcodes["p_value"], "uniform overlap": naive0["p_value"]}),
                figs / "calibration_qq")

# %% [markdown]
# ## Bridge to single cells
# When cells are profiled with their clone barcodes (LARRY-style lineage tracing, or barcode reads captured in 10x
# libraries), clones called here can be looked up among the cells. With the public LARRY subset (Weinreb et al.
# 2020, 781 cells x 339 clones, days 2-6), the clones that expand most from day 2-4 to day 6 are looked up as an
# example of the lookup a resistant clone would get.

# %%
if larry_dataset:
    from helpers.registry import dataset_path

    adata, names = bc.load_clone_matrix(dataset_path(larry_dataset, "test_adata_preprocessed.h5ad"))
    table = bc.clone_state_table(adata, names)
    size = table.pivot_table(index="clone", columns="time", values="n_cells", aggfunc="sum", fill_value=0)
    early = size.drop(columns="6", errors="ignore").sum(axis=1)
    expanding = size.index[(size.get("6", 0) >= 5) & (size.get("6", 0) >= 3 * early.clip(lower=1))]
    print(f"{len(names)} clones, {adata.n_obs} cells; {len(expanding)} clones expand to day 6")
    enr = bc.state_enrichment(table, expanding)
    write_table(enr.reset_index(), out / "singlecell_bridge_states.csv")
    print(enr.round(3).head(8).to_string())

# %% [markdown]
# ## Features for the integration
# One row per PDX (the diagnosis sample it came from): diversity before treatment, dominance after it, the resistant
# clones and the PDX-level evidence of pre-existing heritable resistance.

# %%
features = bc.pdx_features(samples, res, sheet)
write_table(features, out / "features.csv")
write_table(bc.FEATURE_DICTIONARY, out / "features_dictionary.csv")
features.set_index("pdx_id").drop(columns=["sample_id", "patient_id", "timepoint"]).round(3).T
