# ---
# jupyter:
#   dream:
#     datasets:
#     - beataml2
#     inputs: []
#     upstream:
#     - 11_dst_beataml
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 51 · Integration on BeatAML 2.0: the ex vivo biology of venetoclax resistance
# BeatAML 2.0 (Bottomly et al. 2022, Cancer Cell; dataset `beataml2`): 805 patients with clinical data, exome
# mutation calls and published ex vivo drug AUCs (probit fits; higher AUC = more resistant). The patient table
# (`helpers.beataml.load_beataml`) is the one the DST notebook uses for its own refits: FAB M4/M5 includes M4eo and
# M5a/b (NOS counts as unknown), NPM1 is mutated when the exome or the clinical assay finds it, FLT3-ITD comes from
# the clinical assay (else an in-frame FLT3 insertion in the exome).
#
# **What BeatAML can answer**: the ex vivo biology of venetoclax resistance in primary AML cells (monocytic
# differentiation, KRAS / PTPN11 mutations, NPM1 / IDH1 sensitivity) and how the ELN 2024 classes computed from its
# mutation calls distribute. **What it cannot**: whether a biomarker predicts clinical resistance to
# azacitidine + venetoclax. Its patients were mostly treated with intensive chemotherapy, its response column is the
# response to induction, and it has no relapse samples after venetoclax. Here the ex vivo AUC is the outcome.

# %% tags=["parameters"]
cohort = "beataml"
data_dir = ""
output_dir = "results/beataml/51_integration_beataml"
figures_dir = "figures/beataml/51_integration_beataml"
upstream_dirs = {}
seed = 20261129

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import display

from helpers import beataml as bm
from helpers import integration as it
from helpers.clinical import eln2024_rules
from helpers.io import write_table
from helpers.notebook import notebook_setup
from helpers.paths import resolve

run_started_ns = time.time_ns()  # to list only the tables this run writes (the folder may hold earlier runs' files)
nb = notebook_setup("51_integration_beataml", output_dir=output_dir, figures_dir=figures_dir,
                    display={"display.max_columns": 20, "display.precision": 6})
out = nb.out
print(f"cohort {cohort}")

# %% [markdown]
# ## The patient table
# The published clinical data, mutation calls and drug AUCs, joined with the DST notebook's own refits of the raw
# dose-response points (its `features.csv`, checked against the feature-dictionary contract) where that notebook ran.

# %%
ba = bm.load_beataml()
ba_dict = bm.BEATAML_DICTIONARY
dst_dir = upstream_dirs.get("11_dst_beataml")
if dst_dir and (resolve(dst_dir) / "features.csv").is_file():
    # Our own DST refits of the raw points, beside the published AUC.
    dft = it.load_feature_table(resolve(dst_dir), axis="dst")
    own = dft.table[["patient_id", *dft.features]].rename(columns={f: f"dst_{f}" for f in dft.features})
    ba = ba.merge(own, on="patient_id", how="left")
    ba_dict = pd.concat([ba_dict, dft.dictionary.assign(name="dst_" + dft.dictionary["name"])], ignore_index=True)
    if "dst_ven_auc" in ba:
        both = ba[["ven_auc", "dst_ven_auc"]].dropna()
        rho = both.corr(method="spearman").iloc[0, 1]
        print(f"DST axis venetoclax AUC vs published, {len(both)} patients: Spearman rho = {rho:.3f}, "
              f"median |difference| = {(both['ven_auc'] - both['dst_ven_auc']).abs().median():.2f}")
else:
    print("no DST features for BeatAML: using the published AUCs only")
write_table(ba, out / "beataml_patient_table.csv")
write_table(it.data_dictionary(ba, ba_dict), out / "beataml_data_dictionary.csv")
print(f"{len(ba)} patients, {int(ba['ven_auc'].notna().sum())} with a venetoclax AUC, "
      f"{int(ba['TP53'].notna().sum())} with exome calls")

# %% [markdown]
# ## Monocytic leukemia resists venetoclax ex vivo
# Published: median venetoclax AUC about 65 in FAB M0/M1 and 200 in M4/M5 (Kuusanmaki et al. 2020; Zhang et al.
# 2020).

# %%
fab = bm.ven_by_fab(ba)
write_table(fab, out / "beataml_ven_by_fab.csv")
display(it.format_p(fab))
nb.save(it.group_boxplot(ba, "ven_auc", "fab_group", order=["M0/M1", "other", "M4/M5"],
                            ylabel="venetoclax AUC (probit, 0-286; high = resistant)", xlabel="FAB group",
                            title="BeatAML 2.0: venetoclax by FAB", seed=seed).figure,
           "beataml_ven_by_fab", section="Monocytic leukemia",
           caption="Published venetoclax AUC by FAB group in BeatAML 2.0")

