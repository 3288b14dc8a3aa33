# Quick start:  make dev   (seed + dirty batches + Dagster UI on http://127.0.0.1:3000)
#               make test  (ruff + the test suite)
# Both create .venv and install the project on first use. `make help` lists every target:
# a target is listed when its rule line ends with a `## summary` comment.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ECOMMERCE_HOME ?= $(CURDIR)/.ecommerce
DAGSTER_HOME ?= $(ECOMMERCE_HOME)/dagster_home
HOST ?= 127.0.0.1
PORT ?= 3000
SCALE ?= 0.01
DAYS ?= 3
ROWS ?= 200
export ECOMMERCE_HOME DAGSTER_HOME

.DEFAULT_GOAL := help
.PHONY: help dev land test install seed lint bench bench-quick bench-profile bench-seed bench-gold clean \
	emulators-venv emulators

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  make %-15s %s\n", $$1, $$2}' \
		$(MAKEFILE_LIST)
	@echo "Variables: HOST=$(HOST) PORT=$(PORT) SCALE=$(SCALE) DAYS=$(DAYS) ROWS=$(ROWS)"
	@echo "           ECOMMERCE_HOME=$(ECOMMERCE_HOME)"

# The BigQuery emulator (bqemulator) pins duckdb 1.5.5, which clashes with ours: it gets its
# own virtualenv, with a private HOME holding the spatial extension it loads at start.
EMU_VENV ?= .venv-emulators
EMU_EXT := $(EMU_VENV)/home/.duckdb/extensions/v1.5.5/linux_amd64

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -qq --upgrade pip
	$(BIN)/python -m pip install -qq -e '.[dev]'
	@touch $@

install: $(BIN)/.installed ## create .venv and install the project (dev extras)

$(EMU_VENV)/.installed: Makefile
	$(PYTHON) -m venv $(EMU_VENV)
	$(EMU_VENV)/bin/python -m pip install --quiet bqemulator==1.4.0 duckdb==1.5.5 \
		duckdb-extension-spatial==1.5.5 numpy  # numpy: imported, not declared
	mkdir -p $(EMU_EXT)
	cp "$$($(EMU_VENV)/bin/python -c 'import duckdb_extension_spatial as m, pathlib; \
		print(next(pathlib.Path(m.__file__).parent.rglob("spatial.duckdb_extension")))')" $(EMU_EXT)/
	@touch $@

emulators-venv: $(EMU_VENV)/.installed ## the BigQuery emulator's own virtualenv

# fake-gcs-server + bqemulator on free loopback ports; settings written to .ecommerce/emulators.env
emulators: install emulators-venv ## fake-gcs-server + bqemulator (settings in emulators.env)
	$(BIN)/ecommerce emulators --env-file $(ECOMMERCE_HOME)/emulators.env

# Seed once (scale $(SCALE)) dated $(DAYS) days ago, land $(DAYS) dirty daily batches ending
# today, and materialize those bronze partitions (one range run), silver and gold, recorded in
# DAGSTER_HOME so the UI shows them (the generator's files are complete when written, so no
# settle wait: ECOMMERCE_INBOX_SETTLE_S=0). Today's batch covers midnight to now, so
# `make land` can add more of today later. From then on the sensors and automation of
# `make dev` take over. Skipped when the generator state already exists: `make clean` starts over.
# The instance file lives in deploy/: a dagster.yaml in the folder `dg dev` starts in would be
# reported as "will not be used".
$(DAGSTER_HOME)/dagster.yaml: deploy/dagster.local.yaml
	@mkdir -p "$(DAGSTER_HOME)"
	cp deploy/dagster.local.yaml "$@"

