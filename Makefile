# The README's two commands. Both install first, so each works on a fresh machine.
PYTHON ?= python3
PIP_INSTALL = $(PYTHON) -m pip install --quiet --disable-pip-version-check
WORK_DIR ?= work_dirs/shapes

.PHONY: install test demo lint

install:
	$(PIP_INSTALL) -e ".[test]"

test: install
	$(PYTHON) -m pytest -q tests

demo: install
	$(PYTHON) scripts/run_demo.py --work_dir=$(WORK_DIR)

lint:
	$(PYTHON) -m ruff check .
