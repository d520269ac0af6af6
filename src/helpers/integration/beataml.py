"""BeatAML 2.0 for the integration: the shared patient table and biology summaries of :mod:`helpers.beataml`.

Kept so that ``from helpers.integration import beataml`` and ``from helpers.integration.beataml import ...`` go on
working; the loader itself lives in :mod:`helpers.beataml`, shared with the DST axis.
"""

from __future__ import annotations

from ..beataml import (
    BEATAML_DICTIONARY,
    beataml_dataset_files,
    drug_auc,
    eln2024_from_calls,
    fab_group,
    load_beataml,
    mutation_flags,
    ven_by_fab,
    ven_by_mutation,
)

__all__ = [
    "BEATAML_DICTIONARY",
    "beataml_dataset_files",
    "drug_auc",
    "eln2024_from_calls",
    "fab_group",
    "load_beataml",
    "mutation_flags",
    "ven_by_fab",
    "ven_by_mutation",
]
