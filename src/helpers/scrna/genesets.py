"""Gene sets of the AML hierarchy and the signatures scored on single cells.

All hierarchy programmes come from the real public gene sets (registry dataset ``aml_gene_sets``): the Zeng et al.
2022 (Nat Med 28:1212) cell-type gene sets of the leukemic hierarchy, MSigDB Hallmark (Liberzon et al. 2015) and the
compiled signatures (LSC17 weights of Ng et al. 2016 Nature 540:433, BCL2 family, Hallmark OXPHOS). The normal
bone-marrow populations have no file in that dataset, so their canonical markers are listed here (textbook markers
also used by van Galen et al. 2019 Cell 176:1265 to label normal cells).
"""

from __future__ import annotations

import functools
from pathlib import Path

from ..errors import DataContractError
from ..registry import dataset_path

__all__ = [
    "HIERARCHY_STATES",
    "NORMAL_TYPES",
    "CELL_TYPES",
    "MONOCYTIC_STATES",
    "LSPC_STATES",
    "NORMAL_MARKERS",
    "REFERENCE_TYPES",
    "linclass7_weights",
    "SYMBOL_ALIASES",
    "read_gmt",
    "hierarchy_gene_sets",
    "signatures",
    "lsc17_weights",
    "mito_genes",
    "hb_genes",
]

#: The seven leukemic states of Zeng et al. 2022, from the most primitive to the most differentiated.
HIERARCHY_STATES = (
    "LSPC-Quiescent",
    "LSPC-Primed",
    "LSPC-Cycle",
    "GMP-like",
    "ProMono-like",
    "Mono-like",
    "cDC-like",
)
LSPC_STATES = ("LSPC-Quiescent", "LSPC-Primed", "LSPC-Cycle")
MONOCYTIC_STATES = ("ProMono-like", "Mono-like")
#: Normal populations of an AML marrow: the normal counterparts of the hierarchy (HSC/MPP, GMP, monocytes, dendritic
#: cells), lymphocytes, erythroid cells, mature neutrophil-lineage cells ("Myeloid"), megakaryocytes, mast cells /
#: basophils.
NORMAL_TYPES = ("HSC/MPP", "GMP", "Monocyte", "DC", "T", "B", "NK", "Erythroid", "Myeloid", "Megakaryocyte",
                "Mast/Baso", "Cycling")
CELL_TYPES = HIERARCHY_STATES + NORMAL_TYPES
#: Normal classes that serve as the copy-number reference when the sample has them (lymphocytes first).
REFERENCE_TYPES = ("T", "B", "NK")

#: Canonical markers of the normal populations of a bone marrow (textbook markers; the HSC/MPP, GMP, monocyte and DC
#: lists follow the normal-cell annotation of van Galen et al. 2019 and the Human Cell Atlas marrow).
NORMAL_MARKERS = {
    "HSC/MPP": ["CRHBP", "HLF", "MECOM", "MLLT3", "HOPX", "PROM1", "PROCR", "MEIS1", "NRIP1", "SOX4"],
    "GMP": ["MS4A3", "CEBPE", "RNASE2", "CLEC12A", "FUT4", "CTSG", "PRTN3", "CALR", "MPO", "ELANE"],
    "Monocyte": ["CSF1R", "CX3CR1", "MS4A7", "CD68", "VCAN", "FCN1", "CD14", "LY86", "CEBPB", "TYROBP"],
    "DC": ["CD1C", "CLEC9A", "IRF8", "LILRA4", "IL3RA", "CLEC4C", "SIGLECH", "FLT3", "CCR7", "XCR1"],
    "T": ["CD3D", "CD3E", "CD3G", "CD2", "CD247", "IL7R", "TRAC", "CD8A", "CD4", "LCK", "CD6", "CD5"],
    "B": ["MS4A1", "CD79A", "CD79B", "CD19", "PAX5", "CD22", "BANK1", "VPREB3", "FCRLA", "TCL1A"],
    "NK": ["NKG7", "GNLY", "KLRD1", "KLRF1", "PRF1", "GZMB", "NCAM1", "KLRB1", "FGFBP2", "SH2D1B"],
    "Erythroid": ["HBB", "HBA1", "HBA2", "HBD", "GYPA", "CA1", "ALAS2", "AHSP", "KLF1", "GATA1"],
    "Myeloid": ["CSF3R", "FCGR3B", "CXCR2", "MME", "CMTM2", "FPR1", "MNDA", "SELL", "CXCR1", "PROK2", "LTF", "CAMP",
                "LCN2", "MMP8"],
    "Megakaryocyte": ["PF4", "PPBP", "ITGA2B", "GP9", "GP1BA", "VWF", "GP5", "TUBB1"],
    "Mast/Baso": ["CPA3", "MS4A2", "HDC", "TPSAB1", "CMA1", "MCPT8", "PRSS34", "ENPP3", "CLC", "GATA2"],
    # Normal progenitors cycle too: the S / G2M genes of Tirosh et al. 2016 (Science 352:189) are no leukemic trait.
    "Cycling": ["MKI67", "TOP2A", "CENPF", "NUSAP1", "UBE2C", "BIRC5", "CDK1", "CCNB2", "TYMS", "PCNA", "MCM2",
                "MCM5", "RRM2", "TPX2", "SMC4", "CDC20", "HMGB2", "GTSE1"],
}

