#!/usr/bin/env bash
# Print the path of a Python 3.12 interpreter: $PYTHON if set, then python3.12 on PATH, then pyenv's 3.12.x.
set -euo pipefail
is312() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' 2>/dev/null; }
if [[ -n "${PYTHON:-}" ]] && is312 "$PYTHON"; then echo "$PYTHON"; exit 0; fi
for cand in python3.12 python3 python; do
  if p=$(command -v "$cand" 2>/dev/null) && is312 "$p"; then echo "$p"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for v in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -t. -k3 -n -r); do
    p="$(pyenv prefix "$v")/bin/python3.12"
    if is312 "$p"; then echo "$p"; exit 0; fi
  done
fi
for p in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
  if [[ -x "$p" ]] && is312 "$p"; then echo "$p"; exit 0; fi
done
echo "error: no Python 3.12 found; install one (e.g. 'pyenv install 3.12') or set PYTHON=/path/to/python3.12" >&2
exit 1
