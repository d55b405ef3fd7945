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


def _provenance_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--name", help="model name recorded in the file and its card (default: the file name)")
    p.add_argument("--training-data", help="what the model was trained on, for the record and the card")
    p.add_argument("--licence", help="the weights' licence, for the record and the card")


def _spec_options(p: argparse.ArgumentParser) -> None:
    """Spec overrides on top of --preset (validated together; see docs/spectrogram.md)."""
    g = p.add_argument_group("spectrogram spec (overrides on top of --preset; docs/spectrogram.md)")
    g.add_argument("--sr", type=_positive_int, metavar="HZ", help="sample rate")
    g.add_argument("--n-fft", type=_positive_int, metavar="N", help="FFT size; the window follows unless --win-length")
    g.add_argument("--hop", type=_positive_int, metavar="N", help="hop between frames, in samples")
    g.add_argument("--win-length", type=_positive_int, metavar="N", help="window length in samples (<= n_fft)")
    g.add_argument("--window", metavar="NAME", help="hann, hamming, blackman, kaiser:BETA or rectangular")
    g.add_argument("--kaiser-beta", type=float, metavar="BETA",
                   help="the kaiser window's beta (or --window kaiser:BETA)")
    g.add_argument("--scale", choices=("linear", "mel", "log"), help="frequency axis")
    g.add_argument("--n-mels", type=_positive_int, metavar="N", help="mel bands (mel axis)")
    g.add_argument("--bands-per-octave", type=_positive_int, metavar="N", help="bands per octave (log axis)")
    g.add_argument("--fmin", type=float, metavar="HZ", help="lowest frequency: mel edge, or log axis's lowest centre")
    g.add_argument("--fmax", type=float, metavar="HZ", help="highest frequency (default: the preset's; Nyquist)")


def _spec_overrides(args: argparse.Namespace):
    from vocoder.spec_overrides import SpecOverrides

    return SpecOverrides(sample_rate=args.sr, n_fft=args.n_fft, hop_length=args.hop, win_length=args.win_length,
                         window=args.window, kaiser_beta=args.kaiser_beta, scale=args.scale, n_mels=args.n_mels,
                         bands_per_octave=args.bands_per_octave, fmin=args.fmin, fmax=args.fmax)


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
    _spec_options(p)

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
    p.add_argument("--checkpoint", help="trained model for neural backends: a name from `vocoder models` "
                                        "(e.g. hifigan-v1-lj), a .safetensors from `vocoder export`/`vocoder import`, "
                                        "or a .ckpt from `vocoder fit`")
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
    _spec_options(p)

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
    _spec_options(p)
    p = sub.add_parser("export", help="training checkpoint → model file (.safetensors: weights + spec, no pickle) "
                                      "and its model card")
    p.add_argument("checkpoint", help="a .ckpt written by `vocoder fit`")
    p.add_argument("-o", "--output", required=True, help="the .safetensors file to write (card: OUT.safetensors.md)")
    _provenance_options(p)

    p = sub.add_parser("import", help="original HiFi-GAN generator checkpoint (+ config.json) → model file")
    p.add_argument("generator", help="g_XXXXXXXX or generator_*.pth.tar from the original HiFi-GAN code")
    p.add_argument("--config", help="its config.json (default: config.json beside the generator)")
    p.add_argument("-o", "--output", required=True, help="the .safetensors file to write (card: OUT.safetensors.md)")
    _provenance_options(p)

    sub.add_parser("models", help="list the named pretrained models and whether they are available here")

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
        preset=args.preset, spec_overrides=_spec_overrides(args), picture=picture, picture_options_given=given,
        ignore_metadata=args.ignore_metadata, preview=args.preview, max_pixels=args.max_pixels,
    )
    record = invert(request)
    _say_learned(record.get("learned_model"))
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


def _say_learned(model: dict | None) -> None:
    """The one stderr line every learned backend's output gets."""
    if model:
        print(f"vocoder: note: made by {model['name']} ({model['architecture']}, trained on "
              f"{model['training_data']}): {model['statement']}", file=sys.stderr)