#: Old symbols used by the published signatures -> current HGNC symbols (data/README.md of the mirror).
SYMBOL_ALIASES = {"KIAA0125": "FAM30A", "NGFRAP1": "BEX3", "GPR56": "ADGRG1", "C19orf77": "SMIM24"}

_MITO = ("MT-ND1", "MT-ND2", "MT-CO1", "MT-CO2", "MT-ATP8", "MT-ATP6", "MT-CO3", "MT-ND3", "MT-ND4L", "MT-ND4",
         "MT-ND5", "MT-ND6", "MT-CYB")  # fmt: skip
_HB = ("HBB", "HBA1", "HBA2", "HBD", "HBG1", "HBG2", "HBM", "HBQ1", "HBZ", "HBE1")


def read_gmt(path: str | Path) -> dict[str, list[str]]:
    """Read a GMT file (name, description, genes...; tab-separated) into ``{name: genes}``.

    Parameters
    ----------
    path
        The ``.gmt`` file (MSigDB layout: one gene set per line; blank lines are skipped).

    Returns
    -------
    dict of str to list of str
        Set name -> its gene symbols in file order, repeats within a set dropped.

    Raises
    ------
    DataContractError
        When a line has no genes or a set name is repeated.
    """
    path = Path(path)
    out: dict[str, list[str]] = {}
    for i, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("\t")]
        genes = [g for g in parts[2:] if g]
        if len(parts) < 3 or not genes:
            raise DataContractError(path, "a GMT line needs a name, a description and at least one gene", row=i)
        if parts[0] in out:
            raise DataContractError(path, f"gene set '{parts[0]}' appears twice", row=i)
        out[parts[0]] = list(dict.fromkeys(genes))  # keep order, drop repeats
    return out


@functools.cache
def _zeng_sets() -> dict[str, list[str]]:
    return read_gmt(dataset_path("aml_gene_sets", "AMLCellType_Genesets.gmt"))


@functools.cache
def _hallmark_sets() -> dict[str, list[str]]:
    return read_gmt(dataset_path("aml_gene_sets", "h.all.v7.0.symbols.gmt"))


def hallmark_sets() -> dict[str, list[str]]:
    """Return the MSigDB Hallmark gene sets (v7.0, human symbols).

    Returns
    -------
    dict of str to list of str
        ``{name: genes}``, e.g. ``HALLMARK_OXIDATIVE_PHOSPHORYLATION``; a fresh copy (read once from the registry).
    """
    return {k: list(v) for k, v in _hallmark_sets().items()}


def hierarchy_gene_sets(*, top: int = 100, include_normal: bool = True) -> dict[str, list[str]]:
    """Return the gene sets of the Zeng 2022 leukemic states (and the normal populations).

    Parameters
    ----------
    top
        Which Zeng list to use where there are two (``100`` or ``250`` top genes); LSPC-Quiescent has one list.
    include_normal
        Add :data:`NORMAL_MARKERS`.

    Returns
    -------
    dict
        ``{cell type: genes}`` in the order of :data:`CELL_TYPES`.

    Raises
    ------
    ValueError
        ``top`` other than 100 or 250.
    """
    if top not in (100, 250):
        raise ValueError(f"top must be 100 or 250, got {top}")
    zeng = _zeng_sets()
    out = {}
    for state in HIERARCHY_STATES:
        key = state if state in zeng else f"{state}-Top{top}"
        out[state] = list(zeng[key])
    if include_normal:
        out.update({k: list(v) for k, v in NORMAL_MARKERS.items()})
    return out


