# eventwire: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB ?= demo.duckdb

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,dev,web]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	@rm -f $(DEMO_DB)
	$(BIN)/eventwire ingest examples --db $(DEMO_DB)
	$(BIN)/eventwire events --db $(DEMO_DB) --limit 40
	@echo
	@echo "Database: $(abspath $(DEMO_DB))"
	@echo "Next, try:"
	@echo "  $(BIN)/eventwire events --db $(DEMO_DB) --type ASSAULT --format json"
	@echo "  $(BIN)/eventwire events --db $(DEMO_DB) --format geojson -o events.geojson"
	@echo "  $(BIN)/eventwire stats --db $(DEMO_DB)"
	@echo "  $(BIN)/eventwire extract ../shared/seed/syria-sitrep.txt --published 2020-12-10"
	@echo
	@echo "Serving the map and REST API of $(DEMO_DB) (Ctrl-C to stop):"
	$(BIN)/eventwire serve --db $(DEMO_DB)

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy src/eventwire

bench: $(STAMP)
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache $(DEMO_DB)
