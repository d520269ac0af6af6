#!/usr/bin/env python
"""Regenerate the DREAM compendium: run every notebook for a cohort through papermill, as a DAG.

Examples
--------
  python run_all.py                          # the demo cohort (simulated, full scale)
  python run_all.py --cohort ci --jobs 2     # the small simulated cohort used by the tests
  python run_all.py --cohort beataml         # the public BeatAML 2.0 cohort (DST + integration)
  python run_all.py --cohort /lab/dream_2026 # a data folder that follows data/README.md
  python run_all.py --only dst --force -p 01_dst.fit_model=ll4
  python run_all.py --list                   # what would run, and why
  python run_all.py --local-cluster 2        # the same runs on a dask.distributed LocalCluster
  python run_all.py --scheduler tcp://host:8786

Outputs: results/<cohort>/<notebook>/ (tables, executed notebook, HTML), figures/<cohort>/<notebook>/ (PDF + PNG),
results/<cohort>/manifest.json (provenance) and results/<cohort>/index.html.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))


def parse_overrides(items: list[str]) -> dict:
    import yaml

    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"-p expects KEY=VALUE or NOTEBOOK.KEY=VALUE, got {item!r}")
        out[key.strip()] = yaml.safe_load(value)
    return out


def main(argv: list[str] | None = None, *, prog: str = "run_all.py") -> int:
    from helpers.cli import add_version

    ap = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_version(ap)
    ap.add_argument("--cohort", default="demo", help="named cohort (config/cohorts/NAME.yaml) or a data folder (default: demo)")
    ap.add_argument("--only", nargs="+", metavar="NOTEBOOK", help="run only these notebooks (e.g. 01_dst or dst)")
    ap.add_argument("--jobs", "-j", type=int, default=1, help="notebooks run in parallel processes (default 1)")
    ap.add_argument("--force", action="store_true", help="run even when nothing changed")
    ap.add_argument("--dry-run", "--list", dest="dry_run", action="store_true", help="show the plan and exit")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="[NOTEBOOK.]KEY=VALUE",
                    help="override a notebook parameter (value parsed as YAML); repeatable")
    ap.add_argument("--params-file", type=Path, help="YAML file of overrides {KEY: VALUE} or {NOTEBOOK.KEY: VALUE}")
    grp = ap.add_mutually_exclusive_group()
    grp.add_argument("--scheduler", metavar="ADDRESS", help="submit the runs to this dask.distributed scheduler")
    grp.add_argument("--local-cluster", type=int, metavar="N", help="start a dask LocalCluster with N workers")
    ap.add_argument("--results-root", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--figures-root", type=Path, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--notebooks-dir", type=Path, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    # Imported after parsing: --help and --version answer without loading pandas and papermill.
    from helpers.paths import repo_root
    from helpers.workflow import describe_os_error, discover_notebooks, load_cohort, run_pipeline

    overrides = {}
    if a.params_file:
        import yaml

        overrides.update(yaml.safe_load(a.params_file.read_text()) or {})
    overrides.update(parse_overrides(a.param))
    try:
        cohort = load_cohort(a.cohort)
        if a.only:
            discover_notebooks(a.notebooks_dir)  # validate names early
        return run_pipeline(
            cohort,
            only=a.only,
            jobs=a.jobs,
            force=a.force,
            dry_run=a.dry_run,
            overrides=overrides,
            scheduler=a.scheduler,
            local_cluster=a.local_cluster,
            results_root=a.results_root,
            figures_root=a.figures_root,
            notebook_dir=a.notebooks_dir,
        )
    except (FileNotFoundError, ValueError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # disk full, read-only or forbidden output folder: one line, not a traceback
        print(f"{prog}: error: {describe_os_error(exc, root=repo_root())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
