#!/usr/bin/env bash
# The learned-vs-classical study: every clip of ../shared/data/audio/eval, two
# of the LJ Speech clips of ../shared/data/audio/ljspeech (LJ001-0002, -0008:
# short, and in the training data of both the LJ model and the tiny model) and
# the synthetic clips (make_synthetic.py), `hifigan` preset, through fgla,
# pghi+fgla, the two official HiFi-GAN V1 models and the tiny 100-batch model,
# in three input conditions: a clean 16-bit PNG, an 8-bit PNG blurred by
# 0.7 px, and (on one clip per kind) an 8-bit PNG. Then analyse.py groups the
# results by content kind.
# The other 22 LJ training clips and the pitch metrics are left out to keep the
# run near an hour and a half on 2 busy shared cores (README.md says so);
# STUDY_LJ=all adds them.
#
# Run from the project root:
#   bash experiments/learned-vs-classical/run.sh          # the study (needs vocoder[pretrained])
#   bash experiments/learned-vs-classical/run.sh dev      # classical + tiny only, 10 iterations, few clips
# Writes experiments/learned-vs-classical/runs/{clean,png8-blur0.7,png8}/ (+ .log) and
# runs/analysis/ (dev: dev/). audio/, images/, per-run plots and report.html are
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
metrics=sc_db,consistency_db,mel_l1,pesq,stoi,hallucinated_db,missing_db,out_of_band_db

.venv/bin/python "$here/make_synthetic.py" "$here/synthetic"
if [ "$mode" = dev ]; then
  out=$here/dev
  backends="fgla,pghi+fgla,hifigan:checkpoint=$tiny"
  inputs=(../shared/data/audio/eval ../shared/data/audio/ljspeech/LJ001-0001.wav "$here/synthetic")
  extra=(--iters 10)
else
  out=$here/runs
  backends="fgla,pghi+fgla,hifigan:checkpoint=hifigan-v1-lj,hifigan:checkpoint=hifigan-v1-universal,hifigan:checkpoint=$tiny"
  if [ "${STUDY_LJ:-}" = all ]; then lj=(../shared/data/audio/ljspeech); else
    lj=(../shared/data/audio/ljspeech/LJ001-0002.wav ../shared/data/audio/ljspeech/LJ001-0008.wav); fi
  inputs=(../shared/data/audio/eval "${lj[@]}" "$here/synthetic")
  extra=()
fi
mkdir -p "$out"
# The three conditions run side by side, one thread each (2 shared cores): the
# numbers do not depend on it, only the timing columns do (not reported).
# The 8-bit-only condition runs on a subset (one clip per kind; all of them did
# not fit in the time this run had): analyse.py compares it with the clean run
# on the same clips.
subset=(../shared/data/audio/eval/LJ001-0028.wav ../shared/data/audio/eval/cmu_arctic_us_aew_a0001.wav
        ../shared/data/audio/eval/trumpet.ogg "$here"/synthetic/synth_{birdlike_chirps,noise_white,tone_440}.wav)
pids=()
for condition in ${STUDY_CONDITIONS:-clean:16:0 png8-blur0.7:8:0.7 png8:8:0}; do
  IFS=: read -r name bits sigma <<< "$condition"
  rm -rf "${out:?}/$name"
  clips=("${inputs[@]}")
  if [ "$name" = png8 ] && [ "$mode" != dev ]; then clips=("${subset[@]}"); fi
  echo "== $name: $bits-bit PNG, blur $sigma px, started $(date -u +%H:%M:%S), log $out/$name.log"
  OMP_NUM_THREADS=${STUDY_THREADS:-1} .venv/bin/vocoder bench "${clips[@]}" --preset hifigan \
    --backends "$backends" --seed 0 "${extra[@]}" --png-bits "$bits" --blur "$sigma" --metrics "$metrics" \
    "${kinds[@]}" --report-audio link --out "$out/$name" > "$out/$name.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
echo "== analysis ($(date -u +%H:%M:%S))"
.venv/bin/python "$here/analyse.py" "$out"
