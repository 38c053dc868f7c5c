# Two commands for a newcomer: `make up` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages the suites need: Chromium and its driver for the browser test. Missing ones are
# installed by scripts/ensure_debian_packages.sh (as root), or it names the command to run.
TEST_DEBIAN_PACKAGES := chromium chromium-driver

# The multi-host fault test (tests/multihost) runs as root only: Debian's HAProxy, `ip netns`
# (iproute2), and the PostgreSQL and Redis servers it starts on its simulated hosts.
ifeq ($(shell id -u),0)
TEST_DEBIAN_PACKAGES += haproxy iproute2 postgresql redis-server
endif

.PHONY: install debian-packages up test deploy-check faults matrix demo bench load keys clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt libs/ms_token/pyproject.toml libs/service_kit/pyproject.toml dev/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

keys: install
	$(PY) manage_all.py keys

up: install
	$(PY) manage_all.py up

debian-packages:
	@sh scripts/ensure_debian_packages.sh $(TEST_DEBIAN_PACKAGES)

# The system packages first: a missing one stops the run before the venv is built.
test: debian-packages install deploy-check
	$(PY) scripts/run_tests.py $(SUITES)

# The multi-host fault scenario (root, `ip netns`, haproxy): the test of the system suite, run
# alone, writing its figures to docs/faults.md.
faults: debian-packages install
	cd tests && FAULTS_REPORT=$(CURDIR)/docs/faults.md MULTIHOST_REQUIRED=1 $(CURDIR)/$(PY) -m pytest -q -s multihost

# The Kubernetes manifests, rendered (kubectl kustomize) and checked offline: schemas and our rules.
deploy-check: install
	$(PY) deploy/check.py

# The X-MS-TOKEN library on every supported Python, Django and DRF, from its wheel (noxfile.py).
matrix: install
	$(VENV)/bin/nox --noxfile noxfile.py

demo: install
	$(PY) scripts/demo.py

# What the security costs: the token library's micro-benchmark, then billing -> product over
# HTTP under gunicorn on PostgreSQL for four ways of authenticating (one run, ratios to none).
bench: install
	$(PY) bench/bench.py --write docs/bench.md

# A bounded load run (not part of CI): bills through billing -> product, then a consistency check.
load: install
	$(PY) scripts/load.py

clean:
	rm -rf $(VENV) .data
