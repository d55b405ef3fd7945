"""Round trip audio → 16-bit PNG → fgla → audio on every LJ Speech clip in
../shared/data/audio/ljspeech, at the `linear` and `hifigan` presets.

Reports, per clip: spectral convergence of the output against the original
linear magnitude (dB), mean |Δ ln mel| (hifigan preset) and wall seconds.
Usage (from the project root):
    .venv/bin/python experiments/foundation-roundtrip/run.py > experiments/foundation-roundtrip/results.md
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio
from vocoder.frontend.filterbank import MelAxis
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import read_picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend.spectrogram_png import spectrogram_to_png
from vocoder.frontend.stft import magnitude
from vocoder.inversion import create
from vocoder.spec import PRESETS

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "audio" / "ljspeech"
ITERS = 100


def sc_db(estimate, reference):
    return float(20 * torch.log10(torch.linalg.vector_norm(estimate - reference) / torch.linalg.vector_norm(reference)))


def round_trip(path: Path, preset: str, folder: Path) -> dict:
    spec = PRESETS[preset]
    audio = read_audio(path)
    original = audio_to_spectrogram(audio, spec)
    data, _ = spectrogram_to_png(original, bits=16)
    png = folder / "x.png"
    png.write_bytes(data)
    decoded = image_to_spectrogram(read_picture(png), None, PictureOptions())
    backend = create("fgla", iters=ITERS, seed=0)
    started = time.perf_counter()
    prepared = backend.prepare(decoded)
    waveform = backend.invert(prepared)
    seconds = time.perf_counter() - started
    linear = PRESETS["linear"]
    row = {"clip": path.stem, "preset": preset, "seconds": seconds, "audio_s": audio.samples.shape[1] / audio.sample_rate,
           "sc_db": sc_db(magnitude(waveform, linear), magnitude(audio.samples, linear))}
    if isinstance(spec.axis, MelAxis):
        again = audio_to_spectrogram(Audio(waveform, spec.sample_rate), spec)
        row["mel_l1"] = float((again.log_features() - original.log_features()).abs().mean())
    return row


def main() -> None:
    clips = sorted(DATA.glob("*.wav"))
    if not clips:
        sys.exit(f"no clips in {DATA}")
    torch.manual_seed(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for preset in ("linear", "hifigan"):
            for clip in clips:
                rows.append(round_trip(clip, preset, Path(tmp)))
    print(f"# fgla ({ITERS} iterations, momentum 0.99, seed 0) after a 16-bit PNG round trip\n")
    print(f"{len(clips)} LJ Speech clips, torch {torch.__version__}, {torch.get_num_threads()} threads.\n")
    print("SC: spectral convergence of the output's linear STFT magnitude (n_fft 1024, hop 256) against the")
    print("original audio's, in dB. mel L1: mean |ln mel(output) - ln mel(original)| under the hifigan spec.\n")
    print("| preset | SC mean (dB) | SC worst (dB) | mel L1 mean | mel L1 worst | real-time factor |")
    print("|---|---|---|---|---|---|")
    for preset in ("linear", "hifigan"):
        part = [r for r in rows if r["preset"] == preset]
        sc = [r["sc_db"] for r in part]
        rtf = sum(r["seconds"] for r in part) / sum(r["audio_s"] for r in part)
        mel = [r["mel_l1"] for r in part if "mel_l1" in r]
        mel_cells = f"{statistics.mean(mel):.3f} | {max(mel):.3f}" if mel else "— | —"
        print(f"| {preset} | {statistics.mean(sc):.1f} | {max(sc):.1f} | {mel_cells} | {rtf:.3f} |")
    print("\n## Per clip\n")
    print("| clip | preset | SC (dB) | mel L1 | seconds |")
    print("|---|---|---|---|---|")
    for r in rows:
        mel = f"{r['mel_l1']:.3f}" if "mel_l1" in r else ""
        print(f"| {r['clip']} | {r['preset']} | {r['sc_db']:.1f} | {mel} | {r['seconds']:.2f} |")


if __name__ == "__main__":
    main()
