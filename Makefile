# cellar.garage — developer entry points. On a fresh Debian 12 checkout:
#   make demo    converge the example estate on a real 3-node Garage cluster on loopback
#   make test    lint, type-check, unit, sanity, then integration and peer tests on real Garage
# Both install what they need (Debian packages from requirements/apt.txt, .venv from
# requirements/test.txt, the pinned Garage build from crates.io) on first use.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV   ?= .venv
STAMP  := $(VENV)/.installed-test-requirements
APT_STAMP := build/.apt-ensured

export VENV := $(abspath $(VENV))

.PHONY: help apt venv docs-venv garage test lint ruff mypy unit sanity integration demo demo-stop build clean molecule ansible-lint deb-locks

help:
	@echo "make demo         converge the example estate on a real 3-node Garage on loopback (scripts/demo)"
	@echo "make demo-stop    stop the Garage cluster the demo left running"
	@echo "make garage       build (once) and print the pinned Garage binary (scripts/garage-bin)"
	@echo "make test         every test stage, then a summary (scripts/run-tests)"
	@echo "make venv         create $(VENV) from requirements/test.txt"
	@echo "make apt          install the Debian packages in requirements/apt.txt"
	@echo "make lint         ruff + mypy"
	@echo "make unit         unit tests only"
	@echo "make sanity       ansible-test sanity (scripts/sanity)"
	@echo "make integration  integration tests only"
	@echo "make build        ansible-galaxy collection build into build/dist"
	@echo "make molecule     Molecule scenarios of the roles on nspawn hosts (root; S=\"garage podman\" for some)"
	@echo "make ansible-lint ansible-lint, production profile (roles, playbooks, inventories, molecule)"
	@echo "make deb-locks    regenerate the committed .deb closure locks (a deliberate act: review the diff)"
	@echo "make clean        remove build output (keeps $(VENV))"

# Debian packages: checked once per run (the stamp lives in build/, and `apt.txt` changes
# invalidate it); scripts/ensure-apt itself skips what is already installed.
apt: $(APT_STAMP)
$(APT_STAMP): requirements/apt.txt scripts/ensure-apt
	scripts/ensure-apt requirements/apt.txt
	@mkdir -p $(dir $@) && touch $@

# The pinned Garage release (GARAGE_VERSION file; env GARAGE_VERSION or GARAGE_BIN override),
# built once by cargo into ~/.cache/cellar-garage. Prints the binary's path.
garage: $(APT_STAMP)
	@scripts/garage-bin

venv: $(STAMP)
$(STAMP): requirements/test.txt | $(APT_STAMP)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -r requirements/test.txt
	@touch $@

# antsibull-changelog and antsibull-docs (Sphinx, docutils >= 0.20) in their own venv: awscli 1.x
# in .venv needs docutils <= 0.19.
DOCS_VENV ?= .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed-docs-requirements
docs-venv: $(DOCS_STAMP)
$(DOCS_STAMP): requirements/docs.txt | $(APT_STAMP)
	@test -x $(DOCS_VENV)/bin/python || $(PYTHON) -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet -r requirements/docs.txt
	@touch $@

test: venv docs-venv
	scripts/run-tests

lint: venv
	$(VENV)/bin/ruff check plugins tests
	cd .collections && $(VENV)/bin/mypy --config-file ../.mypy.ini ansible_collections/cellar/garage/plugins

ruff: venv
	$(VENV)/bin/ruff check plugins tests

mypy: venv
	cd .collections && $(VENV)/bin/mypy --config-file ../.mypy.ini ansible_collections/cellar/garage/plugins

unit: venv
	$(VENV)/bin/python -m pytest -p no:cacheprovider -q tests/unit

sanity: venv
	scripts/sanity --venv --python 3.11

integration: venv
	$(VENV)/bin/python -m pytest -p no:cacheprovider -q tests/integration

demo: venv
	scripts/demo

demo-stop:
	scripts/demo --stop

build: venv
	$(VENV)/bin/ansible-galaxy collection build --force --output-path build/dist

molecule: venv
	scripts/molecule-stage $(S)

ansible-lint: venv
	$(VENV)/bin/ansible-lint roles playbooks site.yml inventories extensions/molecule

deb-locks: venv
	scripts/deb-closure-locks

clean:
	rm -rf build dist tests/output .mypy_cache .ruff_cache
