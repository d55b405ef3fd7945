#!/usr/bin/env bash
# Linear, mel (80 bands) and log (36 bands per octave, 50 Hz to Nyquist)
# axes at the hifigan preset's framing (22050 Hz, n_fft 1024, hop 256, win
# 1024), each clip of ../shared/data/audio/eval encoded to a 16-bit PNG,
# decoded, and inverted by pghi+fgla (100 iterations, seed 0).
# Run from the project root:  bash experiments/axes/run.sh
# Writes experiments/axes/{linear,mel80,log36,log36_7oct}/ and results.md.
# The constant-Q comparison is cqt_path.py; the redundancy check redundancy.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/axes
metrics=sc_db,mel_l1,lsd_db,consistency_db,hallucinated_db,missing_db
declare -A axes=(
  [linear]="--scale linear"
  [mel80]=""
  [log36]="--scale log --bands-per-octave 36 --fmin 50"
  # the band librosa's icqt can invert here (7 octaves from 50 Hz), to compare with cqt_path.py
  [log36_7oct]="--scale log --bands-per-octave 36 --fmin 50 --fmax 6278"
)
uptime > "$here/load.txt"
for name in linear mel80 log36 log36_7oct; do
  rm -rf "$here/$name"
  # shellcheck disable=SC2086
  .venv/bin/vocoder bench ../shared/data/audio/eval --preset hifigan ${axes[$name]} \
    --backends pghi+fgla --iters 100 --seed 0 --metrics "$metrics" \
    --kind 'trumpet*=monophonic' --kind 'brahms*=polyphonic' \
    --report-audio none --out "$here/$name"
  uptime >> "$here/load.txt"
done
.venv/bin/python "$here/tabulate.py"
