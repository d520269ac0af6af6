# ---
# jupyter:
#   dream:
#     datasets:
#     - beataml2
#     inputs: []
#     upstream: []
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 11 · Drug sensitivity testing in BeatAML 2.0: refits and the published biology of venetoclax
#
# The public BeatAML 2.0 cohort (Bottomly et al. 2022; dataset `beataml2` of the registry, read from the public data
# mirror, not from a data folder): the measured venetoclax and azacytidine dose-response points of every patient are
# refitted with the BeatAML probit model and the 4-parameter logistic of `helpers.dst`, checked against the
# published fits, and used to reproduce the published biology (monocytic and RAS-pathway leukemias resist venetoclax;
# NPM1 and IDH1 leukemias are sensitive). The patient-level features it writes are read by `51_integration_beataml`.
# The same analysis of a cohort's own plates is notebook `01_dst`.

# %% tags=["parameters"]
cohort = "beataml"
data_dir = ""
output_dir = "results/beataml/11_dst_beataml"
figures_dir = "figures/beataml/11_dst_beataml"
upstream_dirs = {}
seed = 20261129

# %%
from IPython.display import display

from helpers.beataml import load_beataml, mutation_groups, ven_by_fab, ven_by_mutation
from helpers.dst import beataml, beataml_feature_dictionary, plots
from helpers.io import write_table
from helpers.notebook import notebook_setup

nb = notebook_setup("11_dst_beataml", output_dir=output_dir, figures_dir=figures_dir)
out = nb.out
print(f"cohort {cohort}")

# %% [markdown]
# ## Refits against the published fits
# Refit of every venetoclax and azacytidine curve with the probit model. The published AUC is a median over a
# patient's specimens and the published parameters are medians taken separately, so only curves where both come from
# one fit (the AUC recomputed from the published parameters equals the published AUC) can be matched exactly.

# %%
pts = beataml.load_points([drug for _, drug in beataml.FEATURE_DRUGS])
refit = beataml.refit_curves(pts, model="probit")
ll4 = beataml.refit_curves(pts, model="ll4")
cmp = beataml.compare_with_published(refit, beataml.load_published())
acc = beataml.refit_accuracy(cmp)
write_table(acc, out / "beataml_refit_accuracy.csv")
write_table(cmp, out / "beataml_refit_vs_published.csv")
display(acc.round(4))

# %% [markdown]
# ## Published biology: monocytic and RAS-pathway leukemias resist venetoclax
# FAB groups and mutation flags come from the BeatAML patient table that the integration also reads
# (`helpers.beataml.load_beataml`: M4/M5 includes M4eo and M5a/b, NOS counts as unknown; NPM1 from the exome or the
# clinical assay; FLT3-ITD from the clinical assay), so both analyses compare the same patients; here the outcome is
# our own refitted venetoclax AUC (`ven_auc_refit`).

# %%
ba = beataml.add_refit_auc(load_beataml(), refit, drug="Venetoclax", column="ven_auc_refit")
fab = ven_by_fab(ba, auc="ven_auc_refit")
write_table(fab, out / "beataml_ven_auc_by_fab.csv")
display(fab.round({"median_auc": 1, "q1": 1, "q3": 1, "delta_vs_m0m1": 1}))
print(f"VEN AUC M4/M5 vs M0/M1: two-sided Mann-Whitney p = {fab.set_index('group').loc['M4/M5', 'p_vs_m0m1']:.2g}")
genes = ["KRAS", "PTPN11", "NRAS", "TP53", "NPM1", "IDH1", "IDH2", "FLT3_ITD"]
mut_table = ven_by_mutation(ba, genes, auc="ven_auc_refit")
write_table(mut_table, out / "beataml_ven_auc_by_mutation.csv")
display(mut_table.round({"median_mut": 1, "median_wt": 1, "delta": 1, "p": 4, "q": 4}))

# %%
section = "Published biology: monocytic and RAS-pathway leukemias resist venetoclax"
nb.save(plots.plot_groups(ba.dropna(subset=["ven_auc_refit"]), value="ven_auc_refit", group="fab_group",
                          order=["M0/M1", "other", "M4/M5"], ylabel="venetoclax AUC (% x log10 µM)"),
        "beataml_ven_auc_by_fab", section=section,
        caption="Refitted venetoclax AUC of BeatAML patients by FAB group (primitive, other, monocytic)")
by_gene = mutation_groups(ba, ["NPM1", "IDH1", "KRAS", "PTPN11"], value="ven_auc_refit", none_label="none of these")
nb.save(plots.plot_groups(by_gene, value="ven_auc_refit", group="group",
                          order=["NPM1", "IDH1", "none of these", "KRAS", "PTPN11"],
                          ylabel="venetoclax AUC (% x log10 µM)"),
        "beataml_ven_auc_by_mutation", section=section,
        caption="Refitted venetoclax AUC of BeatAML patients by mutated gene (a patient counts in each of its genes)")
by_gene.groupby("group", sort=False)["ven_auc_refit"].agg(["size", "median"]).round(1)

# %% [markdown]
# ## Patient-level features
# One row per BeatAML patient (dbGaP subject id): refitted VEN / AZA probit AUC and IC50, 4PL DSS2, monocytic flag.
# The dictionary gives each feature's role, the one venetoclax read-out the integration tests as the ex vivo
# biomarker, and whether a higher value is expected to mean resistance or sensitivity.

# %%
feats = beataml.patient_features(ba, refit, ll4)
write_table(feats, out / "features.csv")
write_table(beataml_feature_dictionary(), out / "features_dictionary.csv")
print(f"{len(feats)} patients, {int(feats['ven_auc'].notna().sum())} with venetoclax, "
      f"{int(feats['aza_auc'].notna().sum())} with azacytidine")
display(beataml_feature_dictionary())

# %%
nb.write_figure_index()
print(f"{len(nb.figures)} figures, indexed in figure_index.csv")
