"""The `vocoder` command: parse, call the library, print. No logic here.

Every failure a user can cause ends as one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import warnings
from typing import TYPE_CHECKING, Callable, Sequence

from vocoder import __version__
from vocoder.errors import VocoderError
from vocoder.frontend.picture import DEFAULT_MAX_PIXELS, DEFAULT_MAX_SIDE
from vocoder.frontend.picture_options import PictureOptions, contradicting_channels
from vocoder.safety import budget, interrupts
from vocoder.safety.outputs import os_failure, outcome, output_policy, published_outputs
from vocoder.safety.streams import GuardedStdout, StandardOutputFailed
from vocoder.safety.text import terminal_line
from vocoder.spec import PRESETS
from vocoder.spec_overrides import SpecOverrides, effective_spec

if TYPE_CHECKING:  # the backends' table is loaded by `invert`'s parser only
    from vocoder.inversion.base import Option

EXIT_USAGE = 2
FORCE_HELP = "replace outputs that already exist (an input is never replaced)"


# A negative number in any spelling float() takes (-1e2, -1.5E-3, -.5, -inf): argparse's own
# pattern knows only -12 and -1.5, so `--db-range -1e2 0` read "-1e2" as an option.
NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line, not usage text plus a line,
    and every negative number is a value, never an option."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = NEGATIVE_NUMBER

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


def _numbers(text: str, count: int, what: str) -> tuple[int, ...]:
    parts = text.split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != count:
        raise argparse.ArgumentTypeError(f"{what} takes {count} whole numbers separated by commas (got {text!r})")
    return values


def _box(text: str) -> tuple[int, ...]:
    return _numbers(text, 4, "a box")


def _box_or_auto(text: str):
    return "auto" if text == "auto" else _box(text)


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 448x172 (got {text!r})") from None
    if width < 1 or height < 1:
        raise argparse.ArgumentTypeError(f"the size must be positive (got {text!r})")
    return width, height


def _planes(text: str) -> tuple[str, ...]:
    return tuple(p.strip().lower() for p in text.split(","))


def _spec_options(p: argparse.ArgumentParser) -> None:
    """Spec overrides on top of --preset (validated together; see docs/spectrogram.md)."""
    g = p.add_argument_group("spectrogram spec (overrides on top of --preset; docs/spectrogram.md)")
    g.add_argument("--sr", type=_positive_int, metavar="HZ", help="sample rate")
    g.add_argument("--n-fft", type=_positive_int, metavar="N", help="FFT size; the window follows unless --win-length")
    g.add_argument("--hop", type=_positive_int, metavar="N", help="hop between frames, in samples")
    g.add_argument("--win-length", type=_positive_int, metavar="N", help="window length in samples (<= n_fft)")
    g.add_argument("--window", metavar="NAME",
                   help="hann, hamming, blackman, kaiser:BETA, rectangular or gauss[:GAMMA] (PGHI is exact for gauss)")
    g.add_argument("--kaiser-beta", type=float, metavar="BETA",
                   help="the kaiser window's beta (or --window kaiser:BETA)")
    from vocoder.frontend.filterbank import AXES, axis_options

    g.add_argument("--scale", choices=tuple(AXES), help="frequency axis")
    for option, kinds in axis_options():  # declared by the axes (vocoder/frontend/filterbank.py)
        def parse(text: str, option=option):
            try:
                return option.parse(text)
            except ValueError as exc:
                raise argparse.ArgumentTypeError(str(exc)) from None

        g.add_argument(option.flag, type=parse, metavar=option.metavar, dest=f"axis_{option.field}",
                       help=f"{option.help} ({' and '.join(kinds)} ax{'es' if len(kinds) > 1 else 'is'})")


def _spec_overrides(args: argparse.Namespace):
    from vocoder.frontend.filterbank import axis_options

    axis = {option.field: getattr(args, f"axis_{option.field}") for option, _ in axis_options()
            if getattr(args, f"axis_{option.field}", None) is not None}
    return SpecOverrides(sample_rate=args.sr, n_fft=args.n_fft, hop_length=args.hop, win_length=args.win_length,
                         window=args.window, kaiser_beta=args.kaiser_beta, scale=args.scale, axis=axis)


def _memory_size(text: str) -> int:
    try:
        return budget.parse_size(text)
    except VocoderError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


# -- options several commands share, each declared once -------------------------

def _force(p: argparse.ArgumentParser, help: str = FORCE_HELP) -> None:
    p.add_argument("--force", action="store_true", help=help)


def _preset(p: argparse.ArgumentParser, plain_picture: bool = False) -> None:
    """The spec preset: the one to encode with, or (``plain_picture``) the one a
    picture without metadata is read under."""
    if plain_picture:
        p.add_argument("--preset", help="spec for a picture without metadata (default: linear)")
    else:
        p.add_argument("--preset", default="linear",
                       help=f"spectrogram preset: {', '.join(PRESETS)} (default: linear)")


def _preview(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--preview", action="store_true", help=f"also write {what}")


def _timings(p: argparse.ArgumentParser, what: str = "put wall-clock seconds in the record") -> None:
    p.add_argument("--timings", action="store_true", help=f"{what} (then a rerun is not byte-identical)")


def _max_pixels(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse larger images (default: {DEFAULT_MAX_PIXELS:,})")


def _max_memory(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-memory", type=_memory_size, metavar="SIZE",
                   help=f"refuse jobs estimated to need more memory, e.g. 8G (default: ${budget.ENV}, "
                        "else half of this machine's memory)")


def _block_seconds(p: argparse.ArgumentParser, what: str, note: str) -> None:
    p.add_argument("--block-seconds", type=float, metavar="S",
                   help=f"{what} S seconds at a time ({note}, bounded memory; default: only when the whole "
                        "would exceed --max-memory, then 10 s)")


def _picture_options(p: argparse.ArgumentParser) -> None:
    """How a plain picture becomes a spectrogram (PictureOptions); ``args.picture_flags``
    lists them, so that those given can be refused for a picture that carries its own."""
    g = p.add_argument_group("reading a plain picture (a vocoder PNG carries its own spec and mapping)")
    added = [
        g.add_argument("--figure", choices=("auto", "plot", "plain"),
                       help="a screenshot of a plotting tool: auto (default) finds the plot area, colour bar and "
                            "axes when the picture is a drawn plot and reads their numbers (OCR: tesseract), each "
                            "value a claim that its option overrides; plot insists; plain reads the raw pixels"),
        g.add_argument("--duration", type=float,
                       help="seconds of audio a plain picture spans (default: one frame per column)"),
        g.add_argument("--channel", choices=("grey", "r", "g", "b", "stereo"),
                       help="which picture plane(s) to use (default: grey = luminance)"),
        g.add_argument("--db-range", type=float, nargs=2, metavar=("MIN", "MAX"),
                       help="dB that brightness 0+..1 maps to (default: -80 0)"),
        g.add_argument("--blur", type=float, metavar="SIGMA",
                       help="Gaussian blur in pixels to soften hard edges (default: 0)"),
        g.add_argument("--no-flip", action="store_true", help="the picture's top row is the lowest frequency"),
        g.add_argument("--channels", type=_planes, metavar="P[,P]",
                       help="planes holding the channel(s), e.g. g,b for left in G and right in B (grey, r, g, b)"),
        g.add_argument("--colormap", metavar="NAME",
                       help="decode colours through a matplotlib colour map (viridis, magma, inferno, jet, ...) "
                            "or 'auto' for the best-fitting one; the fit is reported (default: brightness)"),
        g.add_argument("--colorbar", type=_box_or_auto, metavar="L,T,R,B|auto",
                       help="read colours through the picture's colour bar: its box in pixels (the low end at "
                            "the bottom or left), or 'auto' to find it; colours not on the bar are masked"),
        g.add_argument("--crop", type=_box_or_auto, metavar="L,T,R,B|auto",
                       help="cut the plot area out of a screenshot: a box in pixels, or 'auto' to find it"),
        g.add_argument("--freq-range", type=float, nargs=2, metavar=("LOW", "HIGH"),
                       help="Hz at the bottom and top edges of the (cropped) picture, for a linear spec"),
        g.add_argument("--freq-scale", choices=("linear", "log", "symlog"),
                       help="how the picture's rows are spaced between --freq-range's edges (default: linear)"),
        g.add_argument("--symlog", type=float, nargs=3, metavar=("BASE", "LINTHRESH", "LINSCALE"),
                       help="the symlog axis of --freq-scale symlog, in matplotlib's terms (librosa's specshow: "
                            "2 1000 1 for y_axis='mel', 2 65.4 0.5 for y_axis='log')"),
        g.add_argument("--time-range", type=float, nargs=2, metavar=("START", "END"),
                       help="seconds of the recording at the picture's left and right edges, when it shows "
                            "only part of it (instead of --duration; the start is recorded)"),
        g.add_argument("--db-reference", choices=("peak", "full-scale"),
                       help="what 0 dB means: the loudest cell (default; the level is unknown) or a full-scale "
                            "sine (dBFS, as SoX and ffmpeg label their bars; the output keeps that level)"),
        g.add_argument("--pre-emphasis", type=float, metavar="DB_PER_OCTAVE",
                       help="dB per octave the drawing program added above 1 kHz, taken off (Praat: 6; "
                            "default: 0)"),
        g.add_argument("--row-scale", choices=("uniform", "librosa", "librosa-log"),
                       help="how the picture's rows map to bands: evenly (default), or as librosa's specshow "
                            "draws a mel (symlog) or linear axis; librosa-log for y_axis='log'"),
        g.add_argument("--mapping", choices=("db", "power"),
                       help="brightness → amplitude: db (linear in dB over --db-range; default) or power "
                            "(amplitude ∝ brightness^(1/--power))"),
        g.add_argument("--power", type=float, help="exponent of --mapping power, e.g. 0.25 (Riffusion)"),
        g.add_argument("--dark-is-loud", action="store_true", help="inverted polarity: dark pixels are loud"),
    ]
    p.set_defaults(picture_flags={action.option_strings[0]: action.dest for action in added})


def _picture(args: argparse.Namespace) -> tuple[PictureOptions, list[str]]:
    """The plain-picture options from the command line, and the flags given."""
    given = [flag for flag, dest in args.picture_flags.items() if getattr(args, dest) not in (None, False)]
    # Pairs whose defaults cannot tell "given" from "not given" once in PictureOptions.
    if args.channel is not None and args.channels is not None:
        raise contradicting_channels(args.channel, args.channels)
    if args.db_range is not None and args.mapping == "power":
        raise VocoderError("--db-range goes with --mapping db; --mapping power maps brightness^(1/--power) and has "
                           "no dB range: give one of them")
    defaults = PictureOptions()
    picture = PictureOptions(
        channel=args.channel or defaults.channel,
        planes=args.channels, colormap=args.colormap, colorbar=args.colorbar, crop=args.crop,
        duration=args.duration, freq_range=tuple(args.freq_range) if args.freq_range else None,
        freq_scale=args.freq_scale or defaults.freq_scale, symlog=tuple(args.symlog) if args.symlog else None,
        time_range=tuple(args.time_range) if args.time_range else None,
        db_reference=args.db_reference or defaults.db_reference,
        pre_emphasis=args.pre_emphasis if args.pre_emphasis is not None else defaults.pre_emphasis,
        row_scale=args.row_scale or defaults.row_scale,
        flip=not args.no_flip,
        blur_sigma=args.blur if args.blur is not None else defaults.blur_sigma,
        dark_is_loud=args.dark_is_loud, mapping=args.mapping or defaults.mapping, power=args.power,
        db_min=args.db_range[0] if args.db_range else defaults.db_min,
        db_max=args.db_range[1] if args.db_range else defaults.db_max,
    )
    picture.validate()
    return picture, given


def _backend_flags() -> dict[str, list[tuple[str, Option]]]:
    """Option name → (backend, its Option) for every registered backend that
    takes it, from the backends' own option tables (imports every backend)."""
    from vocoder.inversion.registry import BACKENDS, backend_class

    takers: dict[str, list[tuple[str, Option]]] = {}
    for backend in BACKENDS:
        for option in backend_class(backend).option_table():
            takers.setdefault(option.name, []).append((backend, option))
    return takers


