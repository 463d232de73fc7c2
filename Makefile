# The two commands of the README. Each creates .venv on first use and installs what it needs.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
ARGS   ?=

.PHONY: demo test lint clean

$(BIN)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "smartstreets needs Python 3.11 or newer (set PYTHON=...)")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## make demo [ARGS="--duration 60"]: the whole platform on this machine
demo: $(BIN)/.installed
	$(BIN)/smartstreets demo $(ARGS)

## make test: lint, type-check, generated-artefact checks and the test suite
test: $(BIN)/.installed lint
	$(BIN)/smartstreets contract asyncapi --check
	$(BIN)/smartstreets dashboards check
	$(BIN)/pytest $(ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check ingest api analytics simulators dashboards deploy tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/mypy bench/ingest.py bench/simulate.py bench/routing.py bench/forecast.py bench/detector.py bench/detector_sim.py bench/potholes.py bench/coverage.py bench/api.py bench/road_features.py bench/roughness.py bench/drive_upload.py bench/device_http.py bench/bins.py bench/screenshots.py bench/replay.py bench/fill_rates.py bench/soak.py bench/scale.py bench/jobs.py

clean:
	rm -rf $(VENV) .smartstreets .mypy_cache .ruff_cache .pytest_cache
