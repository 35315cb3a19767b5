# FX Platform — the two commands: `make run` and `make test`.
# Needs only Python 3.11 and Node 20; everything else is installed here.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FRONTEND_SOURCES := $(shell find frontend/src frontend/public -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package.json

.PHONY: help run test test-python test-frontend bench install frontend services stop lint clean

help:
	@echo "make run        set up and run the whole platform on http://127.0.0.1:8000/"
	@echo "make test       set up and run the whole test suite"
	@echo "make bench      set up and run the benchmarks under bench/"
	@echo "make services   start the embedded PostgreSQL and Redis and leave them running"
	@echo "make stop       stop the embedded PostgreSQL and Redis"
	@echo "make lint       ruff"
	@echo "make clean      remove the virtualenv, node_modules and build output (keeps var/)"

run: install frontend
	$(BIN)/python -m fxsite.launcher run

test: install frontend test-frontend test-python

test-python: install
	$(BIN)/python -m fxsite.launcher test $(ARGS)

test-frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm test

bench: install
	$(BIN)/python -m fxsite.launcher bench $(ARGS)

services: install
	$(BIN)/python -m fxsite.launcher services

stop: install
	$(BIN)/python -m fxsite.launcher stop

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

frontend: frontend/dist/index.html

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(FRONTEND_SOURCES)
	cd frontend && npm run build

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist var/staticfiles var/prometheus
