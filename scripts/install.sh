#!/usr/bin/env bash
# Create (or reuse) .venv and install exactly the locked environment into it:
# every package at the version and sha256 of vocoder/locks/, then the project
# itself without dependencies. `make demo` and `make test` run this.
#
# The lock is for Linux x86-64 and CPython 3.11. Elsewhere this refuses; with
# VOCODER_UNLOCKED=1 it installs from pyproject.toml's ranges instead, and
# every record then says the environment does not match the lock.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
venv=.venv
lock=vocoder/locks/linux-x86_64-cp311.txt
build=vocoder/locks/build-linux-x86_64-cp311.txt

python="${PYTHON:-}"
if [ -z "$python" ]; then
  python=python3
  command -v python3.11 >/dev/null 2>&1 && python=python3.11
fi
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
pyver="$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
platform="$(uname -s)-$(uname -m)"

if [ "${VOCODER_UNLOCKED:-}" = "1" ]; then
  echo "installing from pyproject.toml's ranges (VOCODER_UNLOCKED=1): records will say the environment is not the locked one" >&2
  "$venv/bin/python" -m pip install --quiet -e '.[dev,pretrained]'
  exit 0
fi
if [ "$pyver" != "3.11" ] || [ "$platform" != "Linux-x86_64" ]; then
  echo "make: the lock is for CPython 3.11 on Linux x86-64; this is CPython $pyver on $platform" \
       "(delete .venv and set PYTHON=python3.11, or run with VOCODER_UNLOCKED=1 to install from version ranges)" >&2
  exit 2
fi

pip=("$venv/bin/python" -m pip install --quiet --require-hashes --no-deps)
# 1. The tools that build the one source-only package (see vocoder/locks/build.in).
"${pip[@]}" --only-binary :all: -r "$build"
# 2. Everything else, each file checked against its sha256; sources build with
#    the tools just installed rather than in an unhashed isolated environment.
"${pip[@]}" --no-build-isolation -r "$lock"
# 3. The project itself, editable, adding nothing.
"$venv/bin/python" -m pip install --quiet --no-deps --no-build-isolation -e .
