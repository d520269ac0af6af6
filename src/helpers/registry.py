"""The registry of public datasets the compendium reads (``data/registry.yaml``).

Public data are never copied into the repository. Each dataset is a folder of a local mirror (``$DREAM_PUBLIC_DATA``,
by default ``../shared/data`` beside the repository) with its upstream source, commit, licence and a digest of its
files, so that a user elsewhere can point the same setting at their own copy and check that it is the same data.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import yaml

from .io import sha256_file
from .paths import public_data_root, repo_root

__all__ = ["load_registry", "dataset_path", "dataset_digest", "verify_dataset", "PublicDataMissing"]


class PublicDataMissing(FileNotFoundError):
    """A registered public dataset is not in the local mirror."""


@functools.cache
def load_registry() -> dict[str, dict]:
    """Return the registry as ``{name: entry}``."""
    with open(repo_root() / "data" / "registry.yaml") as fh:
        reg = yaml.safe_load(fh)
    return {d["name"]: d for d in reg["datasets"]}


def dataset_path(name: str, *parts: str) -> Path:
    """Path of dataset ``name`` (or of a file inside it) in the local mirror; a clear error if it is missing."""
    reg = load_registry()
    if name not in reg:
        raise KeyError(f"unknown dataset '{name}'; registered: {', '.join(sorted(reg))}")
    root = public_data_root()
    path = root / reg[name]["path"]
    target = path.joinpath(*parts)
    if not target.exists():
        raise PublicDataMissing(
            f"public dataset '{name}' not found at {target}: set DREAM_PUBLIC_DATA to the folder that mirrors it "
            f"(source: {reg[name].get('source', '?')})"
        )
    return target


def dataset_digest(folder: Path) -> str:
    """Digest of a dataset folder: sha256 over the sorted (relative path, file sha256) pairs."""
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(f"{f.relative_to(folder).as_posix()}\t{sha256_file(f)}\n".encode())
    return h.hexdigest()


def verify_dataset(name: str) -> bool:
    """True when the mirrored dataset's digest equals the registered one."""
    return dataset_digest(dataset_path(name)) == load_registry()[name]["sha256"]