def _taken_by(takers: list[tuple[str, Option]]) -> str:
    """'iterations (fgla, agla: default 100); Adam steps (mel-gd: default 100)'."""
    said: dict[str, dict[str, list[str]]] = {}
    for backend, option in takers:
        default = "none" if option.default is None else str(option.default)
        said.setdefault(option.help, {}).setdefault(default, []).append(backend)
    return "; ".join(help + " (" + "; ".join(f"{', '.join(backends)}: default {default}"
                                             for default, backends in defaults.items()) + ")"
                     for help, defaults in said.items()).replace("%", "%%")


def _backend_options(p: argparse.ArgumentParser) -> None:
    """One flag per backend option name, whichever backends take it; values
    stay text until the chosen backend's check_options (as bench's are)."""
    from vocoder.inversion.registry import BACKENDS

    p.add_argument("--backend", default="fgla",
                   help=f"inversion backend: {', '.join(BACKENDS)}, a published model's name (`vocoder models`), "
                        "or a composition A>B:KEY=VALUE>…: a backend then its refinements, e.g. "
                        "hifigan-v1-universal>band or hifigan-v1-lj>fgla:iters=32 (`vocoder backends` lists "
                        "options and refinements; flags below go to every stage that takes them; default: fgla)")
    g = p.add_argument_group("backend options (each backend takes its own; `vocoder backends` lists them)")
    for name, takers in _backend_flags().items():
        choices = list(dict.fromkeys(c for _, option in takers for c in option.choices or ()))
        metavar = "{" + ",".join(map(str, choices)) + "}" if choices else None
        g.add_argument(takers[0][1].flag, dest=name, metavar=metavar, help=_taken_by(takers))


