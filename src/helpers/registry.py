"""The registry of public datasets the compendium reads (``data/registry.yaml``), and fetching them.

Public data are never copied into the repository. Each dataset is a folder of a local mirror (``$DREAM_PUBLIC_DATA``,
by default ``../shared/data`` beside the repository, else a user cache folder) with its upstream source, commit,
licence and a digest of its files, so that a user elsewhere can point the same setting at their own copy and check
that it is the same data. The registry ships inside the package (``helpers/data/registry.yaml``; ``data/registry.yaml``
in a checkout links to it), with a manifest of every file (size, sha256), so that an installed package can fetch and
verify a dataset without a checkout:

    python -m helpers.registry fetch [NAME ...] [--url MIRROR_URL] [--dest FOLDER]

Files come from a mirror with the same layout as the local one (``--url``, ``$DREAM_DATA_URL`` or the registry's
``mirror_url``) or else from the dataset's upstream at the pinned commit: a dataset whose ``source`` is a public
GitHub repository (``github.com/OWNER/REPO``) with a full 40-hex ``commit`` and an ``upstream`` block is fetched from
``https://raw.githubusercontent.com/OWNER/REPO/COMMIT/PATH`` (``media.githubusercontent.com`` for Git LFS files), where
PATH is ``upstream.folder/<file>`` or the file's own entry in ``upstream.files``; ``upstream.url`` is a template
(``{path}``, ``{commit}``) for other hosts (Zenodo, figshare, GEO); files listed in ``upstream.missing`` (derived by
the compendium, or converted) exist only in a mirror. ``python -m helpers.registry urls NAME`` prints the addresses.
Each file is downloaded to a ``.part`` file that a later call resumes (HTTP range request), checked against its
sha256, and only then moved into place; the dataset's digest is checked at the end.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import hashlib
import os
import posixpath
import re
import sys
import urllib.parse
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "load_registry",
    "load_manifest",
    "dataset_path",
    "dataset_digest",
    "verify_dataset",
    "fetch",
    "write_manifest",
    "upstream_urls",
    "PublicDataMissing",
    "ChecksumMismatch",
    "main",
]

MIRROR_URL_ENV = "DREAM_DATA_URL"
GITHUB_RAW = "https://raw.githubusercontent.com"  # a file of a repository at a commit
GITHUB_LFS = "https://media.githubusercontent.com/media"  # the same for files stored in Git LFS
_CHUNK = 1 << 16


class PublicDataMissing(FileNotFoundError):
    """A registered public dataset is not in the local mirror."""


class ChecksumMismatch(OSError):
    """A downloaded file does not have the size or sha256 the registry records."""


def _data_file(name: str) -> Path:
    return Path(str(resources.files("helpers") / "data" / name))


@functools.cache
def _registry_doc() -> dict:
    import yaml

    with open(_data_file("registry.yaml")) as fh:
        return yaml.safe_load(fh)


def load_registry() -> dict[str, dict]:
    """Read the registry (``helpers/data/registry.yaml``).

    Returns
    -------
    dict of str to dict
        ``{name: entry}``, each entry with at least ``name``, ``path`` (folder in the mirror), ``source`` and
        ``sha256`` (the dataset digest).
    """
    return {d["name"]: d for d in _registry_doc()["datasets"]}


@functools.cache
def load_manifest() -> dict[str, list[tuple[str, int, str]]]:
    """Read the manifest of every registered file (``helpers/data/registry_files.tsv``, cached).

    Returns
    -------
    dict of str to list of tuple
        ``{dataset: [(relative path, size in bytes, sha256), ...]}``.

    Raises
    ------
    ValueError
        The manifest's header is not ``dataset, path, size, sha256``.
    """
    out: dict[str, list[tuple[str, int, str]]] = {}
    with open(_data_file("registry_files.tsv")) as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header != ["dataset", "path", "size", "sha256"]:
            raise ValueError(f"registry_files.tsv: unexpected header {header}")
        for line in fh:
            name, rel, size, digest = line.rstrip("\n").split("\t")
            out.setdefault(name, []).append((rel, int(size), digest))
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _public_root() -> Path:
    from .paths import public_data_root

    return public_data_root()


def dataset_path(name: str, *parts: str) -> Path:
    """Locate dataset ``name`` (or a file inside it) in the local mirror, with a clear error when it is missing.

    The mirror is :func:`helpers.paths.public_data_root` (``$DREAM_PUBLIC_DATA``, ``../shared/data`` beside a
    checkout, or a user cache folder).

    Parameters
    ----------
    name
        A registered dataset (:func:`load_registry`).
    *parts
        Path components of a file or folder inside the dataset.

    Returns
    -------
    pathlib.Path
        The existing path.

    Raises
    ------
    KeyError
        ``name`` is not registered.
    PublicDataMissing
        The dataset or the file is not in the mirror (the message says how to fetch it).

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as mirror, mock.patch.dict(os.environ, {"DREAM_PUBLIC_DATA": mirror}):
    ...     folder = Path(mirror, load_registry()["beataml2"]["path"])
    ...     folder.mkdir(parents=True)
    ...     _ = (folder / "clinical.csv").write_text("patient_id")
    ...     dataset_path("beataml2", "clinical.csv").relative_to(Path(mirror).resolve()).as_posix()
    'dst/beataml2_explorer/clinical.csv'
    >>> with tempfile.TemporaryDirectory() as mirror, mock.patch.dict(os.environ, {"DREAM_PUBLIC_DATA": mirror}):
    ...     dataset_path("beataml2")
    Traceback (most recent call last):
    ...
    helpers.registry.PublicDataMissing: public dataset 'beataml2' not found at ...
    """
    reg = load_registry()
    if name not in reg:
        raise KeyError(f"unknown dataset '{name}'; registered: {', '.join(sorted(reg))}")
    root = _public_root()
    path = root / reg[name]["path"]
    target = path.joinpath(*parts)
    if not target.exists():
        raise PublicDataMissing(
            f"public dataset '{name}' not found at {target}: set DREAM_PUBLIC_DATA to the folder that mirrors it, "
            f"or download it with `python -m helpers.registry fetch {name}` (source: {reg[name].get('source', '?')})"
        )
    return target


def dataset_digest(folder: Path) -> str:
    """Compute the digest of a dataset folder: sha256 over the sorted (relative path, file sha256) pairs.

    Partial downloads (``*.part``) are left out.

    Parameters
    ----------
    folder
        The dataset's folder.

    Returns
    -------
    str
        Hexadecimal sha256, comparable with the registry's ``sha256``.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".part")):
        h.update(f"{f.relative_to(folder).as_posix()}\t{_sha256(f)}\n".encode())
    return h.hexdigest()


