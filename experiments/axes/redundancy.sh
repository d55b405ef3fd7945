#!/usr/bin/env bash
# Does redundancy (n_fft / hop) matter to each classical backend? n_fft 1024
# (linear preset) with hop 512, 256, 128 (redundancy 2, 4, 8), fgla, pghi and
# pghi+fgla at 100 iterations, on one speech clip and the trumpet.
# Run from the project root:  bash experiments/axes/redundancy.sh
# Prints one line per run (hop, clip, backend, SC in the spectrogram's own
# domain, M-STFT distance at fixed resolutions, PESQ) into redundancy.txt.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/axes
out=$(mktemp -d)
uptime > "$here/redundancy.txt"
for hop in 512 256 128; do
  .venv/bin/vocoder bench ../shared/data/audio/eval/LJ001-0028.wav ../shared/data/audio/eval/trumpet.ogg \
    --kind 'trumpet*=monophonic' --backends fgla,pghi,pghi+fgla --iters 100 --metrics sc_db,mstft,pesq \
    --hop "$hop" --report-audio none --out "$out/h$hop" > /dev/null
  .venv/bin/python -c "
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(sys.argv[2], r['clip'], r['backend'], round(float(r['sc_db']), 2), round(float(r['mstft']), 3), r['pesq'][:5] or '-')
" "$out/h$hop/results.csv" "$hop" >> "$here/redundancy.txt"
done
uptime >> "$here/redundancy.txt"
rm -rf "$out"
cat "$here/redundancy.txt"
