"""Fit before/after: the final audio of a mel picture against its reference.

For each clip (first 10 s of real recordings in ../shared/data): encode with
the hifigan preset (80-band mel), invert with fgla (32 iterations, default
seed) under each code tree, and compare the output's log-mel with the
reference's: mel L1 (mean |ln mel_out − ln mel_ref|, HiFi-GAN's floor 1e-5)
and spectral convergence (‖mel_out − mel_ref‖_F / ‖mel_ref‖_F).

    python experiments/mel-inverse-speed/fit.py BEFORE_TREE AFTER_TREE WORKDIR
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "audio"
CLIPS = ["eval/LJ001-0025.wav", "eval/LJ001-0027.wav", "eval/librispeech_5703-47212-0000.ogg",
         "eval/cmu_arctic_us_aew_a0001.wav", "eval/trumpet.ogg", "eval/brahms_hungarian_dance_5.ogg"]
PYTHON = sys.executable


def vocoder(tree, *args):
    subprocess.run([PYTHON, "-m", "vocoder", *args, "--force"], check=True, capture_output=True, cwd=tempfile.gettempdir(),
                   env={**os.environ, "PYTHONPATH": tree})


def log_mel(path, spec):
    from vocoder.frontend.audio import audio_to_spectrogram, read_audio, resample

    audio = resample(read_audio(path), spec.sample_rate)
    return torch.log(audio_to_spectrogram(audio, spec).magnitude.double().clamp_min(1e-5))


def main(before, after, work):
    sys.path.insert(0, after)
    from vocoder.spec import PRESETS

    spec = PRESETS["hifigan"]
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    for clip in CLIPS:
        name = Path(clip).stem
        data, rate = sf.read(DATA / clip, dtype="float32", always_2d=True)
        reference = work / f"{name}.wav"
        sf.write(reference, data[: 10 * rate, 0], rate, subtype="PCM_16")
        picture = work / f"{name}.png"
        vocoder(after, "encode", str(reference), "-o", str(picture), "--preset", "hifigan")
        ref = log_mel(reference, spec)
        row = {"clip": clip}
        for label, tree in (("before", before), ("after", after)):
            out = work / f"{name}-{label}.wav"
            vocoder(tree, "invert", str(picture), "-o", str(out), "--backend", "fgla", "--iters", "32")
            got = log_mel(out, spec)
            frames = min(ref.shape[-1], got.shape[-1])
            r, g = ref[..., :frames], got[..., :frames]
            row[f"{label}_mel_l1"] = float((g - r).abs().mean())
            row[f"{label}_sc"] = float(torch.linalg.vector_norm(g.exp() - r.exp()) / torch.linalg.vector_norm(r.exp()))
            row[f"{label}_nnls_iterations"] = json.loads(Path(f"{out}.json").read_text())["steps"][1].get("iterations")
        rows.append(row)
        print(json.dumps(row))
    (Path(__file__).parent / "fit.json").write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:4])
