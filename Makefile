# The two commands: `make run` and `make test`. Both install what they need into .venv first.
# `make help` lists the rest (serving, the image); docs/deployment.md has the details.
PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed-stamp
HOST    ?= 0.0.0.0
PORT    ?= 3000
WORKERS ?= 1
IMAGE   ?= fixit

# what to tell someone to type again, with a newer Python
AGAIN   := make PYTHON=python3.12$(if $(strip $(MAKECMDGOALS)), $(strip $(MAKECMDGOALS)))
# prints major.minor of the interpreter it is given (nothing when that does not run)
VERSION := -c 'import sys; print("%d.%d" % sys.version_info[:2])'
# true when $$v (major.minor) is 3.11 or newer
NEW_ENOUGH := case "$$v" in 3.1[1-9]|3.[2-9][0-9]|[4-9].*) true;; *) false;; esac

.DEFAULT_GOAL := install

.PHONY: help install python-check run serve serve-socket ready test kb-check eval fit bench bench-instructions \
        lint image clean

help:
	@echo "make run           Fixit: Socket Mode with Slack tokens in .env, else the offline console"
	@echo "make test          ruff and the whole test suite"
	@echo "make serve         Slack over HTTP: /slack/events, /healthz, /readyz on HOST:PORT (now $(HOST):$(PORT)), WORKERS=$(WORKERS)"
	@echo "make serve-socket  Slack in Socket Mode (SLACK_APP_TOKEN; probes on FIXIT_HEALTH_PORT when set)"
	@echo "make ready         ask a running server's /readyz on 127.0.0.1:PORT"
	@echo "make kb-check      validate the knowledge base"
	@echo "make image         docker build -t $(IMAGE) ."
	@echo "make clean         remove .venv and caches"
	@echo "Python 3.11+ is needed; another one: make PYTHON=python3.12 …"

# Before anything is created: a .venv built with a Python too old, or an interpreter too old to build one,
# stops here in one line (pip would otherwise spend minutes failing to resolve the dependencies).
python-check:
	@if [ -e $(BIN)/python ] || [ -L $(BIN)/python ]; then \
	  v=$$($(BIN)/python $(VERSION) 2>/dev/null); \
	  if [ -z "$$v" ]; then \
	    echo "fixit: $(VENV) is broken (its python does not run) — run \`make clean\`, then \`$(AGAIN)\`" >&2; exit 1; \
	  fi; \
	  if ! $(NEW_ENOUGH); then \
	    echo "fixit: $(VENV) was built with Python $$v; Fixit needs Python 3.11+ — run \`make clean\`, then \`$(AGAIN)\`" >&2; \
	    exit 1; \
	  fi; \
	else \
	  p=$$(command -v $(PYTHON) 2>/dev/null); \
	  if [ -z "$$p" ]; then \
	    echo "Fixit needs Python 3.11+; found no \`$(PYTHON)\` — run \`$(AGAIN)\`" >&2; exit 1; \
	  fi; \
	  v=$$($(PYTHON) $(VERSION) 2>/dev/null); \
	  if ! $(NEW_ENOUGH); then \
	    echo "Fixit needs Python 3.11+; found $${v:-a python that does not run} at $$p — run \`$(AGAIN)\`" >&2; \
	    exit 1; \
	  fi; \
	fi

$(STAMP): pyproject.toml | python-check
	@if [ ! -x $(BIN)/python ]; then \
	  $(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
	    echo "fixit: creating $(VENV) with $(PYTHON) failed (above); the half-built $(VENV) was removed, so the next make starts again (Debian/Ubuntu: apt install python3-venv)" >&2; \
	    exit 1; }; \
	fi
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]' || { rm -f $(STAMP); \
	  echo "fixit: pip install into $(VENV) failed (above); it is not marked installed, so the next make retries the install" >&2; \
	  exit 1; }
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	@$(BIN)/python -m bot run

# HTTP mode, as the image runs it; behind a proxy on this host: make serve HOST=127.0.0.1
serve: $(STAMP)
	$(BIN)/python -m bot serve --http --host $(HOST) --port $(PORT) --workers $(WORKERS)

serve-socket: $(STAMP)
	$(BIN)/python -m bot serve

ready:
	@$(PYTHON) -c "$$(printf '%s\n' 'import http.client, sys' 'try:' \
	  ' c = http.client.HTTPConnection("127.0.0.1", $(PORT), timeout=5); c.request("GET", "/readyz")' \
	  ' r = c.getresponse()' 'except OSError as e:' ' sys.exit("nothing answers on 127.0.0.1:$(PORT) (%s)" % e)' \
	  'print(r.status, r.read().decode()); sys.exit(r.status != 200)')"

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

# the image (Dockerfile; needs a Docker engine): docker run --env-file .env -p 3000:3000 $(IMAGE)
image:
	docker build -t $(IMAGE) .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache

# refit the decision model on the dev sets (writes bot/match/model.json)
fit: $(STAMP)
	$(BIN)/python -m bot fit
