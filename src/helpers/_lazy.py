"""Lazy re-exports for the axis packages' ``__init__`` (PEP 562 module ``__getattr__``).

An axis package re-exports its public API (``from helpers.dst import fit_curves``), but importing every submodule up
front costs seconds (pandas, scipy, scanpy, FlowKit, numba...) that ``python -m helpers.<axis> --help`` and a script
using one function do not need. Each name is imported from its submodule on first access and then cached in the
package namespace, so ``from helpers.dst import fit_curves``, ``helpers.dst.fit_curves``, ``dir()`` and
``from helpers.dst import *`` behave as with eager imports. The standard library has the hook but no helper; the
``lazy_loader`` package does the same, and is not worth a dependency for a dozen lines.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence

__all__ = ["lazy_exports"]

# The names this module imports are computed; they are the keys of each package's ``_EXPORTS`` table. Declared for
# the fingerprints of helpers.workflow, which read the tables instead of counting every module of the package.
__computed_imports__ = {"table": "_EXPORTS"}


def lazy_exports(package: str, exports: Mapping[str, Sequence[str]]) -> tuple[list[str], Callable, Callable]:
    """``(__all__, __getattr__, __dir__)`` for ``package`` re-exporting ``{submodule: [names]}`` lazily.

    Parameters
    ----------
    package
        The package's ``__name__``.
    exports
        Submodule (relative to ``package``) -> the public names it provides, in the order of ``__all__``.

    Returns
    -------
    tuple
        The package's ``__all__``, and the module-level ``__getattr__`` and ``__dir__`` to assign.
    """
    where = {name: module for module, names in exports.items() for name in names}
    if len(where) != sum(len(v) for v in exports.values()):
        raise ValueError(f"{package}: a name is exported by two submodules")
    names = list(where)

    def __getattr__(name: str):
        if name.startswith("__"):  # probes such as __wrapped__ or __file__ are never submodules
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        ns = sys.modules[package].__dict__
        if name in where:
            value = getattr(importlib.import_module(f"{package}.{where[name]}"), name)
        else:
            try:  # a submodule used as an attribute, e.g. ``helpers.scrna.plots``
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        ns[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(sys.modules[package].__dict__) | set(names))

    return names, __getattr__, __dir__
