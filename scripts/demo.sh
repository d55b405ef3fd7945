#!/usr/bin/env bash
# The demo `make demo` runs: encode a bundled speech clip to a spectrogram PNG,
# invert it with fgla, and sonify a bundled picture. Needs only this repo.
# Usage: scripts/demo.sh [OUTDIR]   (the `vocoder` command must be on PATH)
# OUTDIR is the demo's own scratch folder, so a rerun replaces its files (--force).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$here/demo-out}"
mkdir -p "$out"

echo "== 1. speech → spectrogram PNG (HiFi-GAN mel spec, 16-bit, spec embedded)"
vocoder encode "$here/samples/LJ001-0006.wav" -o "$out/speech.png" --preset hifigan --preview --force

echo "== 2. spectrogram PNG → speech with fast Griffin-Lim (100 iterations)"
vocoder invert "$out/speech.png" -o "$out/speech_fgla.wav" --backend fgla --iters 100 --preview --force

echo "== 3. a photograph of a sign → sound (no metadata: linear spec, one frame per column)"
vocoder invert "$here/samples/text.png" -o "$out/text.wav" --backend fgla --preview --force

echo
echo "Outputs in $out:"
echo "  spectrogram image      $out/speech.png   (inspect with: vocoder info $out/speech.png)"
echo "  reconstructed speech   $out/speech_fgla.wav   record: $out/speech_fgla.wav.json"
echo "  sonified picture       $out/text.wav   record: $out/text.wav.json"
echo "  previews               $out/*.preview.png"
