"""Every public function of ``helpers`` has a numpy docstring with its sections, and annotations; the examples run.

Public: a module-level function or a method of a module-level class whose name has no leading underscore (in any
module, private ones included: ``helpers._lazy.lazy_exports`` is what every axis package calls). A function needs a
``Parameters`` section when it takes arguments besides ``self``/``cls``, a ``Returns`` (or ``Yields``) section when it
returns a value (a return annotation other than ``None``, or a ``return``/``yield`` of a value in its body;
properties are documented as attributes), and annotations of every argument and of its return. ruff checks the same
docstrings for style (``D``, numpy convention) and annotated signatures for completeness (``ANN``); this test closes
the gap ruff leaves open (a public function without any annotation, a missing section).

Modules still being documented are listed once, in ``pyproject.toml``: the ``src/`` entries of
``[tool.ruff.lint.per-file-ignores]`` (under ``# still to document:``). They are exempt here as they are from ruff.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.paths import repo_root

ROOT = repo_root()
SRC = ROOT / "src"
PACKAGE = SRC / "helpers"
SECTION = r"^\s*{}\s*\n\s*-{{3,}}\s*$"
# Modules whose Examples sections are doctests run here (offline: they make what they read).
DOCTEST_MODULES = ["helpers.io", "helpers.registry", "helpers.plotting", "helpers.assays", "helpers.stats"]


def _glob_regex(pattern: str) -> re.Pattern:
    """The regex of a ruff (globset) pattern: ``**`` any folders, ``*`` and ``?`` within one, ``{a,b}`` either."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif c == "*":
            out, i = out + "[^/]*", i + 1
        elif c == "?":
            out, i = out + "[^/]", i + 1
        elif c == "{":
            end = pattern.index("}", i)
            out, i = out + "(?:" + "|".join(map(re.escape, pattern[i + 1 : end].split(","))) + ")", end + 1
        else:
            out, i = out + re.escape(c), i + 1
    return re.compile(out + r"\Z")


def pending_patterns() -> dict[str, re.Pattern]:
    """The ``src/`` per-file-ignores of ``pyproject.toml``: modules still to document, exempt from D and ANN."""
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text())
    ignores = conf["tool"]["ruff"]["lint"].get("per-file-ignores", {})
    return {k: _glob_regex(k) for k in ignores if k.startswith("src/")}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _is_pending(path: Path, patterns: dict[str, re.Pattern]) -> bool:
    rel = path.relative_to(ROOT).as_posix()
    return any(rx.match(rel) for rx in patterns.values())


def _public_functions(tree: ast.Module) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef, bool]]:
    funcs = (ast.FunctionDef, ast.AsyncFunctionDef)
    for node in tree.body:
        if isinstance(node, funcs) and not node.name.startswith("_"):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for m in node.body:
                if isinstance(m, funcs) and not m.name.startswith("_"):
                    yield f"{node.name}.{m.name}", m, True


def _arguments(fn: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> list[ast.arg]:
    a = fn.args
    args = [*a.posonlyargs, *a.args]
    static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
    if method and not static and args:
        args = args[1:]  # self / cls
    return [*args, *([a.vararg] if a.vararg else []), *a.kwonlyargs, *([a.kwarg] if a.kwarg else [])]


def _returns_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    ann = fn.returns
    if ann is not None:
        text = ast.unparse(ann)
        return text not in ("None", "NoReturn", "Never", "typing.NoReturn")
    stack = list(fn.body)
    while stack:  # the function's own statements, not those of nested functions or classes
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Yield | ast.YieldFrom):
            return True
        if isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                return True
        stack.extend(ast.iter_child_nodes(node))
    return False


def _is_property(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    names = {d.id if isinstance(d, ast.Name) else d.attr if isinstance(d, ast.Attribute) else "" for d in
             fn.decorator_list}  # fmt: skip
    return bool(names & {"property", "cached_property", "setter"})


def problems_of(path: Path, *, src: Path = SRC) -> list[str]:
    """``module:function: what is missing`` for every public function of one module under ``src``."""
    module = ".".join(path.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
    out = []
    for name, fn, method in _public_functions(ast.parse(path.read_text(), filename=str(path))):
        doc = ast.get_docstring(fn) or ""
        args = _arguments(fn, method)
        missing = []
        if not doc.strip():
            missing.append("docstring")
        if args and not re.search(SECTION.format("Parameters"), doc, re.M):
            missing.append("Parameters section")
        if _returns_value(fn) and not _is_property(fn) and not re.search(SECTION.format("(Returns|Yields)"), doc, re.M):
            missing.append("Returns/Yields section")
        untyped = [a.arg for a in args if a.annotation is None]
        if untyped:
            missing.append(f"annotation of {', '.join(untyped)}")
        if fn.returns is None:
            missing.append("return annotation")
        if missing:
            out.append(f"{module}:{name}: {'; '.join(missing)}")
    return out


def test_public_functions_have_numpy_sections_and_annotations():
    patterns = pending_patterns()
    found = [p for path in _modules() if not _is_pending(path, patterns) for p in problems_of(path)]
    assert not found, "public functions to document (or list the module under '# still to document:' in " \
                      "pyproject.toml):\n" + "\n".join(found)  # fmt: skip


def test_pending_list_names_existing_modules_only():
    files = [p.relative_to(ROOT).as_posix() for p in _modules()]
    stale = [k for k, rx in pending_patterns().items() if not any(rx.match(f) for f in files)]
    assert not stale, f"per-file-ignores entries that match no module (remove them): {stale}"


def test_checker_finds_what_is_missing(tmp_path):
    # The scan must fail on an undocumented public function and pass a documented one, or the test above proves nothing.
    src = (
        '"""Probe."""\n\n\ndef bare(x, *, y: int = 1):\n    """Do it."""\n    return x\n\n\n'
        'def good(x: int) -> int:\n    """Do it.\n\n    Parameters\n    ----------\n    x\n        A number.\n\n'
        '    Returns\n    -------\n    int\n        ``x``.\n    """\n    return x\n\n\n'
        'class Thing:\n    """A thing."""\n\n    def gen(self, n: int):\n        """Count."""\n        yield n\n'
    )
    probe = tmp_path / "src" / "helpers" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(src)
    assert problems_of(probe, src=tmp_path / "src") == [
        "helpers.probe:bare: Parameters section; Returns/Yields section; annotation of x; return annotation",
        "helpers.probe:Thing.gen: Parameters section; Returns/Yields section; return annotation",
    ]


def test_glob_translation_matches_ruff_patterns():
    rx = _glob_regex("src/helpers/{axes,beataml}.py")
    assert rx.match("src/helpers/axes.py") and rx.match("src/helpers/beataml.py")
    assert not rx.match("src/helpers/axes_x.py") and not rx.match("src/helpers/dst/axes.py")
    assert _glob_regex("src/helpers/integration/**").match("src/helpers/integration/a/b.py")
    assert not _glob_regex("src/helpers/*.py").match("src/helpers/dst/contract.py")


@pytest.mark.parametrize("module", DOCTEST_MODULES)
def test_examples_run(module):
    mod = importlib.import_module(module)
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.attempted > 0, f"{module} has no examples"
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples of {module} failed (see output)"


def test_no_module_is_left_undocumented():
    # The list under '# still to document:' held the packages whose docstrings had not landed; every one has.
    assert not pending_patterns(), sorted(pending_patterns())
