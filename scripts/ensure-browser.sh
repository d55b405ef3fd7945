#!/usr/bin/env bash
# `make test` needs a headless Chromium for the report's browser test
# (tests/test_report.py). Installs Debian's `chromium` when none is on the
# PATH and this user can (root with apt-get); otherwise says what to do.
# Never fails the make: without a browser that one test skips locally and
# fails under CI=true, where the reason is printed.
set -u
for name in chromium chromium-browser google-chrome; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium for the report's browser test (apt-get, about a minute)" >&2
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
     DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; then
    exit 0
  fi
  echo "warning: apt-get could not install chromium; the report's browser test will not run" >&2
else
  echo "note: no headless Chromium found; install it (sudo apt-get install chromium) to run the report's" \
       "browser test (it skips without one, and fails under CI=true)" >&2
fi
exit 0
