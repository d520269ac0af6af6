"""``python -m helpers check DATA_DIR``: validate a whole cohort folder before any run (see helpers.check)."""

from .check import main

if __name__ == "__main__":
    raise SystemExit(main())
