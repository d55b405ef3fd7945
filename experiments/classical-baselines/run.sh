#!/usr/bin/env bash
# Classical baselines on ../shared/data/audio/eval: griffinlim and fgla at 32
# and 100 iterations, at the hifigan (mel) and linear presets.
# Run from the project root:  bash experiments/classical-baselines/run.sh
# Writes experiments/classical-baselines/{linear,hifigan}/ (audio/ and images/
# are git-ignored: rerun to regenerate them).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/classical-baselines
for preset in linear hifigan; do
  rm -rf "$here/$preset"
  .venv/bin/vocoder bench ../shared/data/audio/eval --preset "$preset" \
    --backends griffinlim:iters=32,griffinlim:iters=100,fgla:iters=32,fgla:iters=100 \
    --seed 0 --kind 'trumpet*=monophonic' --kind 'brahms*=polyphonic' \
    --report-audio link --out "$here/$preset"
done
