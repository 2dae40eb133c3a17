# Versa: the few commands a newcomer needs. `make run` and `make test` set everything up themselves.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PACKS ?= examples/packs
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: help run test test-slow test-all check bench system-deps venv clean demo fallbacks build deploy goldens

help:
	@echo "make run    set up and serve $(PACKS) at http://$(HOST):$(PORT)"
	@echo "make test   set up and run lint, types, import contracts and every test but the slow tiers"
	@echo "make test-slow  the slow tiers: browser (Chromium), built Lambda artifact, fuzzing, stress (CI runs them)"
	@echo "make bench  run the benchmarks (results in bench/results/)"
	@echo "make build  sam validate --lint + sam build for this CPU (or ARCH=arm64|x86_64) into .aws-sam/"
	@echo "make deploy sam deploy of that build, for the architecture it was built for (DEPLOY_ARGS=...)"
	@echo "make goldens  redraw tests/golden/*.png and MANIFEST.json here, for review (git diff)"

system-deps:
	@scripts/system-deps.sh $(if $(WITH_TEST_DEPS),--test)

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Versa needs Python 3.11 or newer"'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

run: system-deps venv
	$(BIN)/versa serve --packs $(PACKS) --host $(HOST) --port $(PORT)

fallbacks: venv
	$(BIN)/python examples/render_fallbacks.py

demo: system-deps venv
	$(BIN)/versa variants $(PACKS)/acme winter-sale | head -5
	$(BIN)/versa decide $(PACKS)/acme winter-sale --country DE --device mobile --tz Europe/Berlin --at 2026-12-01T19:30

check: venv
	$(BIN)/ruff check shared functions tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test:
	$(MAKE) system-deps WITH_TEST_DEPS=1
	$(MAKE) venv
	$(MAKE) check
	node --test cdn/test/
	$(BIN)/pytest -q -m "not slow and not e2e"

# the slow tiers, which CI (.ci/run) runs after `make test`: headless Chromium, the built Lambda
# artifact, the brute-force variant sweep, API fuzzing and the render stress test
test-slow:
	$(MAKE) system-deps WITH_TEST_DEPS=1
	$(MAKE) venv
	$(BIN)/pytest -q -m "slow or e2e"

test-all: test test-slow

goldens: system-deps venv
	$(BIN)/python tests/unit/goldens.py

bench: system-deps venv
	$(BIN)/python bench/bench_decide.py
	$(BIN)/python bench/bench_pack_load.py
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_layout.py
	$(BIN)/python bench/bench_scripts.py --before 40e27cc
	$(BIN)/python bench/bench_handler.py
	$(BIN)/python bench/bench_copy.py
	$(BIN)/python bench/bench_coldstart.py
	$(BIN)/python bench/bench_export.py
	$(BIN)/python bench/bench_relevance.py

build: system-deps
	scripts/sam-build.sh

# Deploys what `make build` built, for its architecture; refuses a mismatch (scripts/sam-deploy.sh).
deploy:
	scripts/sam-deploy.sh $(DEPLOY_ARGS)

clean:
	rm -rf $(VENV) .versa .pytest_cache .mypy_cache .ruff_cache .import_linter_cache tests/output bench/results .aws-sam .sam-venv
