# Two commands matter: `make demo` (end to end on the embedded warehouse) and `make test`.
# Both create the environment from uv.lock on first use; nothing else needs installing.

PYTHON ?= python3
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv
VENV   := .venv
STAMP  := $(VENV)/.synced
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: demo test lint bench bench-ingest bench-ifood bench-payments bench-sandbox bench-sink env clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==0.13.8

# The Compose schema ships inside the docker-compose 1.29.2 wheel; tests validate against it.
COMPOSE_WHEEL := $(TOOLS)/wheels/docker_compose-1.29.2-py2.py3-none-any.whl

$(STAMP): $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --python $(PYTHON)
	$(TOOLS)/bin/pip download --quiet --no-deps --only-binary=:all: -d $(TOOLS)/wheels docker-compose==1.29.2
	@touch $(STAMP)

env: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/conciliador demo

test: $(STAMP)
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .

bench: bench-ingest bench-ifood bench-payments bench-sandbox bench-sink

bench-ingest: $(STAMP)
	$(VENV)/bin/python -m bench.ingest $(ARGS)

# Default 100k orders (a few minutes on 2 cores once loaded); 1M: make bench-ifood ARGS="--orders 1000000"
bench-ifood: $(STAMP)
	$(VENV)/bin/python -m bench.ifood $(ARGS)

# Default ~50k gateway payments (a few minutes on 2 cores; loading is cached); 1M: make bench-payments ARGS="--payments 1000000"
bench-payments: $(STAMP)
	$(VENV)/bin/python -m bench.payments $(ARGS)

# World generation (1M bank transactions) and one server process paging 150k of them.
bench-sandbox: $(STAMP)
	$(VENV)/bin/python -m bench.sandbox $(ARGS)

# The webhook sink at 32 connections with a real commit per delivery, against a no-op app on the same server (about a minute).
bench-sink: $(STAMP)
	$(VENV)/bin/python -m bench.sink $(ARGS)

clean:
	-$(VENV)/bin/conciliador db down
	rm -rf .conciliador $(VENV) $(TOOLS)