def verify_dataset(name: str) -> bool:
    """Check the mirrored dataset's digest against the registered one.

    Parameters
    ----------
    name
        A registered dataset.

    Returns
    -------
    bool
        True when the digests are equal.

    Raises
    ------
    PublicDataMissing
        The dataset is not in the mirror.
    """
    return dataset_digest(dataset_path(name)) == load_registry()[name]["sha256"]


def _mirror_base(entry: dict, url: str | None) -> str | None:
    mirror = url or os.environ.get(MIRROR_URL_ENV) or _registry_doc().get("mirror_url") or ""
    if mirror:
        return f"{mirror.rstrip('/')}/{entry['path']}/"
    return None


def _upstream_template(entry: dict) -> str | None:
    """``...{path}`` address template of the dataset's upstream at its pinned commit, or None without an upstream."""
    up = entry.get("upstream")
    if not up:
        return None
    commit = str(entry.get("commit") or "")
    if up.get("url"):
        return up["url"].replace("{commit}", commit)
    m = re.fullmatch(r"(?:https?://)?github\.com/([\w.-]+)/([\w.-]+?)(?:\.git)?/?", str(entry.get("source", "")))
    if not m or not re.fullmatch(r"[0-9a-f]{40}", commit):
        raise ValueError(f"registry: dataset '{entry['name']}' has an upstream block but no github.com/OWNER/REPO "
                         "source with a full 40-hex commit (a short commit cannot address files reliably)")
    return f"{GITHUB_LFS if up.get('lfs') else GITHUB_RAW}/{m[1]}/{m[2]}/{commit}/{{path}}"


