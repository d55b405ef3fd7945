#!/usr/bin/env bash
# `make test` draws pictures with the programs examiners take screenshots of
# (tests/screenshot_programs.py: SoX, FFmpeg, Praat, Octave + its signal
# package), reads their tick labels with Tesseract, and opens the report in a
# headless Chromium (tests/test_report.py). Installs the Debian packages that are
# missing, in one apt-get call, when this user can (root with apt-get);
# otherwise says what to install. Never fails the make: without a program its
# tests skip locally and fail under CI=true, where the reason is printed.
#
# gnuplot-nox, ghostscript: the graphics toolkit the Octave drawer asks for, and
# what its print() converts through (apt does not
# pull them in without recommends, and Octave prints no figure without them).
# fonts-freefont-otf: Debian's octave looks for GNU FreeFont at a path fixed at
# build time and cannot draw axes without it (tests fall back to DejaVu Sans).
set -u
PACKAGES="tesseract-ocr tesseract-ocr-eng ffmpeg sox praat octave octave-signal gnuplot-nox ghostscript fonts-freefont-otf chromium"

installed() {  # a Debian package, or for chromium any headless browser on the PATH
  if [ "$1" = chromium ]; then
    for name in chromium chromium-browser google-chrome; do
      command -v "$name" >/dev/null 2>&1 && return 0
    done
    return 1
  fi
  command -v dpkg-query >/dev/null 2>&1 &&
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=""
for package in $PACKAGES; do
  installed "$package" || missing="$missing $package"
done
missing="${missing# }"
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's $missing for the screenshot, OCR and report tests (apt-get, a few minutes)" >&2
  # shellcheck disable=SC2086  # one word per package
  if DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 &&
     DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
    exit 0
  fi
  echo "warning: apt-get could not install $missing; the tests that need them will not run" >&2
else
  echo "note: the screenshot, OCR and report tests need programs this machine lacks; install them" \
       "(sudo apt-get install $missing) to run those tests (they skip without them, and fail under CI=true)" >&2
fi
exit 0
