# The compendium's entry points. `make all` regenerates everything on the demo cohort; `make test` runs all tests.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
COHORT ?= demo
JOBS ?= 2
STAMP := $(VENV)/.installed

.PHONY: all test test-kernels setup lock references lint bench clean help lab

help:
	@echo "make all         set up .venv from the lock and regenerate the compendium (COHORT=$(COHORT))"
	@echo "make test        set up .venv and run the full test suite (tests/unit, tests/public_data, tests/pipeline, nbval)"
	@echo "make references  re-execute the nbval reference notebooks after an intended change"
	@echo "make bench       run the benchmarks"
	@echo "make lock        re-resolve requirements.lock from pyproject.toml"

$(STAMP): requirements.lock pyproject.toml
	@set -e; if [[ ! -x $(PY) ]]; then py=$$(tools/find_python.sh); echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (ipykernel)" >/dev/null
	mkdir -p $(VENV)/share/jupyter/lab/settings && cp config/jupyterlab/overrides.json $(VENV)/share/jupyter/lab/settings/
	@touch $(STAMP)

setup: $(STAMP)

all: $(STAMP)
	$(PY) run_all.py --cohort $(COHORT) --jobs $(JOBS)

test: $(STAMP)
	$(PY) -m helpers.simulate --scale ci --out data/simulated/ci --incremental
	$(PY) -m pytest -n 2 --dist loadgroup tests
	@# The references re-execute into scratch folders, not into results/ and figures/; nbval checks the outputs,
	@# tests/reference_tables.py the tables by value, under two numeric kernels at once, one core each
	@# (docs/reproducibility.md).
	$(PY) tools/check_references.py

# The reference check alone (both kernels), e.g. after `make references`.
test-kernels: $(STAMP)
	$(PY) tools/check_references.py

references: $(STAMP)
	$(PY) tools/refresh_references.py

bench: $(STAMP)
	$(PY) benchmarks/run_benchmarks.py

lint: $(STAMP)
	$(PY) -m ruff check src tests notebooks run_all.py benchmarks

lock:
	@set -e; py=$$(tools/find_python.sh); "$$py" -m venv /tmp/dream-lock-venv; /tmp/dream-lock-venv/bin/pip install --quiet uv
	/tmp/dream-lock-venv/bin/uv pip compile pyproject.toml --extra test --extra workflow --python-version 3.12 -o requirements.lock
	$$(tools/find_python.sh) tools/sync_environment.py

clean:
	rm -rf results figures/demo figures/ci

# config/jupyterlab holds the server settings (allow running as root, e.g. in a container); harmless as a user.
lab: $(STAMP)
	JUPYTER_CONFIG_PATH="$(CURDIR)/config/jupyterlab$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" $(VENV)/bin/jupyter lab
