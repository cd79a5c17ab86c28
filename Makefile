# Everything a fresh machine needs: `make test` and `make demo` create .venv and install.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: test demo lint typecheck bench system-deps js js-check clean
NPM_STAMP := js/node_modules/.installed

# torch is pinned first: an unpinned torch would pull GBs of CUDA wheels.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[all,dev]"
	touch $(STAMP)

# Debian packages: chromium for the browser tests, fashion-mnist for the demo image set,
# Node.js and npm for the front end's build check, type check, lint and unit tests.
system-deps:
	@missing=""; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	[ -d /usr/share/datasets/fashion-mnist ] || missing="$$missing dataset-fashion-mnist"; \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "needs Debian packages:$$missing (sudo apt-get install$$missing)" >&2; exit 1; \
		fi; \
	fi

# The front end's tools, pinned by js/package-lock.json (esbuild, typescript, biome).
$(NPM_STAMP): js/package.json js/package-lock.json | system-deps
	cd js && npm ci --no-audit --no-fund --loglevel=error
	touch $(NPM_STAMP)

# Rebuild feder/static/widget.js from js/src (commit the result).
js: $(NPM_STAMP)
	cd js && node build.mjs

# The committed bundle equals a fresh build; JSDoc types check; the linter is clean.
# (The node unit tests run inside pytest: tests/test_js.py writes their payload fixtures.)
js-check: $(NPM_STAMP)
	cd js && node build.mjs --check
	cd js && ./node_modules/.bin/tsc --noEmit -p jsconfig.json
	cd js && ./node_modules/.bin/biome lint src test build.mjs

lint: $(STAMP)
	$(VENV)/bin/ruff check feder tests benchmarks
	$(VENV)/bin/mypy

test: $(STAMP) system-deps lint js-check
	FEDER_REQUIRE_NODE=1 $(VENV)/bin/pytest -q

demo: $(STAMP) system-deps
	$(PY) -m feder.demo --out $(OUT)

bench: $(STAMP)
	$(PY) benchmarks/bench_core.py

clean:
	rm -rf $(VENV) $(OUT) js/node_modules .pytest_cache .mypy_cache .ruff_cache