def upstream_urls(name: str) -> dict[str, str | None]:
    """List the upstream address of every registered file of dataset ``name`` at its pinned commit.

    Parameters
    ----------
    name
        A registered dataset.

    Returns
    -------
    dict of str to str or None
        ``{path in the dataset folder: URL}``, in manifest order; None for a file only in a mirror, and for every
        file when the dataset has no derivable public upstream.
    """
    entry, files = load_registry()[name], load_manifest().get(name, [])
    template = _upstream_template(entry)
    up = entry.get("upstream") or {}
    renamed, missing = up.get("files") or {}, up.get("missing") or []
    out: dict[str, str | None] = {}
    for rel, _size, _digest in files:
        if template is None or any(fnmatch.fnmatchcase(rel, pat) for pat in missing):
            out[rel] = None
            continue
        path = renamed.get(rel) or posixpath.join(up.get("folder") or "", rel)
        out[rel] = template.replace("{path}", urllib.parse.quote(path.lstrip("/")))
    return out


def _file_urls(entry: dict, url: str | None) -> dict[str, str | None]:
    """Where each file of a dataset is downloaded from: the mirror, else the upstream, else the dataset's ``url``."""
    import urllib.request  # here, not at start-up: it costs the command line's --help a noticeable time
    files = load_manifest()[entry["name"]]
    base = _mirror_base(entry, url)
    if base is None and not entry.get("upstream") and entry.get("url"):
        base = entry["url"].rstrip("/") + "/"
    if base is not None:
        return {rel: base + urllib.request.pathname2url(rel).lstrip("/") for rel, _, _ in files}
    return upstream_urls(entry["name"])


def _download(url: str, target: Path, size: int, digest: str, bar: Any) -> None:
    """Download ``url`` into ``target`` through ``target.part``, resuming a partial download, then check it."""
    import urllib.request
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > size:  # not a prefix of this file
        part.unlink()
        have = 0
    if have < size:
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        with urllib.request.urlopen(req, timeout=60) as resp:
            mode = "ab"
            if have and resp.status != 206:  # the server ignored the range: start again
                mode, have = "wb", 0
            if bar is not None and have:
                bar.update(have)
            with open(part, mode) as fh:
                while block := resp.read(_CHUNK):
                    fh.write(block)
                    if bar is not None:
                        bar.update(len(block))
    elif bar is not None:
        bar.update(size)
    got, got_size = _sha256(part), part.stat().st_size
    if got_size != size or got != digest:
        part.unlink()
        raise ChecksumMismatch(f"{url}: sha256 {got} ({got_size} bytes), registry expects {digest} ({size} bytes); "
                               "the partial file was removed")
    os.replace(part, target)