def _encode(args: argparse.Namespace) -> int:
    from vocoder.pipeline import encode, preview_path

    overrides = _spec_overrides(args)
    metadata = encode(args.audio, args.output, preset=args.preset, bits=args.bits,
                      dynamic_range_db=args.dynamic_range, preview=args.preview, overrides=overrides)
    print(f"wrote {args.output} ({metadata['spec']['scale']} spectrogram, "
          f"{'+'.join(metadata['layout']['channels'])}, {args.bits}-bit, preset {args.preset}"
          + (f" with {overrides.describe()})" if overrides else ")"))
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
    from vocoder.spec_overrides import effective_spec

    overrides = _spec_overrides(args)
    spec = effective_spec(args.preset, overrides)
    metrics = parse_metrics(args.metrics)
    backends = parse_backends(args.backends, iters=args.iters, seed=args.seed)
    clips = find_clips(args.inputs, parse_kind_rules(args.kind))
    command = "vocoder " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["bench"] else ""
    label = args.preset + (f" with {overrides.describe()}" if overrides else "")
    result = run_bench(clips, backends, label, args.out, metrics, args.report_audio, command=command, spec=spec)
    print(f"{len(result.rows)} runs ({len(clips)} clips × {len(backends)} backends) written to {args.out}/")
    for name in ("results.csv", "summary.md", "summary.json", "report.html", "plots/", "audio/"):
        print(f"  {os.path.join(args.out, name)}")
    return 0


def _provenance(args: argparse.Namespace) -> dict[str, str | None]:
    return {"name": args.name, "training_data": args.training_data, "licence": args.licence}


def _wrote_model(path: str, meta: dict) -> None:
    from vocoder.models.store import card_path, describe_architecture

    spec = meta["spec"]
    print(f"wrote {path} ({describe_architecture(meta['architecture'], meta['config'])}, {spec['n_mels']} mel "
          f"bands at {spec['sample_rate']} Hz)")
    print(f"model card {card_path(path)}")


def _export(args: argparse.Namespace) -> int:
    from vocoder.models.store import export

    _wrote_model(args.output, export(args.checkpoint, args.output, _provenance(args)))
    return 0


def _import(args: argparse.Namespace) -> int:
    from vocoder.models.original_hifigan import import_generator
    from vocoder.models.store import save

    config = args.config or os.path.join(os.path.dirname(os.path.abspath(args.generator)), "config.json")
    generator, spec, source = import_generator(args.generator, config)
    meta = {**{k: v for k, v in _provenance(args).items() if v is not None}, "source": source,
            "trained_batches": None}
    _wrote_model(args.output, save(generator, spec, meta, args.output))
    return 0


def _models(args: argparse.Namespace) -> int:
    from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT
    from vocoder.models.pretrained import INSTALL_HINT, cache_dir, describe

    rows = describe()
    notes = {"cached": "cached", "installed": "installed (converted on first use)",
             "not installed": f"not installed: {INSTALL_HINT}"}
    for row in rows:
        print(f"{row['name']}: {row['summary']}")
        print(f"  architecture  {row['architecture']}, {row['parameters']:,} parameters")
        print(f"  spec          {row['spec']}")
        print(f"  trained on    {row['training_data']}")
        print(f"  licence       {row['licence']}")
        print(f"  here          {notes[row['available']]}")
    print(f"cache: {cache_dir()} (VOCODER_CACHE_DIR moves it)")
    print(f"note: {LEARNED_OUTPUT_STATEMENT}")
    return 0


COMMANDS = {"encode": _encode, "invert": _invert, "info": _info, "backends": _backends, "bench": _bench,
            "export": _export, "import": _import, "models": _models}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("fit", "validate", "test"):
        from vocoder.training.cli import run  # Lightning loads only for training

        return run(argv)
    args = _build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except VocoderError as exc:
        print(f"vocoder: error: {exc}", file=sys.stderr)
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