# Published weights and gene lists, written here (facts of the papers, with their sources) rather than read from a
# derived file, so that the compendium needs only files public at their upstream (a Binder image fetches those).
#: LSC17 (Ng et al., Nature 2016;540:433-437, the LSC17 equation): score = sum of weight x log2 expression; the paper's
#: symbols (KIAA0125, NGFRAP1, GPR56 are FAM30A, BEX3, ADGRG1 today: :data:`SYMBOL_ALIASES`).
LSC17_WEIGHTS = {
    "DNMT3B": 0.0874, "ZBTB46": -0.0347, "NYNRIN": 0.00865, "ARHGAP22": -0.0138, "LAPTM4B": 0.00582, "MMRN1": 0.0258,
    "DPYSL3": 0.0284, "KIAA0125": 0.0196, "CDK6": -0.0704, "CPXM1": -0.0258, "SOCS2": 0.0271, "SMIM24": -0.0226,
    "EMP1": 0.0146, "NGFRAP1": 0.0465, "CD34": 0.0338, "AKR1C3": -0.0402, "GPR56": 0.0501,
}  # fmt: skip
#: LinClass-7 (Zeng et al., Nat Med 2022;28:1212-1223): lasso on the LSC17 genes predicting the hierarchy's PC2, the
#: coefficients of the authors' notebook (andygxzeng/AMLHierarchies@4a57de04, Fig_4.1_LinClass7_PC2_Regression).
LINCLASS7_WEIGHTS = {
    "CDK6": 0.102538, "DNMT3B": 0.035447, "CPXM1": 0.030578, "GPR56": 0.014235, "LAPTM4B": 0.010607,
    "NGFRAP1": 0.010586, "CD34": 0.006118,
}  # fmt: skip
#: BCL2 family members of the scored programmes (HGNC symbols): the anti-apoptotic proteins venetoclax and its
#: resistance act on, the effectors, and the BH3-only sensitisers PUMA (BBC3) and NOXA (PMAIP1).
BCL2_FAMILY = {
    "anti_apoptotic": ["BCL2", "MCL1", "BCL2L1", "BCL2A1"],
    "pro_apoptotic_effectors": ["BAX", "BAK1"],
    "BH3_only": ["BBC3", "PMAIP1"],
}


def signatures() -> dict[str, list[str]]:
    """Return the gene lists of the scored programmes: LSC17, BCL2 family (anti-apoptotic, effectors, BH3-only), OXPHOS.

    Returns
    -------
    dict
        ``{programme: genes}``; OXPHOS is MSigDB's ``HALLMARK_OXIDATIVE_PHOSPHORYLATION`` (v7.0, Liberzon et al.
        2015), read from the registry's Hallmark file.
    """
    return {
        "LSC17": [SYMBOL_ALIASES.get(g, g) for g in LSC17_WEIGHTS],
        "BCL2_anti_apoptotic": list(BCL2_FAMILY["anti_apoptotic"]),
        "BCL2_effectors": list(BCL2_FAMILY["pro_apoptotic_effectors"]),
        "BCL2_BH3_only": list(BCL2_FAMILY["BH3_only"]),
        "OXPHOS": list(_hallmark_sets()["HALLMARK_OXIDATIVE_PHOSPHORYLATION"]),
    }


def lsc17_weights(*, current_symbols: bool = True) -> dict[str, float]:
    """Return the 17 LSC17 weights of Ng et al. 2016 (score = sum of weight x log2 expression).

    Parameters
    ----------
    current_symbols
        Translate the paper's old symbols (KIAA0125, NGFRAP1, GPR56) to current HGNC symbols.

    Returns
    -------
    dict
        ``{gene: weight}`` in the paper's order.
    """
    return {(SYMBOL_ALIASES.get(g, g) if current_symbols else g): float(v) for g, v in LSC17_WEIGHTS.items()}


def linclass7_weights(*, current_symbols: bool = True) -> dict[str, float]:
    """Return the LinClass-7 weights of Zeng et al. 2022 (lasso on the LSC17 genes predicting hierarchy PC2).

    Applied to log1p CPM / TPM (bulk) or pseudobulk expression; higher = more primitive (LSPC-rich) hierarchy.

    Parameters
    ----------
    current_symbols
        Translate the paper's old symbols (GPR56, NGFRAP1) to current HGNC symbols.

    Returns
    -------
    dict
        ``{gene: weight}``.
    """
    return {(SYMBOL_ALIASES.get(g, g) if current_symbols else g): float(v) for g, v in LINCLASS7_WEIGHTS.items()}


def mito_genes() -> list[str]:
    """List the 13 protein-coding mitochondrial genes (``MT-`` prefix, human).

    Returns
    -------
    list of str
        ``MT-ND1`` ... ``MT-CYB``: their UMI share is the mitochondrial fraction of QC.
    """
    return list(_MITO)


def hb_genes() -> list[str]:
    """List the haemoglobin genes counted in the haemoglobin fraction (HBB, HBA1/2, HBD, HBG1/2, HBM, HBQ1, HBZ, HBE1).

    Returns
    -------
    list of str
        Human symbols; a barcode whose UMIs are mostly these is a red cell / reticulocyte.
    """
    return list(_HB)