def fetch(
    names: list[str] | None = None,
    *,
    dest: str | Path | None = None,
    url: str | None = None,
    progress: bool | None = None,
    available_only: bool = False,
) -> dict[str, Path]:
    """Download registered datasets into the local mirror and verify them.

    Parameters
    ----------
    names
        Datasets to fetch (default: all registered ones).
    dest
        Mirror folder (default: ``$DREAM_PUBLIC_DATA``, ``../shared/data`` beside a checkout, or a user cache folder).
    url
        Base address of a mirror laid out like the local one (default: ``$DREAM_DATA_URL``, then the registry's
        ``mirror_url``, then each dataset's upstream ``url``).
    progress
        Show a progress bar (default: when stderr is a terminal).
    available_only
        Fetch the files that have a download address and report the others (derived files of a mirror) on stderr
        instead of failing; every downloaded file is still checked against its sha256, but the dataset's digest, which
        needs every file, is not (what a Binder image without a mirror can have).

    Returns
    -------
    dict of str to pathlib.Path
        ``{name: dataset folder}`` of the fetched (or already present and verified) datasets.

    Raises
    ------
    KeyError
        A name is not registered or has no file manifest.
    PublicDataMissing
        A dataset has no download address, a download fails, or files exist only in a mirror (without
        ``available_only``).
    ChecksumMismatch
        A downloaded file or the dataset's digest differs from the registry's.
    """
    import urllib.error

    reg, manifest = load_registry(), load_manifest()
    names = list(names or reg)
    unknown = [n for n in names if n not in reg]
    if unknown:
        raise KeyError(f"unknown dataset(s) {', '.join(unknown)}; registered: {', '.join(sorted(reg))}")
    missing = [n for n in names if n not in manifest]
    if missing:
        raise KeyError(f"no file manifest for {', '.join(missing)} (python -m helpers.registry manifest NAME)")
    root = Path(dest).expanduser().resolve() if dest else _public_root()
    progress = sys.stderr.isatty() if progress is None else progress
    out = {}
    for name in names:
        entry, files = reg[name], manifest[name]
        folder = root / entry["path"]
        todo = [(rel, size, digest) for rel, size, digest in files
                if not ((folder / rel).is_file() and (folder / rel).stat().st_size == size
                        and _sha256(folder / rel) == digest)]
        if todo:
            urls = _file_urls(entry, url)
            unavailable = [rel for rel, _, _ in todo if urls[rel] is None]
            if len(unavailable) == len(todo) and not any(urls.values()):
                raise PublicDataMissing(
                    f"dataset '{name}' has no download address: pass --url (or set {MIRROR_URL_ENV}) to a mirror laid "
                    f"out like the local one, or copy it from its source ({entry.get('source', '?')}) into "
                    "DREAM_PUBLIC_DATA")
            todo = [f for f in todo if urls[f[0]] is not None]
            bar = None
            if progress:
                from tqdm.auto import tqdm

                bar = tqdm(total=sum(s for _, s, _ in todo), unit="B", unit_scale=True, desc=name, leave=True)
            try:
                for rel, size, digest in todo:
                    target = folder / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    try:
                        _download(urls[rel], target, size, digest, bar)
                    except urllib.error.URLError as exc:
                        raise PublicDataMissing(f"dataset '{name}': cannot download {rel} from {urls[rel]}: {exc}"
                                                ) from exc
            finally:
                if bar is not None:
                    bar.close()
            if unavailable and available_only:
                print(f"{name}: {len(unavailable)} file(s) only in a mirror, not fetched: {', '.join(unavailable)}",
                      file=sys.stderr)
                out[name] = folder
                continue
            if unavailable:
                raise PublicDataMissing(
                    f"dataset '{name}': {len(unavailable)} file(s) are not in its upstream ({', '.join(unavailable[:5])}"
                    f"{', ...' if len(unavailable) > 5 else ''}; derived or converted): fetch them from a mirror laid "
                    f"out like the local one (--url or {MIRROR_URL_ENV}); the other files are in place")
        if dataset_digest(folder) != entry["sha256"]:
            raise ChecksumMismatch(f"dataset '{name}' at {folder}: digest differs from the registry's (extra files?)")
        out[name] = folder
    return out


