#!/usr/bin/env bash
# `make lock`: re-resolve the hashed lock from pyproject.toml's ranges, on
# purpose, for the one supported platform (Linux x86-64, CPython 3.11).
# uv resolves for a named target platform whatever machine runs it, writes
# every file's sha256, and is itself pinned here so that a refresh is
# repeatable (docs/environment.md says why uv).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cd "$here"
UV_VERSION=0.13.9
tools=.lock-tools
if ! "$tools/bin/uv" --version 2>/dev/null | grep -q "uv $UV_VERSION"; then
  python3 -m venv "$tools"
  "$tools/bin/python" -m pip install --quiet "uv==$UV_VERSION"
fi
target=(--python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes
        --custom-compile-command "make lock" --quiet)
"$tools/bin/uv" pip compile pyproject.toml vocoder/locks/build.in --extra dev --extra pretrained \
  "${target[@]}" -o vocoder/locks/linux-x86_64-cp311.txt "$@"
# The build tools alone, at the versions of the full lock (installed first: see build.in).
"$tools/bin/uv" pip compile vocoder/locks/build.in -c vocoder/locks/linux-x86_64-cp311.txt \
  "${target[@]}" -o vocoder/locks/build-linux-x86_64-cp311.txt
echo "wrote vocoder/locks/linux-x86_64-cp311.txt and vocoder/locks/build-linux-x86_64-cp311.txt" >&2
