# MedAI Workbench. `make run` serves the app; `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: run test browser postgres benchmark clean

# constraints.txt pins every indirect dependency too, at the versions the tests passed with.
$(VENV)/.installed: requirements.txt requirements-nodeps.txt constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt -c constraints.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt constraints.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	touch $@

run: $(VENV)/.installed
	$(PY) serve.py --server.port $(PORT)

# Debian's Chromium for the end-to-end test (Playwright is pointed at it; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null)

# Debian's PostgreSQL server binaries for the store tests; the tests start and stop their own throw-away
# cluster (initdb + pg_ctl on 127.0.0.1), so the package's own service is neither needed nor started.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ($(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends postgresql >/dev/null)

test: $(VENV)/.dev-installed browser postgres
	$(PY) -m pytest

benchmark: $(VENV)/.installed
	$(PY) benchmarks/diagnose.py

clean:
	rm -rf $(VENV) .cache .pytest_cache test-artifacts
