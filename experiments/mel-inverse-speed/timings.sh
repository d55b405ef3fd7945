#!/bin/sh
# 60 s of LJ Speech (LJ001-0001… concatenated, cut to 60.0 s) encoded as the
# hifigan mel picture and, with the same STFT, as a linear one; each inverted
# with fgla --iters 1 --timings under BEFORE's and AFTER's code; then
# nnls_inverse alone. Usage: timings.sh BEFORE_TREE AFTER_TREE WORKDIR (WORKDIR holds speech60.wav)
set -e
BEFORE=$1 AFTER=$2 WORK=$3 PY=${PYTHON:-python}
cd "$WORK"
PYTHONPATH=$AFTER $PY -m vocoder encode speech60.wav -o mel60.png --preset hifigan --force >/dev/null
PYTHONPATH=$AFTER $PY -m vocoder encode speech60.wav -o lin60.png --preset hifigan --scale linear --force >/dev/null
uptime
for tree in "$BEFORE" "$AFTER"; do for x in mel60 lin60; do
  PYTHONPATH=$tree /usr/bin/time -f "$tree $x: %e s process wall" $PY -m vocoder invert $x.png -o $x.wav \
    --backend fgla --iters 1 --timings --force >/dev/null
  grep -o '"inversion": [0-9.]*\|"total": [0-9.]*' $x.wav.json | tr '\n' ' '; echo
done; PYTHONPATH=$tree $PY "$AFTER/experiments/mel-inverse-speed/nnls_alone.py" mel60.png; done
uptime
