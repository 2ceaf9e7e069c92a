# The two commands: `make run` and `make test`. Both install what they need into .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test kb-check eval fit bench bench-instructions lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(BIN)/python -m bot run

test: $(STAMP)
	$(BIN)/python -m ruff check bot tests bench
	$(BIN)/python -m pytest

kb-check: $(STAMP)
	$(BIN)/python -m bot kb check

# every labelled set, Fixit beside the BM25-over-articles peer (the peer needs ../shared/reference)
eval: $(STAMP)
	$(BIN)/python bench/eval_table.py

bench: $(STAMP)
	$(BIN)/python bench/bench_hostile.py
	$(BIN)/python bench/bench_match.py
	$(BIN)/python bench/bench_slack.py

# instruction counts under valgrind's callgrind: repeatable where timings drift (needs valgrind)
bench-instructions: $(STAMP)
	$(BIN)/python bench/bench_slack.py --instructions
	$(BIN)/python bench/bench_parts.py

lint: $(STAMP)
	$(BIN)/python -m ruff check bot tests bench

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache

# refit the decision model on the dev sets (writes bot/match/model.json)
fit: $(STAMP)
	$(BIN)/python -m bot fit
