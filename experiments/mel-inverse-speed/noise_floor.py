"""How far the fit metrics move when the NNLS solution moves by float rounding.

Runs fit.py's measurement (fgla --iters 32 on fit.py's pictures, already
encoded in WORK) under TREE's code, with the NNLS output multiplied by
(1 + LEVEL · N(0, 1)) elementwise (seeded): the spread of mel L1 and SC over
a few seeds is the resolution of the fit table for a solution that differs
by LEVEL (relative), e.g. float32 iterates' 1.5e-5 (solution_diff.py).

    python experiments/mel-inverse-speed/noise_floor.py TREE WORK LEVEL SEED... >> noise_floor.jsonl
"""

import contextlib
import io
import json
import sys
from pathlib import Path

import torch


def main(tree, work, level, *seeds):
    sys.path.insert(0, tree)
    import fit
    from vocoder.cli import main as vocoder
    from vocoder.frontend import filterbank
    from vocoder.spec import PRESETS

    solve = filterbank.nnls_inverse
    spec, work = PRESETS["hifigan"], Path(work)
    for seed in seeds:
        def perturbed(M, bands, **options):
            x, iterations, residual = solve(M, bands, **options)
            noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(int(seed)), dtype=torch.float64)
            return (x.double() * (1 + float(level) * noise)).to(x.dtype), iterations, residual

        filterbank.nnls_inverse = perturbed
        for clip in fit.CLIPS:
            name = Path(clip).stem
            out = work / f"{name}-noise.wav"
            with contextlib.redirect_stdout(io.StringIO()):
                code = vocoder(["invert", str(work / f"{name}.png"), "-o", str(out), "--backend", "fgla", "--iters", "32",
                                "--force"])
            assert code == 0, clip
            ref, got = fit.log_mel(work / f"{name}.wav", spec), fit.log_mel(out, spec)
            frames = min(ref.shape[-1], got.shape[-1])
            r, g = ref[..., :frames], got[..., :frames]
            l1 = float((g - r).abs().mean())
            sc = float(torch.linalg.vector_norm(g.exp() - r.exp()) / torch.linalg.vector_norm(r.exp()))
            row = {"clip": clip, "level": float(level), "seed": int(seed), "mel_l1": l1, "sc": sc}
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
