# Every target creates or refreshes the local virtual environment by itself:
# on a fresh machine `make run` and `make test` are the only commands needed.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= out/ghz-noisy
DEPOSIT ?= benchmarks/deposits/ghz-noisy
PYTEST_ARGS ?=

.PHONY: run test test-slow bench lint venv deposits schema validity clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (qrepro needs Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
# --compile-bytecode: the packages' .pyc are written now, so that qrepro starts fast even
# where Python cannot write them later (PYTHONDONTWRITEBYTECODE, a read-only venv)
	$(BIN)/uv pip install --python $(BIN)/python --quiet --compile-bytecode -e '.[dev]'
	@touch $(STAMP)

# qrepro's own modules as bytecode too (an editable install's are not compiled, and where
# PYTHONDONTWRITEBYTECODE is set Python never writes them): skips what is up to date
BYTECODE = $(BIN)/python -m compileall -q -j 0 harness runners reports benchmarks

venv: $(STAMP)

run: $(STAMP)
	@$(BYTECODE)
	$(BIN)/qrepro evaluate $(DEPOSIT) --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -rs -m "not slow" $(PYTEST_ARGS)

# evaluations too long for make test's 20 minutes (e.g. 15 notebook trainings): run before a
# release and after touching the fresh-seed check
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -rs -m slow $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check harness runners reports tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-logo

bench: $(STAMP)
	@$(BYTECODE)
	$(BIN)/python -m benchmarks.perf.run $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.perf.batch

validity: $(STAMP)
	$(BIN)/python -m benchmarks.validity.study

deposits: $(STAMP)
	$(BIN)/python benchmarks/deposits/generate_ghz.py
	$(BIN)/python benchmarks/deposits/generate_hostile.py
	$(BIN)/python benchmarks/deposits/generate_notebooks.py
	$(BIN)/python benchmarks/deposits/generate_qv.py
	$(BIN)/python benchmarks/deposits/generate_compare.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache

schema: $(STAMP)
	$(BIN)/qrepro schema > harness/schema/qdata-v1.schema.json
	$(BIN)/qrepro schema --report > harness/schema/report-v1.schema.json
