"""Property-based fuzzing of every reader of untrusted bytes.

For any input, a reader either returns something valid or raises
VocoderError (one line, exit 2 at the CLI); any other exception is a bug.
Inputs are real files with random bytes changed, inserted or cut off, and
metadata with random JSON values in random places.

Runs in process with a fixed seed (derandomize) so the suite is
repeatable; VOCODER_FUZZ_EXAMPLES=N runs N examples per reader instead of
the default 40, with fresh randomness.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hostile as h
from conftest import run_cli
from vocoder import costs
from vocoder.errors import VocoderError
from vocoder.safety import budget

EXAMPLES = int(os.environ.get("VOCODER_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize="VOCODER_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large], database=None)
# Small caps keep a mutated header from asking this test process for gigabytes.
MAX_PIXELS = 4_000_000


def _mutations(base: bytes):
    """Random byte changes, insertions and a truncation of ``base``."""
    edit = st.tuples(st.integers(0, max(0, len(base) - 1)), st.integers(0, 255), st.booleans())
    return st.tuples(st.lists(edit, max_size=8), st.integers(1, len(base) + 8))


def _apply(base: bytes, mutation) -> bytes:
    edits, cut = mutation
    data = bytearray(base)
    for pos, value, insert in edits:
        if insert:
            data.insert(pos, value)
        elif pos < len(data):
            data[pos] = value
    return bytes(data[:cut])


def _mutated(bases: dict[str, bytes]):
    return st.sampled_from(sorted(bases)).flatmap(
        lambda name: st.tuples(st.just(name), _mutations(bases[name])))


IMAGES = {
    "encoded-16bit.png": h.encoded_png(),
    "grey.png": h.picture(24, 20),
    "rgba.png": h.picture(16, 12, "RGBA"),
    "palette.gif": h.picture(16, 12, "P", "GIF"),
    "grey.tif": h.picture(16, 12, "L", "TIFF"),
    "rgb.jpg": h.picture(16, 16, "RGB", "JPEG"),
    "rgb.bmp": h.picture(16, 12, "RGB", "BMP"),
    "rgb16.png": h.png(8, 6, 16, 2),
}


def _read_image(path: str) -> None:
    """What `vocoder invert` does with a picture before any backend runs."""
    from vocoder.frontend.spectrogram_png import embedded
    from vocoder.frontend.image import image_to_spectrogram
    from vocoder.frontend.picture_chain import plain_geometry
    from vocoder.frontend.picture import probe, read_picture
    from vocoder.frontend.picture_options import PictureOptions
    from vocoder.spec import get_preset

    header = probe(path, MAX_PIXELS, frame=0)
    if header.metadata is not None:
        embedded(header.metadata, path, header.width, header.height, header.bands, header.bit_depth)
    else:
        plain_geometry(header.width, header.height, get_preset("linear"), PictureOptions(), path)
    picture = read_picture(path, MAX_PIXELS, frame=0)
    spectrogram = image_to_spectrogram(picture, None, PictureOptions(), False, path)
    assert spectrogram.magnitude.isfinite().all()


@FUZZ
@given(_mutated(IMAGES))
def test_image_reader_refuses_or_reads(tmp_path_factory, case):
    name, mutation = case
    path = tmp_path_factory.mktemp("img") / name
    path.write_bytes(_apply(IMAGES[name], mutation))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            _read_image(str(path))
        except VocoderError as exc:
            assert str(exc)
    assert not caught, [str(w.message) for w in caught]  # nothing escapes to stderr


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))


METADATA_PATHS = [p for p in _paths(h.metadata()) if p]


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(METADATA_PATHS), _json), min_size=1, max_size=3))
def test_embedded_metadata_parser_refuses_or_validates(changes):
    from vocoder.frontend.spectrogram_png import embedded
    from vocoder.spec import SpectrogramSpec

    meta = h.metadata()
    for path, value in changes:
        node = meta
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node[path[-1]] = value
    pixels = h._encoded()[0]
    try:
        found = embedded(meta, "x.png", pixels.shape[1], pixels.shape[0], "L", 16)
    except VocoderError as exc:
        assert str(exc)
        return
    assert isinstance(found.spec, SpectrogramSpec) and found.channels == 1
    assert found.n_samples is None or found.spec.n_frames(found.n_samples) == pixels.shape[1]


AUDIO = {
    "pcm16.wav": h.wav(0.2),
    "float.wav": h.wav(0.2, subtype="FLOAT"),
    "stereo.wav": h.wav(0.2, channels=2),
    "clip.flac": h.wav(0.2, fmt="FLAC"),
    "clip.ogg": h.wav(0.3, fmt="OGG", subtype="VORBIS"),
}


@FUZZ
@given(_mutated(AUDIO))
def test_audio_reader_refuses_or_reads(tmp_path_factory, case):
    from vocoder.frontend.audio import audio_info, audio_to_spectrogram, read_audio
    from vocoder.spec import get_preset

    name, mutation = case
    path = tmp_path_factory.mktemp("audio") / name
    path.write_bytes(_apply(AUDIO[name], mutation))
    spec = get_preset("linear")
    budget.set_limit(2 * 2**30)
    try:
        header = audio_info(path)
        costs.encode(header.channels, header.frames, header.sample_rate, spec, False).check()
        audio = read_audio(path)
        spectrogram = audio_to_spectrogram(audio, spec)
        assert spectrogram.magnitude.isfinite().all()
    except VocoderError as exc:
        assert str(exc)
    finally:
        budget.set_limit(None)


@FUZZ
@given(st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200),
    _json.map(json.dumps),
    st.integers(1, 5000).map(h.nested),
    st.integers(1, 3000).map(lambda n: '{"a":' * n + "1" + "}" * n),
))
def test_json_metadata_is_refused_or_bounded(text):
    from vocoder.safety.untrusted import MAX_JSON_DEPTH, depth, load_json

    try:
        value = load_json(text, "metadata")
    except VocoderError as exc:
        assert str(exc)
        return
    assert depth(value) <= MAX_JSON_DEPTH


MODEL = h.safetensors_model()


@pytest.fixture(scope="module")
def tiny_png(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pic") / "p.png"
    path.write_bytes(h.picture(12, 10))
    return path


@FUZZ
@given(_mutations(MODEL))
def test_safetensors_checkpoint_reader_through_the_cli(tmp_path_factory, tiny_png, mutation):
    folder = tmp_path_factory.mktemp("model")
    model = folder / "m.safetensors"
    model.write_bytes(_apply(MODEL, mutation))
    out = folder / "y.wav"
    result = run_cli("invert", tiny_png, "-o", out, "--backend", "hifigan", "--checkpoint", model,
                     "--duration", "0.2", "--max-memory", "3G")
    assert result.code in (0, 2), result
    if result.code == 2:
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("vocoder: error:"), result.err
        assert not out.exists()


def test_the_unmutated_model_works(tmp_path, tiny_png):
    """The fuzzed model is a working one, so mutations start from valid input."""
    model = tmp_path / "m.safetensors"
    model.write_bytes(MODEL)
    result = run_cli("invert", tiny_png, "-o", tmp_path / "y.wav", "--backend", "hifigan", "--checkpoint", model,
                     "--duration", "0.2")
    assert result.code == 0, result