# %% [markdown]
# ## Mutations: KRAS / PTPN11 resistant, NPM1 / IDH1 sensitive

# %%
genes = ["KRAS", "PTPN11", "NRAS", "FLT3_ITD", "TP53", "NPM1", "IDH1", "IDH2", "RUNX1", "ASXL1", "DDX41"]
mut = bm.ven_by_mutation(ba, genes)
write_table(mut, out / "beataml_ven_by_mutation.csv")
display(it.format_p(mut))
plot = mut.dropna(subset=["delta"]).assign(label=lambda d: d["gene"] + " (n=" + d["n_mut"].astype(str) + ")")
fig, ax = plt.subplots(figsize=(4.8, 3.4))
colours = ["#D55E00" if d > 0 else "#0072B2" for d in plot["delta"]]
ax.barh(plot["label"][::-1], plot["delta"][::-1], color=colours[::-1])
ax.axvline(0, color="0.3", lw=0.8)
ax.set_xlabel("median venetoclax AUC, mutated minus wild type (AUC units)")
ax.set_ylabel("gene (mutated patients)")
ax.set_title("BeatAML 2.0: venetoclax by mutation")
nb.save(fig, "beataml_ven_by_mutation", section="Mutations",
        caption="Difference in median venetoclax AUC between mutated and wild-type patients")

# %% [markdown]
# ## ELN 2024 (less-intensive) classes from the mutation calls
# Computed from the exome calls (FLT3-ITD from the clinical assay) with the same rules as the DREAM cohort, beside
# the published ELN 2017 class (which also uses cytogenetics, so the two are expected to differ).

# %%
eln = ba.assign(eln2024=ba["eln2024"].astype("string").fillna("not computable"))
counts = eln["eln2024"].value_counts().rename("patients").to_frame()
counts["percent"] = 100 * counts["patients"] / counts["patients"].sum()
write_table(counts.reset_index(), out / "beataml_eln2024.csv")
display(counts.round(1))
# Rule by rule (Dohner et al. 2024, Table 1), and what the AZA + IVO reading of the IDH1 rule would change.
ba_rules = eln2024_rules(ba)
ba_ivo = eln2024_rules(ba, regimen="AZA+IVO")
rule_counts = ba_rules["eln2024_rule"].value_counts().rename("patients").rename_axis("rule").reset_index()
write_table(rule_counts, out / "beataml_eln2024_rules.csv")
display(rule_counts)
display(pd.crosstab(ba_rules["eln2024_label"].rename("AZA + VEN"), ba_ivo["eln2024_label"].rename("AZA + IVO")))
display(pd.crosstab(eln["eln2017"].fillna("missing"), eln["eln2024"]))
by_eln = ba.dropna(subset=["ven_auc", "eln2024"]).groupby("eln2024", observed=True)["ven_auc"].agg(
    ["size", "median"])
display(by_eln.round(1))
ba_t1 = it.table_one(ba[ba["fab_group"].isin(["M0/M1", "M4/M5"])], "fab_group",
                     ["age", "sex", "de_novo", "eln2024", "NPM1", "IDH1", "IDH2", "FLT3_ITD", "NRAS", "KRAS",
                      "PTPN11", "TP53", "bm_blast_pct", "ven_auc", "aza_auc"])
it.write_table_one(ba_t1, out / "table1_beataml", caption="BeatAML 2.0 patients by FAB group")
display(it.format_p(ba_t1))

# %% [markdown]
# ## Continuous variables versus ex vivo drug response
# The association screen (`helpers.integration.association_screen`) on the continuous variables BeatAML carries
# (age, bone-marrow blasts) against the published venetoclax and azacitidine AUCs.

# %%
ba_feats = ba[["patient_id", "age", "bm_blast_pct"]].rename(columns={"patient_id": "sample_id"})
ba_resp = pd.concat([ba[["patient_id", c]].dropna().rename(columns={"patient_id": "sample_id", c: "auc"})
                     .assign(drug=c) for c in ("ven_auc", "aza_auc")], ignore_index=True)
ba_assoc = it.association_screen(ba_feats, ba_resp)
write_table(ba_assoc, out / "beataml_feature_drug_associations.csv")
display(it.format_p(ba_assoc).round(3))

# %% [markdown]
# ## Outputs
# The figure index maps every figure to the section of this notebook that draws it.

# %%
nb.write_figure_index()
display(nb.figure_index()[["figure", "section"]])
# 2 s of slack for file systems with coarse modification times.
tables = sorted(p.name for p in out.iterdir()
                if p.suffix in {".csv", ".html", ".tex"} and p.stat().st_mtime_ns >= run_started_ns - 2_000_000_000)
print("tables:", ", ".join(tables))