def write_manifest(names: list[str], *, root: str | Path | None = None) -> Path:
    """Record the files of ``names`` (from the local mirror) in ``registry_files.tsv``; other datasets are kept.

    Parameters
    ----------
    names
        Registered datasets to record.
    root
        The mirror (default: :func:`helpers.paths.public_data_root`).

    Returns
    -------
    pathlib.Path
        The manifest written.

    Raises
    ------
    ChecksumMismatch
        A dataset's digest in the mirror differs from the registry's.
    """
    manifest = dict(load_manifest()) if _data_file("registry_files.tsv").exists() else {}
    reg = load_registry()
    base = Path(root) if root else _public_root()
    for name in names:
        folder = base / reg[name]["path"]
        if dataset_digest(folder) != reg[name]["sha256"]:
            raise ChecksumMismatch(f"{folder}: digest differs from the registry's; fix the mirror or the registry first")
        manifest[name] = [(p.relative_to(folder).as_posix(), p.stat().st_size, _sha256(p))
                          for p in sorted(folder.rglob("*")) if p.is_file()]
    target = _data_file("registry_files.tsv")
    lines = ["dataset\tpath\tsize\tsha256"]
    for name in reg:  # registry order, files sorted: a stable, reviewable diff
        lines += [f"{name}\t{rel}\t{size}\t{digest}" for rel, size, digest in sorted(manifest.get(name, []))]
    target.write_text("\n".join(lines) + "\n")
    load_manifest.cache_clear()
    return target


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m helpers.registry {list,fetch,urls,verify,manifest}``.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status (1 when a fetch fails or a dataset does not verify).
    """
    from .cli import add_version, run_command

    ap = argparse.ArgumentParser(prog="python -m helpers.registry", description="Public datasets of the compendium.")
    add_version(ap)
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("list", help="registered datasets and whether the local mirror has them")
    p.set_defaults(func=_cmd_list)
    p = sub.add_parser("fetch", help="download datasets into the local mirror, resumable, checked by sha256")
    p.add_argument("names", nargs="*", metavar="NAME", help="datasets (default: all)")
    p.add_argument("--url", help=f"base address of a mirror laid out like the local one (default: ${MIRROR_URL_ENV})")
    p.add_argument("--dest", type=Path, help="mirror folder (default: $DREAM_PUBLIC_DATA, ../shared/data or a cache)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--available-only", action="store_true",
                   help="fetch what has a download address, list the mirror-only (derived) files instead of failing")
    p.set_defaults(func=_cmd_fetch)
    p = sub.add_parser("urls", help="the upstream address of every file at the pinned commit ('-': mirror only)")
    p.add_argument("names", nargs="*", metavar="NAME", help="datasets (default: all)")
    p.set_defaults(func=_cmd_urls)
    p = sub.add_parser("verify", help="check the local mirror's datasets against their registered digests")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.set_defaults(func=_cmd_verify)
    p = sub.add_parser("manifest", help="record the files of datasets from the local mirror (maintainers)")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.set_defaults(func=lambda a: print(write_manifest(a.names)))
    return run_command(ap, argv)


def _cmd_list(args: argparse.Namespace) -> int:
    for name, entry in load_registry().items():
        there = (_public_root() / entry["path"]).is_dir()
        print(f"{name}\t{'present' if there else 'missing'}\t{entry.get('licence', '?')}\t{entry.get('source', '?')}")
    return 0


def _cmd_fetch(args: argparse.Namespace) -> int:
    try:
        done = fetch(args.names, dest=args.dest, url=args.url, progress=False if args.no_progress else None,
                     available_only=args.available_only)
    except (PublicDataMissing, ChecksumMismatch, KeyError) as exc:
        print(f"python -m helpers.registry fetch: error: {exc}", file=sys.stderr)
        return 1
    for name in done:
        print(f"{name}: ok")
    return 0


def _cmd_urls(args: argparse.Namespace) -> int:
    for name in args.names or load_registry():
        for rel, address in upstream_urls(name).items():
            print(f"{name}\t{rel}\t{address or '-'}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    bad = 0
    for name in args.names or load_registry():
        try:
            ok = verify_dataset(name)
        except PublicDataMissing:
            ok = False
        bad += not ok
        print(f"{name}: {'ok' if ok else 'MISSING OR DIFFERENT'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
