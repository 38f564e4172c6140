# Two commands do all the set-up on a fresh clone: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-requirements
DEV_STAMP := $(VENV)/.installed-requirements-dev

.PHONY: venv dev demo test lint fuzz bench bench-extract bench-dedup bench-crawl bench-export bench-serve bench-hostile bench-shared clean

# Runtime only (requirements.txt): all `make demo` needs.
$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python 3.11 or newer is needed (set PYTHON=...)" >&2; exit 2; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	@touch $(STAMP)

# Tests, lint and benchmarks: requirements-dev.txt, on top of the runtime list.
$(DEV_STAMP): $(STAMP) requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	@touch $(DEV_STAMP)

venv: $(STAMP)

dev: $(DEV_STAMP)

demo: venv
	$(BIN)/python -m crawler demo

test: dev lint
	$(BIN)/python -m pytest -q

lint: dev
	$(BIN)/python -m ruff check .

# The fuzz suite (tests/test_fuzz.py) for FUZZ_SECONDS (a short pass of it is part of `make test`).
FUZZ_SECONDS ?= 600
fuzz: dev
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python scripts/fuzz.py

bench: bench-extract bench-dedup bench-crawl bench-export bench-serve bench-hostile bench-shared

bench-extract: dev
	$(BIN)/python benchmarks/bench_extract.py --write

bench-dedup: dev
	$(BIN)/python benchmarks/bench_dedup.py --write
	$(BIN)/python benchmarks/eval_corpus.py --write
	$(BIN)/python benchmarks/bench_import.py --write

bench-crawl: dev
	$(BIN)/python benchmarks/bench_crawl.py --write

bench-export: dev
	$(BIN)/python benchmarks/bench_export.py --write

bench-serve: dev
	$(BIN)/python benchmarks/bench_serve.py --write

bench-hostile: dev
	$(BIN)/python benchmarks/bench_hostile.py --write

# Shared crawl (crawl --redis) with 1, 2 and 3 workers: needs PostgreSQL and Redis on 127.0.0.1.
bench-shared: dev
	$(BIN)/python benchmarks/bench_shared.py --write

clean:
	rm -rf data/demo .pytest_cache
