# tlsmon developer entry points.  `make demo` and `make test` are the two set-up commands.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: demo test lint typecheck unit debian-compat fuzz bench clean

# Debian 12's own python3 with python3-cryptography (38), python3-nagiosplugin, python3-requests,
# python3-pytest and python3-hypothesis from apt; only trustme (tests) comes from PyPI.
DEBIAN_PY ?= /usr/bin/python3
DEBVENV   ?= .venv-debian

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m tlsmon.demo

lint: $(STAMP)
	$(VENV)/bin/ruff check lib tests plugins bench

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(PY) -m pytest -q

# The whole suite again on the distribution's Python packages: monitoring hosts run distro Pythons.
debian-compat:
	@if ! $(DEBIAN_PY) -c 'import cryptography, nagiosplugin, requests, pytest, hypothesis' 2>/dev/null; then \
	  msg="debian-compat: $(DEBIAN_PY) lacks python3-cryptography/-nagiosplugin/-requests/-pytest/-hypothesis"; \
	  if [ "$$CI" = true ]; then echo "$$msg" >&2; exit 1; fi; echo "SKIPPED $$msg"; exit 0; fi; \
	test -x $(DEBVENV)/bin/python || $(DEBIAN_PY) -m venv --system-site-packages $(DEBVENV); \
	$(DEBVENV)/bin/python -m pip install --quiet --no-deps 'trustme>=1.1'; \
	PYTHONPATH=lib $(DEBVENV)/bin/python -c 'import cryptography, nagiosplugin, requests; \
	  print("debian-compat: cryptography", cryptography.__version__, "nagiosplugin", nagiosplugin.__version__, \
	        "requests", requests.__version__)'; \
	PYTHONPATH=lib $(DEBVENV)/bin/python -m pytest -q -p no:cacheprovider

test: lint typecheck unit debian-compat

# The property tests (Hypothesis) again with fresh random seeds: CI replays fixed examples.
FUZZ_ROUNDS ?= 20
fuzz: $(STAMP)
	for round in $$(seq $(FUZZ_ROUNDS)); do \
	  $(PY) -m pytest -q -p no:cacheprovider -m hypothesis --hypothesis-seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d " ") tests \
	    || exit 1; \
	done

bench: $(STAMP)
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) $(DEBVENV) build lib/*.egg-info
