"""Helpers of the DREAM compendium: every computation behind the notebooks, importable and tested.

Sub-packages, one per concern: ``dst`` (drug sensitivity testing), ``cytometry``, ``scrna``, ``barcodes``,
``integration``, ``simulate`` (the simulated cohort), plus ``clinical`` (clinical and sample tables), ``beataml`` (the
BeatAML 2.0 patient table shared by the DST and integration axes), ``io`` (deterministic atomic writing), ``errors``,
``paths``, ``registry`` (public datasets), ``plotting`` and ``workflow`` (the notebook runner behind ``run_all.py``).
"""

from .errors import DataContractError
from .paths import repo_root, resolve

__all__ = ["DataContractError", "dataset_path", "repo_root", "resolve", "__version__"]


def __getattr__(name: str):
    # Loaded on first use, so that ``python -m helpers.registry`` does not import its own module twice.
    if name == "dataset_path":
        from .registry import dataset_path

        return dataset_path
    if name == "__version__":  # importlib.metadata takes longer to import than a command line's --help
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("dream-helpers")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0.0.0"
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")
