"""The `vocoder` command: parse, call the library, print. No logic here.

Every failure a user can cause ends as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Sequence

from vocoder import __version__
from vocoder.errors import VocoderError
from vocoder import budget
from vocoder.frontend.picture import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE
from vocoder.spec import PRESETS

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not usage text plus a line."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return value


def _memory_size(text: str) -> int:
    try:
        return budget.parse_size(text)
    except VocoderError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vocoder", description="Spectrogram images → audio, with every step recorded.")
    parser.add_argument("--version", action="version", version=f"vocoder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("encode", help="audio file → spectrogram PNG with its spec embedded")
    p.add_argument("audio", help="wav, flac or ogg file (resampled to the preset's rate)")
    p.add_argument("-o", "--output", required=True, help="PNG to write")
    p.add_argument("--preset", default="linear", help=f"spectrogram preset: {', '.join(PRESETS)} (default: linear)")
    p.add_argument("--bits", type=int, default=16, choices=(8, 16), help="PNG bit depth (default: 16)")
    p.add_argument("--dynamic-range", type=float, default=100.0, metavar="DB",
                   help="dB below the peak that the image keeps; quieter is black/silence (default: 100)")
    p.add_argument("--preview", action="store_true", help="also write OUT.png.preview.png with labelled axes")

    p = sub.add_parser("invert", help="spectrogram PNG or any picture → audio, with a JSON record")
    p.add_argument("image", help="a PNG from `vocoder encode`, or any picture")
    p.add_argument("-o", "--output", required=True, help="WAV to write; OUT.wav.json gets the provenance record")
    p.add_argument("--backend", default="fgla", help="inversion backend (see `vocoder backends`; default: fgla)")
    p.add_argument("--iters", type=_positive_int, help="iterations for iterative backends (default: 100)")
    p.add_argument("--momentum", type=float, help="fgla momentum (default: 0.99)")
    p.add_argument("--init", choices=("random", "zero"), help="initial phase (default: random)")
    p.add_argument("--seed", type=int, help="random seed (default: 0)")
    p.add_argument("--tol", type=float,
                   help="pghi, pghi+fgla: coefficients below TOL × the peak get random phase (default: 1e-4, 1e-3)")
    p.add_argument("--checkpoint", help="trained model for neural backends (.ckpt from `vocoder fit`, "
                                        ".safetensors from `vocoder export`)")
    p.add_argument("--preset", help="spec for a picture without metadata (default: linear)")
    p.add_argument("--duration", type=float, help="seconds of audio a plain picture spans (default: one frame per column)")
    p.add_argument("--channel", choices=("grey", "r", "g", "b", "stereo"),
                   help="which picture plane(s) to use (default: grey = luminance)")
    p.add_argument("--db-range", type=float, nargs=2, metavar=("MIN", "MAX"),
                   help="dB that brightness 0+..1 maps to (default: -80 0)")
    p.add_argument("--blur", type=float, metavar="SIGMA", help="Gaussian blur in pixels to soften hard edges (default: 0)")
    p.add_argument("--no-flip", action="store_true", help="the picture's top row is the lowest frequency")
    p.add_argument("--ignore-metadata", action="store_true", help="treat a vocoder PNG as a plain picture")
    p.add_argument("--preview", action="store_true", help="also write OUT.wav.preview.png of the input as decoded")
    p.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse larger images (default: {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--max-side", type=_positive_int, default=DEFAULT_MAX_SIDE,
                   help=f"refuse images wider or taller than this (default: {DEFAULT_MAX_SIDE:,})")
    p.add_argument("--frame", type=_positive_int, metavar="N",
                   help="which frame of a multi-frame picture (GIF, APNG, TIFF) to read, from 0; recorded")

    p = sub.add_parser("info", help="print an image's embedded spec and mapping as JSON")
    p.add_argument("image")

    sub.add_parser("backends", help="list the inversion backends")

    p = sub.add_parser("bench", help="encode → invert → measure every clip with every backend; tables, plots, report")
    p.add_argument("inputs", nargs="+", metavar="AUDIO_OR_DIR", help="audio files, or folders of .wav/.flac/.ogg")
    p.add_argument("--backends", default="fgla,griffinlim",
                   help="comma list; per-backend options as NAME:KEY=VALUE, e.g. fgla:iters=32 (default: fgla,griffinlim)")
    p.add_argument("--preset", default="linear", help=f"spectrogram preset: {', '.join(PRESETS)} (default: linear)")
    p.add_argument("--iters", type=_positive_int, help="iterations for every iterative backend (default: each backend's)")
    p.add_argument("--seed", type=int, default=0, help="seed for every backend that takes one (default: 0)")
    p.add_argument("--out", default="bench-out", help="output folder; must not exist or be empty (default: bench-out)")
    p.add_argument("--metrics", default="all", help="comma list of metrics, or 'all' (see docs/metrics.md)")
    p.add_argument("--kind", action="append", metavar="GLOB=KIND",
                   help="content kind by file-name glob: speech (default), monophonic or polyphonic; "
                        "decides which metrics apply, e.g. --kind 'brahms*=polyphonic'")
    p.add_argument("--report-audio", choices=("embed", "link", "none"), default="embed",
                   help="audio players in report.html: embedded (self-contained), linked files, or none")
    p = sub.add_parser("export", help="training checkpoint → generator as .safetensors (weights + spec, no pickle)")
    p.add_argument("checkpoint", help="a .ckpt written by `vocoder fit`")
    p.add_argument("-o", "--output", required=True, help="the .safetensors file to write")

    for name, command in sub.choices.items():  # every command that reads input has a memory cap
        command.add_argument("--max-memory", type=_memory_size, metavar="SIZE",
                             help=f"refuse jobs estimated to need more memory, e.g. 8G (default: ${budget.ENV}, "
                                  "else half of this machine's memory)")
    for name in ("fit", "validate", "test"):  # listed for --help; main() hands them to LightningCLI
        sub.add_parser(name, help=f"LightningCLI {name} (vocoder {name} --help; e.g. --config configs/hifigan_tiny.yaml)")
    return parser


def _invert(args: argparse.Namespace) -> int:
    from vocoder.frontend.image import PictureOptions
    from vocoder.pipeline import InvertRequest, invert, record_path

    given = [flag for flag, value in (("--duration", args.duration), ("--channel", args.channel),
                                      ("--db-range", args.db_range), ("--blur", args.blur),
                                      ("--no-flip", args.no_flip or None)) if value is not None]
    defaults = PictureOptions()
    picture = PictureOptions(
        channel=args.channel or defaults.channel,
        duration=args.duration,
        flip=not args.no_flip,
        blur_sigma=args.blur if args.blur is not None else defaults.blur_sigma,
        db_min=args.db_range[0] if args.db_range else defaults.db_min,
        db_max=args.db_range[1] if args.db_range else defaults.db_max,
    )
    picture.validate()
    request = InvertRequest(
        image=args.image, output=args.output, backend=args.backend,
        backend_options={"iters": args.iters, "momentum": args.momentum, "init": args.init, "seed": args.seed,
                         "tol": args.tol, "checkpoint": args.checkpoint},
        preset=args.preset, picture=picture, picture_options_given=given,
        ignore_metadata=args.ignore_metadata, preview=args.preview, max_pixels=args.max_pixels,
        max_side=args.max_side, frame=args.frame,
    )
    record = invert(request)
    out = record["output"]
    print(f"wrote {args.output} ({out['samples'] / out['sample_rate']:.2f} s, {out['sample_rate']} Hz, "
          f"{out['channels']} ch, backend {args.backend}, {record['wall_seconds']['inversion']:.2f} s)")
    fidelity = record["fidelity_vs_input"]
    if "consistency_db" in fidelity:
        print(f"consistency {fidelity['consistency_db']:.1f} dB, hallucinated {fidelity['hallucinated_db']:.1f} dB, "
              f"missing {fidelity['missing_db']:.1f} dB vs the input {fidelity['domain']} spectrogram "
              "(see docs/metrics.md)")
    print(f"record {record_path(args.output)}")
    if out["preview"]:
        print(f"preview {out['preview']}")
    return 0


def _encode(args: argparse.Namespace) -> int:
    from vocoder.pipeline import encode, preview_path

    metadata = encode(args.audio, args.output, preset=args.preset, bits=args.bits,
                      dynamic_range_db=args.dynamic_range, preview=args.preview)
    print(f"wrote {args.output} ({metadata['spec']['scale']} spectrogram, "
          f"{'+'.join(metadata['layout']['channels'])}, {args.bits}-bit, preset {args.preset})")
    if args.preview:
        print(f"preview {preview_path(args.output)}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from vocoder.pipeline import dumps, info

    metadata = info(args.image)
    if metadata is None:
        print(f"{args.image}: no embedded vocoder metadata; `vocoder invert` will read it as a plain picture",
              file=sys.stderr)
        return 1
    print(dumps(metadata))
    return 0


def _backends(args: argparse.Namespace) -> int:
    from vocoder.inversion import describe

    for name, summary in describe():
        print(f"{name:12s} {summary}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import shlex

    from vocoder.evaluation.bench import find_clips, parse_backends, parse_kind_rules, run_bench
    from vocoder.evaluation.fidelity import parse_metrics
    from vocoder.spec import get_preset

    get_preset(args.preset)
    metrics = parse_metrics(args.metrics)
    backends = parse_backends(args.backends, iters=args.iters, seed=args.seed)
    clips = find_clips(args.inputs, parse_kind_rules(args.kind))
    command = "vocoder " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["bench"] else ""
    result = run_bench(clips, backends, args.preset, args.out, metrics, args.report_audio, command=command)
    print(f"{len(result.rows)} runs ({len(clips)} clips × {len(backends)} backends) written to {args.out}/")
    for name in ("results.csv", "summary.md", "summary.json", "report.html", "plots/", "audio/"):
        print(f"  {os.path.join(args.out, name)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from vocoder.inversion.hifigan import export

    if not args.output.endswith(".safetensors"):
        raise VocoderError(f"the export must be a .safetensors file (got {args.output})")
    meta = export(args.checkpoint, args.output)
    print(f"wrote {args.output} (hifigan, {meta['spec']['n_mels']} mel bands at {meta['spec']['sample_rate']} Hz, "
          f"{meta['batches']} training batches)")
    return 0


COMMANDS = {"encode": _encode, "invert": _invert, "info": _info, "backends": _backends, "bench": _bench,
            "export": _export}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("fit", "validate", "test"):
        from vocoder.training.cli import run  # Lightning loads only for training

        return run(argv)
    for stream in (sys.stdout, sys.stderr):  # file names need not be valid UTF-8
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = _build_parser().parse_args(argv)
    if not os.environ.get("VOCODER_DEBUG"):
        # Library warnings are not the user's business on stderr (one line per
        # error, nothing else); what matters is recorded (decoder notes).
        warnings.simplefilter("ignore")
    try:
        budget.set_limit(getattr(args, "max_memory", None))
        return COMMANDS[args.command](args)
    except VocoderError as exc:
        # One line whatever a file put into the message (newlines, megabytes of text).
        message = " ".join(str(exc).split())
        print(f"vocoder: error: {message[:2000]}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("vocoder: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not a user error: still one line unless asked
        if os.environ.get("VOCODER_DEBUG"):
            raise
        print(f"vocoder: internal error: {type(exc).__name__}: {exc} (set VOCODER_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