seed: install $(DAGSTER_HOME)/dagster.yaml ## seed once: DAYS dirty days, then bronze..gold materialized
	@$(BIN)/python -c 'from resources.deployment import init_local; init_local()'
	@if [ -f "$(ECOMMERCE_HOME)/generator/state.json" ]; then \
		echo "Already seeded ($(ECOMMERCE_HOME)); 'make clean' to start over."; \
	else \
		SEED_DATE=$$($(BIN)/python -c 'import datetime as d; print(d.datetime.now(d.UTC).date() - d.timedelta(days=$(DAYS)))'); \
		TODAY=$$($(BIN)/python -c 'import datetime as d; print(d.datetime.now(d.UTC).date())'); \
		$(BIN)/python test_data/thelook_ecommerce/seed.py --scale $(SCALE) --date $$SEED_DATE && \
		$(BIN)/python test_data/thelook_ecommerce/generate.py --days $(DAYS) --rows $(ROWS) --at now && \
		mkdir -p "$(DAGSTER_HOME)" && \
		ECOMMERCE_INBOX_SETTLE_S=0 $(BIN)/dagster asset materialize -m ecommerce_assets.definitions --select 'group:bronze' \
			--partition-range "$$SEED_DATE...$$TODAY" > "$(ECOMMERCE_HOME)/seed-materialize.log" 2>&1 && \
		$(BIN)/dagster asset materialize -m ecommerce_assets.definitions \
			--select 'group:silver or group:gold or group:embeddings or group:marts' >> "$(ECOMMERCE_HOME)/seed-materialize.log" 2>&1 && \
		$(BIN)/python -c 'from resources.instance import skip_seed_history; skip_seed_history()' && \
		echo "Bronze partitions $$SEED_DATE...$$TODAY, silver, gold and embeddings materialized (log: $(ECOMMERCE_HOME)/seed-materialize.log)"; \
	fi

# `dg dev` (dagster-dg-cli) is 1.13's start command: `dagster dev` warns it is superseded.
# It loads the project of [tool.dg] in pyproject.toml. Ctrl-C stops it (webserver, daemon,
# code server and runs); state stays in $(ECOMMERCE_HOME). webserver.url tells `ecommerce
# backfill` where the UI listens.
dev: seed ## seed on first use, then the UI + daemon on HOST:PORT (Ctrl-C stops)
	@mkdir -p "$(DAGSTER_HOME)"
	@echo "http://$(HOST):$(PORT)" | sed 's|//0\.0\.0\.0:|//127.0.0.1:|' > "$(ECOMMERCE_HOME)/webserver.url"
	$(BIN)/dg dev --host $(HOST) --port $(PORT)

# One dirty batch of today, from the end of the previous batch to now, into the running demo's
# inbox: the inbox sensor ingests it within seconds, automation refreshes silver and gold.
land: install ## land one more batch of today (up to now) in the demo's inbox
	@$(BIN)/python test_data/thelook_ecommerce/generate.py --at now --rows $(ROWS)

lint: install ## ruff
	$(BIN)/ruff check .

# Two workers, one test file each at a time: the drills and end-to-end tests mostly wait on
# their dagster dev, so the rest of the suite runs beside them.
test: install emulators-venv ## ruff + the test suite
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 --dist loadfile

# The whole suite (end to end at scale 1.0 against the plain-DuckDB floor, the incremental day,
# scaling, cleaning vs naive pandas): rewrites the generated section of BENCHMARKS.md.
# `make bench ARGS=--quick` (or `make bench-quick`) runs small scales in a few minutes.
bench: install ## benchmark suite, rewrites BENCHMARKS.md (~10 min; ARGS=--quick)
	$(BIN)/python bench/suite.py $(ARGS)

bench-quick: install ## the benchmark suite at small scales (a few minutes)
	$(BIN)/python bench/suite.py --quick $(ARGS)

bench-profile: install ## pyinstrument profile of the incremental 1% day at scale 1.0 (ARGS=--scale 0.1)
	$(BIN)/python bench/profile_day.py $(ARGS)

bench-seed: install ## seed benchmark (BENCHMARKS.md)
	$(BIN)/python bench/seed.py

bench-gold: install ## gold benchmark (BENCHMARKS.md)
	$(BIN)/python bench/gold.py

clean: ## delete ECOMMERCE_HOME: the next make dev seeds again
	rm -rf "$(ECOMMERCE_HOME)"
