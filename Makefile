# Two commands do all the set-up: `make demo` and `make test`.
# Both create (or reuse) .venv and install the locked environment into it
# (scripts/install.sh: vocoder/locks/, hashes required).

VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test install lock clean

install: $(STAMP)

# Reinstall when the lock or the project's metadata changes.
$(STAMP): pyproject.toml vocoder/locks/linux-x86_64-cp311.txt vocoder/locks/build-linux-x86_64-cp311.txt
	bash scripts/install.sh
	touch $(STAMP)

# Re-resolve the lock from pyproject.toml's ranges (on purpose: it changes what users run).
lock:
	bash scripts/lock.sh

demo: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh demo-out

test: $(STAMP)
	bash scripts/ensure-system-tools.sh
	$(BIN)/python -m pytest

clean:
	rm -rf demo-out .pytest_cache
