"""Fingerprints: checksums of input files (cached) and of the helper modules a notebook really imports.

A notebook's fingerprint covers its source, the files of the ``helpers`` modules it imports (statically, with their
transitive in-package imports), its parameters, its input files, its upstream outputs and the lock file; an edit to
one axis module therefore reruns only the notebooks that import it. The import graph is read with :mod:`ast`, not by
importing: planning must stay fast and must not need the analysis libraries.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..io import sha256_file, write_text

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "ChecksumCache",
    "CodeCache",
    "digest_obj",
    "helpers_digest",
    "module_closure",
    "notebook_modules",
    "code_digest",
    "modules_digest",
    "tree_signature",
]

PACKAGE = "helpers"
# Package data a module may read at run time (gene positions, strategies, the registry): hashed with the package
# folder they sit in, so that a module that imports the package also depends on its data files.
DATA_SUFFIXES = {".yaml", ".yml", ".json", ".xml", ".tsv", ".csv", ".gmt"}
# The command-line layer is not followed from library code: a module imports it only inside its own ``main()``
# (``registry.main`` -> ``cli``, whose ``python -m`` dispatch imports every axis by a computed name), which a notebook
# never calls. A notebook that imports one of these directly still depends on it.
COMMAND_LINE = {"cli.py", "__main__.py"}
# A module whose imports are computed (``importlib.import_module(name)``) declares where their targets are named, in
# a module-level literal ``__computed_imports__`` (read with ast, never imported), so that the modules using it do
# not depend on the whole package:
#   {"table": "_EXPORTS"}: the submodules are the keys of that dict in each package ``__init__`` (helpers._lazy);
#   {"registry": [files or folders of YAML, package-relative], "via": {function: [entry keys]}}: the modules named by
#       those ``module:function`` entries count for every module that calls the function (helpers.axes and its
#       registry files).
# A computed import without a declaration counts as every module of its package.
DECLARATION = "__computed_imports__"


class ChecksumCache:
    """Compute sha256 checksums of files, cached by (size, mtime) so that a no-change run does not re-read gigabytes.

    Parameters
    ----------
    path
        JSON file of the cache (keyed by absolute paths: keep it in the private folder); None hashes without one.
    """

    def __init__(self, path: Path | None = None):
        self.path = path  # None: hash without a persistent cache (fresh outputs)
        try:
            self.data = json.loads(path.read_text()) if path else {}
        except (FileNotFoundError, json.JSONDecodeError):
            self.data = {}
        self.dirty = False

    def sha(self, f: Path | str, st: os.stat_result | None = None) -> str:
        """Return the sha256 of file ``f`` (from the cache when its size and mtime are unchanged).

        Parameters
        ----------
        f
            The file.
        st
            Its ``os.stat`` result when the caller already has it (saves a system call); None stats the file.

        Returns
        -------
        str
            The hex digest (64 characters).
        """
        # Keyed by the absolute path as given (no resolve(): one syscall per path component, for thousands of files).
        key = os.path.abspath(f)
        st = st or os.stat(key)
        hit = self.data.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        digest = sha256_file(Path(key))
        self.data[key] = [st.st_size, st.st_mtime_ns, digest]
        self.dirty = True
        return digest

    def tree(self, folder: Path, *, base: Path | None = None) -> dict[str, str]:
        """Return the sha256 of every file under ``folder`` (hidden files and folders excluded).

        Parameters
        ----------
        folder
            A folder, or a single file.
        base
            The folder the keys are relative to (default: ``folder`` itself).

        Returns
        -------
        dict of str to str
            POSIX path relative to ``base`` -> hex digest, sorted by path; empty when ``folder`` lies in a hidden
            folder below ``base``.
        """
        base = base or folder
        if folder.is_file():
            return {folder.relative_to(base).as_posix(): self.sha(folder)}
        # os.scandir rather than Path.rglob: the no-change rerun stats every input file, and pathlib's per-path
        # objects cost more than the stat itself.
        out: dict[str, str] = {}
        prefix = folder.relative_to(base).as_posix()
        if any(part.startswith(".") for part in folder.relative_to(base).parts):
            return out
        stack = [(os.fspath(folder), "" if prefix == "." else prefix)]
        while stack:
            path, rel = stack.pop()
            with os.scandir(path) as it:
                for entry in it:
                    if entry.name.startswith("."):
                        continue
                    r = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_dir():
                        stack.append((entry.path, r))
                    elif entry.is_file():
                        out[r] = self.sha(entry.path, entry.stat())
        return dict(sorted(out.items()))

    def save(self) -> None:
        """Write the cache back if it changed."""
        if self.dirty and self.path is not None:
            write_text(json.dumps(self.data, sort_keys=True), self.path)
            self.dirty = False


def digest_obj(obj: Any) -> str:
    """Return the sha256 of the canonical JSON of ``obj`` (sorted keys).

    Parameters
    ----------
    obj
        A JSON-like value; objects JSON cannot encode (paths, dates) are encoded by their ``str``.

    Returns
    -------
    str
        The hex digest.
    """
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def package_dir() -> Path:
    """Locate the folder of the ``helpers`` package.

    Returns
    -------
    pathlib.Path
        The resolved folder this module's package belongs to.
    """
    return Path(__file__).resolve().parents[1]


def helpers_digest(pkg: Path | None = None) -> str:
    """Digest the whole helper package's source: the fallback when a notebook's imports cannot be read.

    Parameters
    ----------
    pkg
        Folder of the ``helpers`` package (default: :func:`package_dir`).

    Returns
    -------
    str
        sha256 over every ``.py`` and package data file (path and bytes), in path order.
    """
    pkg = pkg or package_dir()
    h = hashlib.sha256()
    for f in sorted(pkg.rglob("*")):
        if f.is_file() and (f.suffix == ".py" or f.suffix in DATA_SUFFIXES) and "__pycache__" not in f.parts:
            h.update(f.relative_to(pkg).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------------------------- import graph
def _module_file(pkg: Path, dotted: str) -> Path | None:
    """Find the file of module ``helpers.a.b`` (``a/b.py`` or ``a/b/__init__.py``), or None if it is not one."""
    parts = dotted.split(".")[1:]
    base = pkg.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if parts and base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _module_name(pkg: Path, f: Path) -> str:
    rel = f.relative_to(pkg).with_suffix("")
    parts = [p for p in rel.parts if p != "__init__"]
    return ".".join([PACKAGE, *parts])


def _imports(tree: ast.AST, current: str, is_pkg: bool) -> tuple[set[str], bool]:
    """Absolute names of the ``helpers`` modules (or attributes of them) imported anywhere in ``tree``.

    Also True when the code imports by a computed name (``importlib.import_module(f"...")``), which the caller
    resolves conservatively to the whole enclosing package.
    """
    out: set[str] = set()
    dynamic = False
    package = current if is_pkg else current.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == PACKAGE)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names if a.name != "*")
        elif isinstance(node, ast.Call) and _is_import_module_call(node):
            arg = node.args[0] if node.args else None
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and not arg.value.startswith("."):
                if arg.value.split(".")[0] == PACKAGE:
                    out.add(arg.value)
            else:
                dynamic = True
    return out, dynamic


def _is_import_module_call(node: ast.Call) -> bool:
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""
    return name in {"import_module", "__import__"}


def _resolve(pkg: Path, names: set[str]) -> set[Path]:
    """Resolve the module files of ``names`` (attribute ``helpers.a.f`` -> ``helpers.a``) and their parent packages."""
    files: set[Path] = set()
    for name in names:
        parts = name.split(".")
        while parts:
            f = _module_file(pkg, ".".join(parts))
            if f is not None:
                files.add(f)
                break
            parts.pop()
        for i in range(1, len(parts)):  # importing helpers.a.b runs helpers/__init__ and helpers/a/__init__
            f = _module_file(pkg, ".".join(parts[:i]))
            if f is not None:
                files.add(f)
    return files


def _declaration(tree: ast.AST) -> dict | None:
    """Read the module's literal ``__computed_imports__``, or None."""
    for node in getattr(tree, "body", []):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == DECLARATION for t in targets) and node.value is not None:
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def _declarations(pkg: Path) -> tuple[tuple[str, str], ...]:
    """Every ``__computed_imports__`` of the package (as canonical JSON, hashable), with the registry files' states."""
    files = tuple((f, f.stat().st_mtime_ns) for f in sorted(pkg.rglob("*.py")) if "__pycache__" not in f.parts)
    return _declarations_of(pkg, files)


