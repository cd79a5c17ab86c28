# Everything a fresh machine needs: `make test` and `make demo` create .venv and install.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: test demo lint typecheck bench system-deps clean

# torch is pinned first: an unpinned torch would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[all,dev]"
	touch $(STAMP)

# Debian packages: chromium for the browser tests, fashion-mnist for the demo image set.
system-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -d /usr/share/datasets/fashion-mnist ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium dataset-fashion-mnist >/dev/null; \
		else \
			echo "needs Debian packages chromium and dataset-fashion-mnist: sudo apt-get install chromium dataset-fashion-mnist" >&2; exit 1; \
		fi; \
	fi

lint: $(STAMP)
	$(VENV)/bin/ruff check feder tests benchmarks
	$(VENV)/bin/mypy

test: $(STAMP) system-deps lint
	$(VENV)/bin/pytest -q

demo: $(STAMP) system-deps
	$(PY) -m feder.demo --out $(OUT)

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
