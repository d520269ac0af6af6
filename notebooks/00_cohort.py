# ---
# jupyter:
#   dream:
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
# # 00 · The cohort
#
# What the cohort's data folder holds: the clinical table and the sample table, validated against the data contract
# (`data/README.md`), the ELN 2024 genetic risk for less-intensive therapy computed from the mutation calls, the
# clinical course by risk class, and which assays each sample has. Every other notebook starts from these tables.

# %% tags=["parameters"]
cohort = "ci"
data_dir = "data/simulated/ci"
output_dir = "results/ci/00_cohort"
figures_dir = "figures/ci/00_cohort"
seed = 20261129

# %%
from helpers.clinical import load_cohort_tables
from helpers.cohort_summary import assay_availability, plot_cohort_overview, response_by_risk
from helpers.io import write_table
from helpers.notebook import notebook_setup
from helpers.paths import resolve

nb = notebook_setup("00_cohort", output_dir=output_dir, figures_dir=figures_dir, display={"display.precision": 1})
out = nb.out
clinical, samples = load_cohort_tables(resolve(data_dir))
print(f"{len(clinical)} patients, {len(samples)} samples")

# %% [markdown]
# ## Response and relapse by ELN 2024 risk
# CR/CRi = composite complete remission (CR or CR with incomplete recovery); relapse is counted among responders.
# For comparison, an HMA + venetoclax cohort of 159 patients (Blood Adv 2024) had 47 / 19 / 34 % favourable /
# intermediate / adverse patients with 86 / 54 / 59 % response.

# %%
risk = response_by_risk(clinical)
write_table(risk.reset_index(), out / "response_by_eln2024.csv")
risk.round(1)

# %% [markdown]
# ## Samples and assays per timepoint

# %%
avail = assay_availability(samples)
write_table(avail.reset_index(), out / "assays_by_timepoint.csv")
avail

# %%
nb.save(plot_cohort_overview(clinical, samples), "cohort_overview", section="Samples and assays per timepoint",
        caption="Patients by ELN 2024 risk and response, and the samples and assays of each timepoint")
nb.write_figure_index()
print(f"{len(nb.figures)} figure, indexed in figure_index.csv")