@functools.lru_cache(maxsize=64)
def _declarations_of(pkg: Path, files: tuple[tuple[Path, int], ...]) -> tuple[tuple[str, str], ...]:
    # A text search first: parsing every module at each planning would cost more than a no-change rerun otherwise does.
    out = []
    for f, _ in files:
        if DECLARATION not in f.read_text(encoding="utf-8", errors="replace"):
            continue
        decl = _declaration(ast.parse(f.read_bytes(), filename=str(f)))
        if decl is not None:
            for entry in decl.get("registry", []):  # the registry files' versions are part of the key
                target = pkg / entry
                files = sorted(target.glob("*.y*ml")) if target.is_dir() else [target] if target.is_file() else []
                decl.setdefault("_versions", []).extend([p.name, p.stat().st_mtime_ns] for p in files)
            out.append((f.relative_to(pkg).as_posix(), json.dumps(decl, sort_keys=True)))
    return tuple(out)


@functools.lru_cache(maxsize=4096)
def _direct(pkg: Path, f: Path, mtime_ns: int, declarations: tuple[tuple[str, str], ...]) -> frozenset[Path]:
    """Files one module imports directly (cached per file version and per version of the declarations)."""
    tree = ast.parse(f.read_bytes(), filename=str(f))
    module = _module_name(pkg, f)
    names, dynamic = _imports(tree, module, f.name == "__init__.py")
    decls = [json.loads(d) for _, d in declarations]
    if _declaration(tree) is not None:  # its computed imports are declared: counted where they are used
        dynamic = False
    else:
        for d in decls:
            keys = {k for fn, ks in (d.get("via") or {}).items() if _calls(tree, {fn}) for k in ks}
            if keys:
                names |= _entry_modules(pkg, d.get("registry", []), keys)
    if f.name == "__init__.py":
        for table in {d["table"] for d in decls if "table" in d}:
            names |= {f"{module}.{sub}" for sub in _table_keys(tree, table)}
    files = _resolve(pkg, names)
    if dynamic:  # an undeclared computed import: every module of the package this file belongs to
        files |= {p for p in f.parent.rglob("*.py") if "__pycache__" not in p.parts}
    return frozenset(files)