# -- one parser builder per command (its runner is below, paired in COMMANDS) ----

def _build_encode(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio", help="wav, flac or ogg file (resampled to the preset's rate)")
    p.add_argument("-o", "--output", required=True, help="PNG to write")
    _preset(p)
    p.add_argument("--bits", type=int, default=16, choices=(8, 16), help="PNG bit depth (default: 16)")
    p.add_argument("--dynamic-range", type=float, default=100.0, metavar="DB",
                   help="dB below the peak that the image keeps; quieter is black/silence (default: 100)")
    _preview(p, "OUT.png.preview.png with labelled axes")
    _block_seconds(p, "read and transform the audio", "the same pixels")
    _spec_options(p)
    _force(p)


def _build_invert(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", help="a PNG from `vocoder encode`, or any picture")
    p.add_argument("-o", "--output", required=True,
                   help="audio to write: .wav, .flac or .ogg (the extension decides); OUT.json gets the record")
    p.add_argument("--deviation-map", action="store_true",
                   help="also write OUT.deviation.png: the output's spectrogram against the input as decoded, cell "
                        "by cell (red: added, blue: lost); the record gets the shares of energy added and lost "
                        "beyond 6 and 20 dB and out of band (no reference needed)")
    _backend_options(p)
    _block_seconds(p, "invert a vocoder PNG with a phase-retrieval backend", "within 0.5 dB SC of a whole run")
    _preset(p, plain_picture=True)
    _picture_options(p)
    p.add_argument("--ignore-metadata", action="store_true", help="treat a vocoder PNG as a plain picture")
    _preview(p, "OUT.wav.preview.png of the input as decoded")
    _max_pixels(p)
    p.add_argument("--max-side", type=_positive_int, default=DEFAULT_MAX_SIDE,
                   help=f"refuse images wider or taller than this (default: {DEFAULT_MAX_SIDE:,})")
    p.add_argument("--frame", type=_positive_int, metavar="N",
                   help="which frame of a multi-frame picture (GIF, APNG, TIFF) to read, from 0; recorded")
    _spec_options(p)
    _timings(p)
    _force(p)


def _build_info(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", metavar="FILE", help="a PNG from `vocoder encode`, any picture, or an audio file")
    p.add_argument("--json", action="store_true", help="print the full embedded record as JSON instead")
    p.add_argument("--preview", metavar="OUT.png",
                   help="for a drawn plot (a screenshot): write the picture with the plot area, colour bar and the "
                        "labels read on it drawn as boxes")
    _max_pixels(p)
    _force(p)


def _build_backends(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the list as JSON")


def _build_bench(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="AUDIO_OR_DIR", help="audio files, or folders of .wav/.flac/.ogg")
    p.add_argument("--backends", default="fgla,griffinlim",
                   help="comma list; per-backend options as NAME:KEY=VALUE, e.g. fgla:iters=32; compositions as "
                        "A>B:KEY=VALUE, e.g. hifigan-v1-universal>band (see `vocoder backends`; default: "
                        "fgla,griffinlim)")
    _preset(p)
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
    _spec_options(p)
    p.add_argument("--png-bits", type=int, choices=(8, 16), default=16,
                   help="bit depth of the spectrogram PNG every backend inverts (default: 16; 8 = a typical "
                        "shared picture)")
    p.add_argument("--blur", type=float, default=0.0, metavar="SIGMA",
                   help="Gaussian blur of the encoded PNG's pixels before decoding, in pixels, as a picture someone "
                        "sent may have (default: 0 = none)")
    _timings(p, "measure and report seconds and real-time factors")
    _force(p, "replace the contents of a non-empty --out folder")
    p.add_argument("--progress", action="store_true",
                   help="show the progress bar even when stderr is not a terminal (default: only on a terminal)")


def _build_export(p: argparse.ArgumentParser) -> None:
    p.add_argument("checkpoint", help="a .ckpt written by `vocoder fit`")
    p.add_argument("-o", "--output", required=True, help="the .safetensors file to write (card: OUT.safetensors.md)")
    _provenance_options(p)
    _force(p)


def _build_import(p: argparse.ArgumentParser) -> None:
    p.add_argument("generator", help="g_XXXXXXXX or generator_*.pth.tar from the original HiFi-GAN code")
    p.add_argument("--config", help="its config.json (default: config.json beside the generator)")
    p.add_argument("-o", "--output", required=True, help="the .safetensors file to write (card: OUT.safetensors.md)")
    _provenance_options(p)
    _force(p)


def _build_sonify(p: argparse.ArgumentParser) -> None:
    p.add_argument("image")
    p.add_argument("-o", "--output", required=True, help="WAV to write (32-bit float); OUT.wav.json gets the record")
    p.add_argument("--curve", default="hilbert", choices=("hilbert",), help="the pixel order (default: hilbert)")
    p.add_argument("--sr", type=int, default=44100, help="sample rate of the audio (default: 44100)")
    p.add_argument("--value-map", default="bipolar", choices=("bipolar", "unipolar"),
                   help="brightness 0..1 → samples −1..1 (bipolar, default) or 0..1 (unipolar)")
    _max_pixels(p)
    _timings(p)
    _force(p)


def _build_desonify(p: argparse.ArgumentParser) -> None:
    p.add_argument("audio")
    p.add_argument("-o", "--output", required=True, help="PNG to write")
    p.add_argument("--size", type=_size, metavar="WxH",
                   help="the original picture size (default: from the sonify record beside the audio)")
    p.add_argument("--value-map", choices=("bipolar", "unipolar"), help="as given to sonify (default: its record's)")
    p.add_argument("--bits", type=int, choices=(8, 16), help="PNG bit depth (default: 16)")
    _force(p)


def _build_pattern(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", choices=("chirp", "tones", "grid", "text"))
    p.add_argument("-o", "--output", required=True,
                   help="PNG to write (spec embedded); audio patterns also write OUT.png.truth.wav")
    _preset(p)
    p.add_argument("--duration", type=float, default=5.0, help="seconds (default: 5)")
    p.add_argument("--text", default="vocoder", help="the text of the `text` pattern")
    _force(p)
    _spec_options(p)


def _build_models(p: argparse.ArgumentParser) -> None:
    """No options of its own (the memory cap, as every command)."""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The `vocoder` parser. Every command is listed, but only ``command``'s
    options are built: `vocoder info` never loads the backend table `invert`
    needs. Every command that runs here gets the memory cap."""
    parser = _Parser(prog="vocoder", description="Spectrogram images → audio, with every step recorded.")
    parser.add_argument("--version", action="version", version=f"vocoder {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (summary, build, _) in COMMANDS.items():
        p = sub.add_parser(name, help=summary)
        if name == command:
            build(p)
            _max_memory(p)
    for name in TRAINING:  # listed for --help; main() hands them to LightningCLI
        sub.add_parser(name, help=f"LightningCLI {name}: e.g. --config configs/hifigan_tiny.yaml (vocoder {name} "
                                  f"--help: the main options; {HELP_ALL}: every option)")
    return parser


def _invert(args: argparse.Namespace) -> int:
    from vocoder.frontend.drawn_plot import claim_text
    from vocoder.pipeline import InvertRequest, invert, record_path

    picture, given = _picture(args)
    request = InvertRequest(
        image=args.image, output=args.output, backend=args.backend,
        backend_options={name: getattr(args, name) for name in _backend_flags()},
        preset=args.preset, spec_overrides=_spec_overrides(args), picture=picture, picture_options_given=given,
        ignore_metadata=args.ignore_metadata, preview=args.preview, max_pixels=args.max_pixels,
        timings=args.timings,
        max_side=args.max_side, frame=args.frame, block_seconds=args.block_seconds, figure=args.figure or "auto",
        deviation_map=args.deviation_map,
    )
    record = invert(request)
    for claim in record.get("read_from_picture") or []:
        _say(f"vocoder: note: read from the picture: {claim_text(claim)}")
    for mismatch in record["claim_mismatches"]:
        _say(f"vocoder: warning: {mismatch}")
    for warning in record.get("warnings", []):
        _say(f"vocoder: warning: {warning}")
    _say_learned(record.get("learned_model"))
    out = record["output"]
    took = f", {record['wall_seconds']['inversion']:.2f} s" if "wall_seconds" in record else ""
    print(f"wrote {args.output} ({out['format']}, {out['samples'] / out['sample_rate']:.2f} s, "
          f"{out['sample_rate']} Hz, {out['channels']} ch, backend {args.backend}{took})")
    fidelity = record["fidelity_vs_input"]
    if "blockwise" in record:
        _say(f"vocoder: note: inverted block-wise ({record['blockwise']['why']}; blocks of "
             f"{record['blockwise']['block_seconds']:g} s)")
        if fidelity.get("consistency_db") is not None:
            print(f"self-check vs the {fidelity['domain']} spectrogram as decoded: consistency "
                  f"{fidelity['consistency_db']:.1f} dB (docs/metrics.md)")
    elif "consistency_db" in fidelity:
        print(f"self-check vs the {fidelity['domain']} spectrogram as decoded (not a check of the decoding: look at "
              f"--preview): consistency {fidelity['consistency_db']:.1f} dB, hallucinated "
              f"{fidelity['hallucinated_db']:.1f} dB, missing {fidelity['missing_db']:.1f} dB (docs/metrics.md)")
    print(f"record {record_path(args.output)}")
    if out["preview"]:
        print(f"preview {out['preview']}")
    deviation = record.get("deviation_vs_input")
    if deviation:
        print(f"deviation map {deviation['map']}: added beyond 6 / 20 dB {deviation['added_beyond_6_db']:.1%} / "
              f"{deviation['added_beyond_20_db']:.1%} of the output's energy, lost {deviation['lost_beyond_6_db']:.1%} "
              f"/ {deviation['lost_beyond_20_db']:.1%} of the input's, out of band {deviation['out_of_band']:.1%}")
    return 0


def _say_learned(model: dict | None) -> None:
    """The one stderr line every learned backend's output gets."""
    if model:
        _say(f"vocoder: note: made by {model['name']} ({model['architecture']}, trained on "
             f"{model['training_data']}): {model['statement']}")


def _encode(args: argparse.Namespace) -> int:
    from vocoder.pipeline import encode, preview_path

    overrides = _spec_overrides(args)
    metadata = encode(args.audio, args.output, preset=args.preset, bits=args.bits,
                      dynamic_range_db=args.dynamic_range, preview=args.preview, overrides=overrides,
                      block_seconds=args.block_seconds)
    blocks = next((step["read_in_blocks"] for step in metadata["provenance"] if "read_in_blocks" in step), None)
    if blocks:
        _say(f"vocoder: note: encoded block-wise ({blocks['why']}); the pixels are those of a whole-file "
             "encoding")
    print(f"wrote {args.output} ({metadata['spec']['axis']['kind']} spectrogram, "
          f"{'+'.join(metadata['layout']['channels'])}, {args.bits}-bit, preset {args.preset}"
          + (f" with {overrides.describe()})" if overrides else ")"))
    if args.preview:
        print(f"preview {preview_path(args.output)}")
    return 0


def _info(args: argparse.Namespace) -> int:
    from vocoder import describe

    if describe.is_audio(args.image):
        record = describe.audio_record(args.image)
        print(describe.dumps(record) if args.json else "\n".join(describe.audio_summary(record)))
        return 0
    metadata, header = describe.picture_record(args.image, args.max_pixels)
    found = None
    if metadata is None:
        found = describe.drawn_plot_reading(args.image, args.max_pixels)
    if args.preview and (found is None or found[1] is None):
        raise VocoderError(f"--preview draws what was found in a drawn plot; {args.image} is "
                           + ("a vocoder PNG" if metadata is not None else "not one (nothing was found)"))
    if not args.json:
        print("\n".join(describe.picture_summary(args.image, metadata, header, args.max_pixels, found)))
    if args.preview:
        describe.write_found_parts(found, args.preview, args.image)
        print(f"preview {args.preview}")
    if metadata is None:
        how = "as a drawn plot (see above)" if found is not None and found[1] is not None else "as a plain picture"
        _say(f"{args.image}: no embedded vocoder metadata; `vocoder invert` will read it {how}")
        return 1
    if args.json:
        print(describe.dumps(metadata))
    return 0


def _backends(args: argparse.Namespace) -> int:
    from vocoder import describe

    rows = describe.backend_rows()
    print(describe.dumps(rows) if args.json else "\n".join(describe.backends_summary(rows)))
    return 0


def _bench(args: argparse.Namespace) -> int:
    import shlex

    from vocoder.evaluation.bench import find_clips, parse_backends, parse_kind_rules, run_bench
    from vocoder.evaluation.degrade import Degradation
    from vocoder.evaluation.fidelity import parse_metrics

    overrides = _spec_overrides(args)
    spec = effective_spec(args.preset, overrides)
    degradation = Degradation(png_bits=args.png_bits, blur_sigma=args.blur)
    degradation.validate()
    metrics = parse_metrics(args.metrics)
    backends = parse_backends(args.backends, iters=args.iters, seed=args.seed)
    clips = find_clips(args.inputs, parse_kind_rules(args.kind))
    command = "vocoder " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["bench"] else ""
    label = args.preset + (f" with {overrides.describe()}" if overrides else "")
    result = run_bench(clips, backends, label, args.out, metrics, args.report_audio, command=command, spec=spec,
                       degradation=degradation, notify=lambda line: _say(f"vocoder: {line}"),
                       timings=args.timings, inputs=args.inputs, progress=True if args.progress else None)
    print(f"{len(result.rows)} runs ({len(clips)} clips × {len(backends)} backends, input {degradation.label}) "
          f"written to {args.out}/")
    for name in ("results.csv", "summary.md", "summary.json", "report.html", "plots/", "audio/"):
        print(f"  {os.path.join(args.out, name)}")
    return 0


def _provenance(args: argparse.Namespace) -> dict[str, str | None]:
    return {"name": args.name, "training_data": args.training_data, "licence": args.licence}


def _wrote_model(path: str, meta: dict) -> None:
    from vocoder.models import registry
    from vocoder.models.store import card_path, read_spec

    architecture, config = registry.get(meta["architecture"]), meta["config"]
    print(f"wrote {path} ({architecture.describe(config)}, {architecture.parameters(config):,} parameters; reads "
          f"{architecture.consumes(read_spec(meta, path))})")
    print(f"model card {card_path(path)}")


def _export(args: argparse.Namespace) -> int:
    from vocoder.models.store import export

    _wrote_model(args.output, export(args.checkpoint, args.output, _provenance(args)))
    return 0


def _import(args: argparse.Namespace) -> int:
    from vocoder.models.original_hifigan import import_generator
    from vocoder.models.store import save
    from vocoder.provenance.record import model_record

    config = args.config or os.path.join(os.path.dirname(os.path.abspath(args.generator)), "config.json")
    generator, spec, source = import_generator(args.generator, config)
    given = {k: v for k, v in _provenance(args).items() if v is not None}
    meta = model_record({**given, "trained_batches": None}, source)
    _wrote_model(args.output, save(generator, spec, meta, args.output))
    return 0


def _sonify(args: argparse.Namespace) -> int:
    from vocoder.pipeline import record_path, sonify_picture

    record = sonify_picture(args.image, args.output, args.curve, args.sr, args.value_map, args.max_pixels,
                            timings=args.timings)
    for warning in record["warnings"]:
        _say(f"vocoder: warning: {warning}")
    son, out = record["sonification"], record["output"]
    print(f"wrote {args.output} ({out['samples'] / out['sample_rate']:.2f} s, {out['channels']} ch, Hilbert curve "
          f"{son['side']}×{son['side']}{', padded' if son['padded'] else ''}, {son['value_map']})")
    print(f"record {record_path(args.output)}")
    return 0


def _desonify(args: argparse.Namespace) -> int:
    from vocoder.pipeline import desonify_audio, record_path

    record = desonify_audio(args.audio, args.output, args.size, args.value_map, args.bits)
    out = record["output"]
    print(f"wrote {args.output} ({out['width']}×{out['height']}, {out['format']}; size from "
          f"{record['desonification']['size_from']})")
    print(f"record {record_path(args.output)}")
    return 0


def _pattern(args: argparse.Namespace) -> int:
    from vocoder.pipeline import make_pattern

    record = make_pattern(args.kind, args.output, args.preset, _spec_overrides(args), args.duration, args.text)
    print(f"wrote {args.output} ({args.kind}, {record['spec']['axis']['kind']} axis, {args.duration:g} s)")
    if record["truth"]:
        print(f"truth {record['truth']['path']} (bench it: vocoder bench {record['truth']['path']} ...)")
    return 0


def _models(args: argparse.Namespace) -> int:
    from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT
    from vocoder.models import registry
    from vocoder.models.pretrained import INSTALL_HINT, cache_dir, describe

    print("architectures (`invert --backend learned --checkpoint MODEL` runs any of them):")
    for name in registry.names():
        print(f"  {name:<12s}  {registry.get(name).summary}")
    print()
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


# name → (summary, parser builder, runner)
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "encode": ("audio file → spectrogram PNG with its spec embedded", _build_encode, _encode),
    "invert": ("spectrogram PNG or any picture → audio, with a JSON record", _build_invert, _invert),
    "info": ("what a spectrogram image (or audio file) is: spec, mapping, size, claims", _build_info, _info),
    "backends": ("list the inversion backends, their options and defaults", _build_backends, _backends),
    "bench": ("encode → invert → measure every clip with every backend; tables, plots, report", _build_bench,
              _bench),
    "export": ("training checkpoint → model file (.safetensors: weights + spec, no pickle) and its model card",
               _build_export, _export),
    "import": ("original HiFi-GAN generator checkpoint (+ config.json) → model file", _build_import, _import),
    "sonify": ("picture → audio along a Hilbert curve (exactly invertible with desonify)", _build_sonify, _sonify),
    "desonify": ("audio from `vocoder sonify` → the picture again", _build_desonify, _desonify),
    "pattern": ("draw a test pattern with a known truth (chirp, tones, grid, text)", _build_pattern, _pattern),
    "models": ("list the model architectures, and the named pretrained models and whether they are here", _build_models, _models),
}
TRAINING = ("fit", "validate", "test")


def _inputs(args: argparse.Namespace) -> list[str]:
    """The files a command reads: no output may be one of them."""
    named = [getattr(args, name, None) for name in ("audio", "image", "checkpoint", "generator", "config")]
    return [p for p in named + list(getattr(args, "inputs", None) or []) if isinstance(p, str)]


HELP_ALL = "--help-all"


def _short_help_wanted(argv: list[str]) -> bool:
    """`vocoder fit --help` (before any `--`): the short pointer, not Lightning's 1,800 lines."""
    args = argv[: argv.index("--")] if "--" in argv else argv
    return HELP_ALL not in args and any(a in ("-h", "--help") for a in args)


def training_help(command: str) -> str:
    """The options people change first for `vocoder fit|validate|test`, and where the rest are."""
    fit_only = command == "fit"
    lines = [
        f"usage: vocoder {command} --config CONFIG.yaml [--SECTION.OPTION VALUE ...]",
        "",
        f"{'Train' if fit_only else 'Evaluate'} a HiFi-GAN vocoder with LightningCLI. The options changed most:",
        "  --config FILE                  YAML config, e.g. configs/hifigan_tiny.yaml (repeatable; later wins)",
        "  --data.data_dir DIR            training audio: a folder searched for .wav/.flac/.ogg",
        "  --data.file_list FILE          or a text file of audio paths, one per line",
        "  --data.batch_size N            items per batch on each device (global = N × devices × nodes)",
    ]
    if fit_only:
        lines += [
            "  --trainer.max_steps N          when to stop, in batches (generator updates), as every step shown",
            "  --run NAME                     checkpoints and config.yaml go to runs/NAME/ (--checkpoint_root moves runs/)",
            "  --model.init_generator MODEL   fine-tune from a model name (vocoder models), .safetensors or .ckpt",
            "  --ckpt_path runs/OLD/last.ckpt resume a run (give it a new --run NAME)",
            "  --force                        write into a run folder that already holds files",
        ]
    else:
        lines.append("  --ckpt_path FILE.ckpt          the checkpoint to evaluate")
    lines += [
        "  --trainer.accelerator cpu|gpu  --trainer.devices N    where to run",
        "  --max-memory SIZE              refuse a run estimated to need more (default: half this machine's RAM)",
        "  --print_config                 print the merged config (every option, resolved) and exit",
        "",
        "Relative --data.data_dir/--data.file_list/--data.val_files: in a config file, relative to that file's",
        "folder; on the command line, relative to the current folder.",
        f"Every option (about 1,800 lines of Lightning's help): vocoder {command} {HELP_ALL}",
    ]
    return "\n".join(lines)


def _say(line: str) -> None:
    """Every line vocoder itself writes to stderr: control characters a file
    name or a file's text carried are shown as escapes, never sent raw."""
    print(terminal_line(line), file=sys.stderr)


def _fail(message: str) -> int:
    """The one error line: on one line, cut."""
    _say(f"vocoder: error: {' '.join(str(message).split())[:2000]}")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    if sys.stdout is None:  # started with descriptor 1 closed (`>&-`): nowhere to say what was done
        return _fail("standard output is closed; give it somewhere to go (e.g. >/dev/null); nothing was done")
    stdout, sys.stdout = sys.stdout, GuardedStdout(sys.stdout)
    try:
        return _run(argv)
    finally:
        sys.stdout = stdout


def _run(argv: Sequence[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    policy = None  # the command's output policy, once set: what it has published
    if hasattr(sys.stdout, "reconfigure"):  # a file name that is not UTF-8 still prints
        sys.stdout.reconfigure(errors="backslashreplace")
    with interrupts.handled():
        try:
            if argv and argv[0] in TRAINING and _short_help_wanted(argv):
                print(training_help(argv[0]))
                code = 0
            elif argv and argv[0] in TRAINING:
                from vocoder.training.cli import run  # Lightning loads only for training

                code = run(["--help" if a == HELP_ALL else a for a in argv])
            else:
                args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
                if not os.environ.get("VOCODER_DEBUG"):
                    # Library warnings are not the user's business on stderr (one line per
                    # error, nothing else); what matters is recorded (decoder notes).
                    warnings.simplefilter("ignore")
                budget.set_limit(getattr(args, "max_memory", None))
                with output_policy(force=getattr(args, "force", False), inputs=_inputs(args)) as policy:
                    try:
                        code = COMMANDS[args.command][2](args)
                        sys.stdout.flush()  # a closed or full stdout shows here, not as a message at exit
                    except StandardOutputFailed as exc:
                        _silence_stdout()
                        return _fail(f"{exc}; {outcome(policy)}")
            return code
        except VocoderError as exc:
            # One line whatever a file put into the message (newlines, megabytes of text).
            return _fail(str(exc))
        except (KeyboardInterrupt, SystemExit) as exc:
            if isinstance(exc, SystemExit) and interrupts.received() is None:
                raise  # argparse's usage errors and --help
            _say(interrupts.message(interrupts.received(), published_outputs(policy)))
            return EXIT_USAGE
        except Exception as exc:  # a bug, not a user error: still one line unless asked
            failure = os_failure(exc, policy=policy)
            if failure is not None:  # a full disk or unreadable input that a library reported its own way
                return _fail(str(failure))
            if os.environ.get("VOCODER_DEBUG"):
                raise
            first = (str(exc).strip().splitlines() or [""])[0]
            _say(f"vocoder: internal error: {type(exc).__name__}: {first} (set VOCODER_DEBUG=1 for a traceback)")
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
