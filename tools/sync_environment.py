"""Write environment.yml (conda / Binder) from requirements.lock, so that both install the same exact pins.

Run after `make lock`: python tools/sync_environment.py
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lock_pins(path: Path = ROOT / "requirements.lock") -> dict[str, str]:
    """{normalised name: version} of every `name==version` line of the lock."""
    pins = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;]+)", line.strip())
        if m:
            pins[re.sub(r"\[.*\]", "", m.group(1)).lower().replace("_", "-")] = m.group(2)
    return pins


def main() -> None:
    pins = lock_pins()
    lines = [
        "# Conda / Binder environment of the DREAM compendium. Generated from requirements.lock by",
        "# tools/sync_environment.py: the same exact pins as `make setup`; do not edit by hand.",
        "name: dream-compendium",
        "channels:",
        "  - conda-forge",
        "dependencies:",
        "  - python=3.12",
        "  - pip",
        "  - pip:",
        *[f"      - {name}=={version}" for name, version in sorted(pins.items())],
        "",
    ]
    (ROOT / "environment.yml").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
