#!/usr/bin/env bash
# The learned-vs-classical study: every clip of ../shared/data/audio/eval, the
# LJ Speech clips of ../shared/data/audio/ljspeech and the synthetic clips
# (make_synthetic.py), `hifigan` preset, through fgla, pghi+fgla, the two
# official HiFi-GAN V1 models and the tiny 100-batch model, in three input
# conditions: a clean 16-bit PNG, an 8-bit PNG, and an 8-bit PNG blurred by
# 0.7 px. Then analyse.py groups the results by content kind.
#
# Run from the project root:
#   bash experiments/learned-vs-classical/run.sh          # the study (needs vocoder[pretrained])
#   bash experiments/learned-vs-classical/run.sh dev      # classical + tiny only, 10 iterations, few clips
# Writes experiments/learned-vs-classical/runs/{clean,png8,png8-blur0.7}/ and
# analysis/ (dev: dev/). audio/, images/, per-run plots and report.html are
# git-ignored: rerun to regenerate them.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=experiments/learned-vs-classical
mode=${1:-study}
tiny=checkpoints/hifigan_tiny/hifigan_tiny-100batches.safetensors
# Which clips get which bench kind (it decides which metrics apply: PESQ/STOI for
# speech only, F0 for single voices). The study's content kinds are in clips.csv.
kinds=(--kind 'trumpet*=monophonic' --kind 'brahms*=polyphonic' --kind 'synth_noise*=polyphonic'
       --kind 'synth_*=monophonic')
metrics=sc_db,consistency_db,mel_l1,lsd_db,mstft,pesq,stoi,f0_rmse_cents,hallucinated_db,missing_db,out_of_band_db

.venv/bin/python "$here/make_synthetic.py" "$here/synthetic"
if [ "$mode" = dev ]; then
  out=$here/dev
  backends="fgla,pghi+fgla,hifigan:checkpoint=$tiny"
  inputs=(../shared/data/audio/eval ../shared/data/audio/ljspeech/LJ001-0001.wav "$here/synthetic")
  extra=(--iters 10)
else
  out=$here/runs
  backends="fgla,pghi+fgla,hifigan:checkpoint=hifigan-v1-lj,hifigan:checkpoint=hifigan-v1-universal,hifigan:checkpoint=$tiny"
  inputs=(../shared/data/audio/eval ../shared/data/audio/ljspeech "$here/synthetic")
  extra=()
fi
rm -rf "$out"
mkdir -p "$out"
for condition in clean:16:0 png8:8:0 png8-blur0.7:8:0.7; do
  IFS=: read -r name bits sigma <<< "$condition"
  echo "== $name: $bits-bit PNG, blur $sigma px ($(date -u +%H:%M:%S))"
  .venv/bin/vocoder bench "${inputs[@]}" --preset hifigan --backends "$backends" --seed 0 "${extra[@]}" \
    --png-bits "$bits" --blur "$sigma" --metrics "$metrics" "${kinds[@]}" --report-audio link \
    --out "$out/$name"
done
echo "== analysis ($(date -u +%H:%M:%S))"
.venv/bin/python "$here/analyse.py" "$out"
