"""Every registered public dataset is in the mirror and is the data the registry describes."""

from __future__ import annotations

import pytest

from helpers.registry import PublicDataMissing, dataset_path, load_registry, verify_dataset


@pytest.mark.parametrize("name", sorted(load_registry()))
def test_dataset_present_and_unchanged(public_data, name):
    assert verify_dataset(name), f"{name}: files in the mirror differ from the registered digest"


def test_unknown_dataset_and_missing_mirror(monkeypatch, tmp_path):
    with pytest.raises(KeyError, match="unknown dataset"):
        dataset_path("no_such_dataset")
    monkeypatch.setenv("DREAM_PUBLIC_DATA", str(tmp_path))
    with pytest.raises(PublicDataMissing, match="DREAM_PUBLIC_DATA"):
        dataset_path("beataml2")
