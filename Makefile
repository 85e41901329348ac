# eventwire: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO_DB ?= demo.duckdb

.PHONY: install demo test lint bench clean lock

# Exactly what CI tested: every dependency pinned with its hashes in requirements.lock.
$(STAMP): pyproject.toml requirements.lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

# Regenerate requirements.lock after changing a pin in pyproject.toml (needs the registry).
lock:
	@test -x $(VENV)-tools/bin/pip-compile || ($(PYTHON) -m venv $(VENV)-tools && \
		$(VENV)-tools/bin/pip install --quiet pip-tools==7.6.2)
	$(VENV)-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links \
		--extra test --extra dev --extra web --extra dask --extra parquet \
		-o requirements.lock pyproject.toml

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
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/mypy src/eventwire

bench: $(STAMP)
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache $(DEMO_DB)
