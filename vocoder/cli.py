"""The `vocoder` command: parse, call the library, print. No logic here.

Every failure a user can cause ends as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence

from vocoder import __version__
from vocoder.errors import VocoderError
from vocoder.frontend.picture import DEFAULT_MAX_PIXELS
from vocoder.spec import PRESETS

EXIT_USAGE = 2
FORCE_HELP = "replace outputs that already exist (an input is never replaced)"


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
    p.add_argument("--force", action="store_true", help=FORCE_HELP)

    p = sub.add_parser("invert", help="spectrogram PNG or any picture → audio, with a JSON record")
    p.add_argument("image", help="a PNG from `vocoder encode`, or any picture")
    p.add_argument("-o", "--output", required=True,
                   help="audio to write: .wav, .flac or .ogg (the extension decides); OUT.json gets the record")
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
    p.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse larger images (default: {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--timings", action="store_true",
                   help="put wall-clock seconds in the record (then a rerun's record is not byte-identical)")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)

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
    p.add_argument("--out", default="bench-out",
                   help="output folder; must not exist or be empty unless --force (default: bench-out)")
    p.add_argument("--metrics", default="all", help="comma list of metrics, or 'all' (see docs/metrics.md)")
    p.add_argument("--kind", action="append", metavar="GLOB=KIND",
                   help="content kind by file-name glob: speech (default), monophonic or polyphonic; "
                        "decides which metrics apply, e.g. --kind 'brahms*=polyphonic'")
    p.add_argument("--report-audio", choices=("embed", "link", "none"), default="embed",
                   help="audio players in report.html: embedded (self-contained), linked files, or none")
    p.add_argument("--timings", action="store_true",
                   help="measure and report seconds and real-time factors (then a rerun is not byte-identical)")
    p.add_argument("--force", action="store_true", help="replace the contents of a non-empty --out folder")
    p = sub.add_parser("export", help="training checkpoint → generator as .safetensors (weights + spec, no pickle)")
    p.add_argument("checkpoint", help="a .ckpt written by `vocoder fit`")
    p.add_argument("-o", "--output", required=True, help="the .safetensors file to write")
    p.add_argument("--force", action="store_true", help=FORCE_HELP)

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
        timings=args.timings,
    )
    record = invert(request)
    for mismatch in record["claim_mismatches"]:
        print(f"vocoder: warning: {mismatch}", file=sys.stderr)
    out = record["output"]
    took = f", {record['wall_seconds']['inversion']:.2f} s" if "wall_seconds" in record else ""
    print(f"wrote {args.output} ({out['format']}, {out['samples'] / out['sample_rate']:.2f} s, "
          f"{out['sample_rate']} Hz, {out['channels']} ch, backend {args.backend}{took})")
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
    result = run_bench(clips, backends, args.preset, args.out, metrics, args.report_audio, command=command,
                       timings=args.timings, inputs=args.inputs)
    print(f"{len(result.rows)} runs ({len(clips)} clips × {len(backends)} backends) written to {args.out}/")
    for name in ("results.csv", "summary.md", "summary.json", "report.html", "plots/", "audio/"):
        print(f"  {os.path.join(args.out, name)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from vocoder.inversion.hifigan import export

    if not args.output.lower().endswith(".safetensors"):
        raise VocoderError(f"the export must be a .safetensors file (got {args.output})")
    meta = export(args.checkpoint, args.output)
    print(f"wrote {args.output} (hifigan, {meta['spec']['n_mels']} mel bands at {meta['spec']['sample_rate']} Hz, "
          f"{meta['batches']} training batches)")
    return 0


COMMANDS = {"encode": _encode, "invert": _invert, "info": _info, "backends": _backends, "bench": _bench,
            "export": _export}


def _inputs(args: argparse.Namespace) -> list[str]:
    """The files a command reads: no output may be one of them."""
    named = [getattr(args, name, None) for name in ("audio", "image", "checkpoint")]
    return [p for p in named + list(getattr(args, "inputs", None) or []) if isinstance(p, str)]


def _fail(message: str) -> int:
    from vocoder.provenance import printable

    print(f"vocoder: error: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    from vocoder import interrupts
    from vocoder.outputs import output_policy, write_failure

    argv = list(sys.argv[1:] if argv is None else argv)
    if hasattr(sys.stdout, "reconfigure"):  # a file name that is not UTF-8 still prints
        sys.stdout.reconfigure(errors="backslashreplace")
    with interrupts.handled():
        try:
            if argv and argv[0] in ("fit", "validate", "test"):
                from vocoder.training.cli import run  # Lightning loads only for training

                code = run(argv)
            else:
                args = _build_parser().parse_args(argv)
                with output_policy(force=getattr(args, "force", False), inputs=_inputs(args)):
                    code = COMMANDS[args.command](args)
            sys.stdout.flush()  # a closed pipe shows here, not as a message at exit
            return code
        except VocoderError as exc:
            return _fail(str(exc))
        except BrokenPipeError:
            _silence_stdout()
            return _fail("standard output was closed before vocoder finished writing to it (broken pipe)")
        except (KeyboardInterrupt, SystemExit) as exc:
            if isinstance(exc, SystemExit) and interrupts.received() is None:
                raise  # argparse's usage errors and --help
            print(interrupts.message(interrupts.received()), file=sys.stderr)
            return EXIT_USAGE
        except Exception as exc:  # a bug, not a user error: still one line unless asked
            failure = write_failure(exc)
            if failure is not None:  # a full disk that a library reported its own way
                return _fail(str(failure))
            if os.environ.get("VOCODER_DEBUG"):
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            print(f"vocoder: internal error: {type(exc).__name__}: {first} (set VOCODER_DEBUG=1 for a traceback)",
                  file=sys.stderr)
            return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's own flush at exit does
    not report the broken pipe a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (tests capture it)
        pass

if __name__ == "__main__":
    sys.exit(main())
