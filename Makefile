# Two commands for a newcomer: `make up` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install up test demo bench load keys clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt libs/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

keys: install
	$(PY) manage_all.py keys

up: install
	$(PY) manage_all.py up

test: install
	$(PY) scripts/run_tests.py $(SUITES)

clean:
	rm -rf $(VENV) .data