def _table_keys(tree: ast.AST, table: str) -> list[str]:
    """Submodules named by a package's ``<table> = {submodule: [names]}`` dict (``_EXPORTS``, :mod:`helpers._lazy`)."""
    for node in getattr(tree, "body", []):
        if (isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == table for t in node.targets)
                and isinstance(node.value, ast.Dict)):  # fmt: skip
            return [k.value for k in node.value.keys if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    return []


def _calls(tree: ast.AST, names: set[str]) -> bool:
    """Whether the code calls a function or method of one of ``names``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            if (fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else "") in names:
                return True
    return False


def _entry_modules(pkg: Path, registry: list[str], keys: set[str]) -> set[str]:
    """Modules named by the ``module:function`` entry points ``keys`` of the declared registry files."""
    import yaml

    out: set[str] = set()
    for entry in registry:
        target = pkg / entry
        files = sorted(target.glob("*.y*ml")) if target.is_dir() else [target] if target.is_file() else []
        for path in files:
            entries = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            out |= {str(e[k]).partition(":")[0] for e in entries.values() if isinstance(e, dict)
                    for k in keys if k in e}  # fmt: skip
    return out


def _command_line(pkg: Path, f: Path) -> bool:
    return f.name == "__main__.py" or f == pkg / "cli.py"


def module_closure(names: set[str], *, pkg: Path | None = None) -> list[Path]:
    """List the module files of ``names`` and of everything they import inside the package, transitively.

    Parameters
    ----------
    names
        Absolute dotted names (``helpers.dst``, ``helpers.io.write_table``).
    pkg
        Folder of the ``helpers`` package (default: the one this module belongs to).

    Returns
    -------
    list of pathlib.Path
        The module files, sorted (the package's ``__init__.py`` always among them).
    """
    pkg = pkg or package_dir()
    declarations = _declarations(pkg)
    todo = list(_resolve(pkg, names) | {pkg / "__init__.py"})
    seen: set[Path] = set()
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        deps = _direct(pkg, f, f.stat().st_mtime_ns, declarations)
        todo.extend(d for d in deps if d not in seen and not _command_line(pkg, d))
    return sorted(seen)


def notebook_modules(notebook: Path, *, pkg: Path | None = None) -> list[Path] | None:
    """List the helper module files a Jupytext percent notebook depends on; None when its source cannot be parsed.

    Parameters
    ----------
    notebook
        The notebook's ``.py`` file.
    pkg
        Folder of the ``helpers`` package.

    Returns
    -------
    list of pathlib.Path or None
        Sorted module files, or None when the source cannot be parsed or imports by a computed name (the caller then
        falls back to the whole package).
    """
    pkg = pkg or package_dir()
    try:
        tree = ast.parse(notebook.read_bytes(), filename=str(notebook))
    except SyntaxError:  # e.g. an uncommented magic: be conservative
        return None
    names, dynamic = _imports(tree, "__main__", False)
    if dynamic:
        return None
    return module_closure(names, pkg=pkg)


def _data_files(pkg: Path, modules: list[Path]) -> list[Path]:
    """Package data files in the folders of ``modules`` and in their non-package sub-folders (e.g. ``data/``)."""
    out: set[Path] = set()
    for folder in {m.parent for m in modules}:
        for entry in folder.iterdir():
            if entry.is_file() and entry.suffix in DATA_SUFFIXES:
                out.add(entry)
            elif entry.is_dir() and not (entry / "__init__.py").exists() and entry.name != "__pycache__":
                out.update(p for p in entry.rglob("*") if p.is_file() and p.suffix in DATA_SUFFIXES)
    return sorted(out)


def modules_digest(modules: list[Path], *, pkg: Path | None = None) -> tuple[str, list[str]]:
    """Digest module files and the package data beside them.

    Parameters
    ----------
    modules
        Module files inside ``pkg`` (e.g. from :func:`module_closure`).
    pkg
        Folder of the ``helpers`` package (default: :func:`package_dir`).

    Returns
    -------
    digest : str
        sha256 over the files' package-relative paths and bytes, in path order.
    files : list of str
        The package-relative POSIX paths it covers (the modules and the data files in their folders).
    """
    pkg = pkg or package_dir()
    files = sorted(set(modules) | set(_data_files(pkg, modules)))
    h = hashlib.sha256()
    rel = []
    for f in files:
        r = f.relative_to(pkg).as_posix()
        rel.append(r)
        h.update(r.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest(), rel


def code_digest(notebook: Path, *, pkg: Path | None = None) -> tuple[str, list[str]]:
    """Digest the helper code a notebook depends on, and list the package-relative files it covers.

    Parameters
    ----------
    notebook
        The notebook's ``.py`` file.
    pkg
        Folder of the ``helpers`` package.

    Returns
    -------
    digest : str
        The sha256.
    files : list of str
        The sorted relative paths (``["*"]`` when the whole package is hashed).
    """
    pkg = pkg or package_dir()
    modules = notebook_modules(notebook, pkg=pkg)
    if modules is None:
        return helpers_digest(pkg), ["*"]
    return modules_digest(modules, pkg=pkg)


def tree_signature(pkg: Path | None = None) -> str:
    """Digest the (path, size, mtime) of every source and data file of the package: stats only, no reads.

    Parameters
    ----------
    pkg
        Folder of the ``helpers`` package (default: :func:`package_dir`).

    Returns
    -------
    str
        A sha256 that changes when any such file is added, removed, resized or touched.
    """
    pkg = pkg or package_dir()
    h = hashlib.sha256()
    stack = [os.fspath(pkg)]
    entries = []
    while stack:
        with os.scandir(stack.pop()) as it:
            for e in it:
                if e.is_dir():
                    if e.name != "__pycache__":
                        stack.append(e.path)
                elif e.name.endswith(".py") or os.path.splitext(e.name)[1] in DATA_SUFFIXES:
                    st = e.stat()
                    entries.append(f"{e.path}\0{st.st_size}\0{st.st_mtime_ns}")
    for line in sorted(entries):
        h.update(line.encode() + b"\n")
    return h.hexdigest()


class CodeCache:
    """Reuse code digests while no file of the package (and not the notebook) changed size or mtime.

    Resolving a notebook's imports parses every module it reaches; a no-change rerun instead stats the package's
    files once and reads the digests back (kept, like the checksum cache, in the private folder: absolute paths).

    Parameters
    ----------
    path
        JSON file of the cache; None keeps it in memory only.
    pkg
        Folder of the ``helpers`` package.
    """

    def __init__(self, path: Path | None = None, *, pkg: Path | None = None):
        self.path, self.pkg = path, pkg or package_dir()
        try:
            self.data = json.loads(path.read_text()) if path else {}
        except (FileNotFoundError, json.JSONDecodeError):
            self.data = {}
        self.dirty = False
        self._signature: str | None = None

    def _lookup(self, key: str, extra: str, compute: Callable[[], tuple[str, list[str]]]) -> tuple[str, list[str]]:
        if self._signature is None:
            self._signature = tree_signature(self.pkg)
        sig = f"{self._signature}:{extra}"
        hit = self.data.get(key)
        if hit and hit.get("signature") == sig:
            return hit["digest"], hit["files"]
        digest, files = compute()
        self.data[key] = {"signature": sig, "digest": digest, "files": files}
        self.dirty = True
        return digest, files

    def notebook(self, notebook: Path) -> tuple[str, list[str]]:
        """Return :func:`code_digest` of ``notebook``, from the cache when nothing changed.

        Parameters
        ----------
        notebook
            The notebook's ``.py`` file (its size and mtime are part of the cache key).

        Returns
        -------
        digest : str
            The sha256 of the code it depends on.
        files : list of str
            The package-relative files covered (``["*"]`` for the whole package).
        """
        st = os.stat(notebook)
        return self._lookup(os.path.abspath(notebook), f"{st.st_size}:{st.st_mtime_ns}",
                            lambda: code_digest(notebook, pkg=self.pkg))  # fmt: skip

    def modules(self, names: set[str]) -> tuple[str, list[str]]:
        """Digest modules ``names`` and everything they import (e.g. ``{"helpers.simulate"}``).

        Parameters
        ----------
        names
            Absolute dotted module names.

        Returns
        -------
        digest : str
            :func:`modules_digest` of their :func:`module_closure`.
        files : list of str
            The package-relative files covered.
        """
        key = "modules:" + ",".join(sorted(names))
        return self._lookup(key, "", lambda: modules_digest(module_closure(names, pkg=self.pkg), pkg=self.pkg))

    def save(self) -> None:
        """Write the cache back if it changed."""
        if self.dirty and self.path is not None:
            write_text(json.dumps(self.data, sort_keys=True), self.path)
            self.dirty = False
