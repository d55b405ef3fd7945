import io
import json

import numpy as np
import png
import pytest
import torch
from PIL import Image

from vocoder.errors import VocoderError
from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import encode_png, read_picture
from vocoder.frontend.picture_chain import picture_to_spectrogram
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend.png_stream import iter_rows
from vocoder.frontend.spectrogram_png import spectrogram_to_png
from vocoder.spec import PRESETS
from vocoder.spectrogram import Spectrogram


def _encode_decode(tmp_path, spectrogram, bits):
    data, metadata = spectrogram_to_png(spectrogram, bits=bits)
    path = tmp_path / f"s{bits}.png"
    path.write_bytes(data)
    decoded = image_to_spectrogram(read_picture(path), None, PictureOptions())
    return decoded, metadata


def _db(x):
    return 20 * torch.log10(x.double())


@pytest.mark.parametrize("bits, bound_db", [(16, 0.01), (8, 100 / 255 / 2 + 1e-6)])
def test_embedded_metadata_round_trip_within_quantisation(tmp_path, ljspeech, bits, bound_db):
    original = audio_to_spectrogram(read_audio(ljspeech[1]), PRESETS["hifigan"])
    decoded, metadata = _encode_decode(tmp_path, original, bits)
    assert decoded.spec == original.spec
    assert decoded.n_samples == original.n_samples
    mapping = metadata["mapping"]
    assert mapping["db_max"] - mapping["db_min"] == 100.0
    in_range = decoded.magnitude > 0
    half_step = 100 / (2**bits - 1) / 2
    # What lies within the 100 dB range survives, within half a quantisation
    # step; what lies below it becomes silence (pixel 0).
    relative_db = _db(original.magnitude) - _db(original.magnitude.max())
    assert in_range[relative_db > -100 + half_step + 1e-6].all()
    assert not in_range[relative_db < -100 + half_step - 1e-6].any()
    error = (_db(decoded.magnitude[in_range]) - _db(original.magnitude[in_range])).abs().max()
    assert error <= min(bound_db, half_step + 1e-6)
    # The record of how it was made travels with the image.
    assert [s["step"] for s in decoded.provenance] == ["read_audio", "stft", "decode_image"]


def test_stereo_becomes_rgb_and_comes_back(tmp_path):
    generator = torch.Generator().manual_seed(1)
    magnitude = torch.rand((2, 513, 40), generator=generator) + 1e-3
    original = Spectrogram(magnitude, PRESETS["linear"])
    data, metadata = spectrogram_to_png(original, bits=16)
    reader_w, reader_h, rows, info = png.Reader(bytes=data).asDirect()
    assert info["planes"] == 3 and info["bitdepth"] == 16 and (reader_w, reader_h) == (40, 513)
    rgb = np.vstack([np.asarray(r) for r in rows]).reshape(513, 40, 3)
    assert rgb[..., 2].max() == 0  # B = 0
    assert metadata["layout"]["channels"] == ["left", "right"]
    path = tmp_path / "stereo.png"
    path.write_bytes(data)
    decoded = image_to_spectrogram(read_picture(path), None, PictureOptions())
    assert decoded.channels == 2
    assert (_db(decoded.magnitude) - _db(original.magnitude)).abs().max() < 0.01


def test_low_frequencies_are_at_the_bottom(tmp_path):
    magnitude = torch.full((1, 513, 8), 1e-4)
    magnitude[0, 10, :] = 1.0  # a low bin
    data, _ = spectrogram_to_png(Spectrogram(magnitude, PRESETS["linear"]))
    array = np.asarray(Image.open(io.BytesIO(data)))
    assert array.shape == (513, 8)
    assert array.argmax(axis=0).tolist() == [512 - 10] * 8


def test_encoder_output_reads_the_same_in_pillow_and_pypng():
    grey = (np.arange(12 * 7).reshape(12, 7) * 700).astype(np.uint16)
    data = encode_png(grey, {"vocoder": json.dumps({"a": 1})})
    with Image.open(io.BytesIO(data)) as im:
        assert np.array_equal(np.asarray(im), grey)
        assert json.loads(im.info["vocoder"]) == {"a": 1}
    _, _, rows, _ = png.Reader(bytes=data).asDirect()
    assert np.array_equal(np.vstack([np.asarray(r) for r in rows]), grey)


def _save(tmp_path, image: Image.Image, name: str, **kwargs):
    path = tmp_path / name
    image.save(path, **kwargs)
    return path


def _gradient_rgb():
    x = np.linspace(0, 255, 32, dtype=np.float64)
    return np.stack(np.broadcast_arrays(x[None, :], x[:, None], np.full((32, 32), 128.0)), axis=2).astype(np.uint8)


@pytest.mark.parametrize("mode", ["L", "I;16", "RGB", "RGBA", "P", "LA", "CMYK", "1"])
def test_every_common_image_mode_decodes(tmp_path, mode):
    rgb = Image.fromarray(_gradient_rgb(), "RGB")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(rgb.convert("L")).astype(np.uint16) * 257)
        assert image.mode == "I;16"
    else:
        image = rgb.convert(mode)
    path = _save(tmp_path, image, "x.jpg" if mode == "CMYK" else "x.png")
    picture = read_picture(path)
    spectrogram = picture_to_spectrogram(picture, PRESETS["linear"], PictureOptions())
    assert spectrogram.magnitude.shape == (1, 513, 32)
    assert torch.isfinite(spectrogram.magnitude).all()
    steps = [s["step"] for s in spectrogram.provenance]
    assert ("drop_alpha" in steps) == (mode in ("RGBA", "LA"))
    if mode in ("L", "I;16", "RGB"):
        # The values are the picture's own: luminance as a grey conversion gives it.
        expected = np.asarray(rgb.convert("L"), dtype=np.float64) / 255
        assert np.abs(_luma(picture) - expected).max() < 0.003
    if mode == "P":
        assert picture.bands == "RGB"  # the palette is expanded, not used as values


def _luma(picture):
    px = picture.pixels
    if px.shape[2] >= 3:
        return px[..., :3] @ np.array([0.299, 0.587, 0.114])
    return px[..., 0]


def test_sixteen_bit_colour_png_keeps_all_bits(tmp_path):
    rgb = (np.arange(4 * 5 * 3).reshape(4, 5, 3) * 1000 + 7).astype(np.uint16)
    path = tmp_path / "rgb16.png"
    path.write_bytes(encode_png(rgb))
    picture = read_picture(path)
    assert picture.bit_depth == 16 and picture.bands == "RGB"
    assert np.array_equal(np.stack(list(iter_rows(str(path)))), rgb)  # the stored integers


def test_channel_selection_and_stereo_from_r_and_g(tmp_path):
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    picture = read_picture(_save(tmp_path, Image.fromarray(rgb), "c.png"))
    spec = PRESETS["linear"]
    levels = {}
    for channel in ("grey", "r", "g", "b"):
        s = picture_to_spectrogram(picture, spec, PictureOptions(channel=channel))
        levels[channel] = float(s.magnitude.max())
    assert levels["r"] > levels["grey"] > levels["b"] and levels["r"] > levels["g"] > levels["b"]
    stereo = picture_to_spectrogram(picture, spec, PictureOptions(channel="stereo"))
    assert stereo.channels == 2
    assert torch.allclose(stereo.magnitude[0].max(), torch.tensor(levels["r"]))
    grey = read_picture(_save(tmp_path, Image.fromarray(rgb).convert("L"), "g.png"))
    with pytest.raises(VocoderError, match="stereo"):
        picture_to_spectrogram(grey, spec, PictureOptions(channel="stereo"))


def test_duration_sets_the_frame_count_and_length(tmp_path):
    picture = read_picture(_save(tmp_path, Image.new("L", (50, 30), 128), "d.png"))
    spec = PRESETS["hifigan"]
    s = picture_to_spectrogram(picture, spec, PictureOptions(duration=2.0))
    assert s.magnitude.shape == (1, 80, spec.n_frames(44100))
    assert s.length == 44100
    resize = next(step for step in s.provenance if step["step"] == "resize")
    assert resize["to"] == [80, spec.n_frames(44100)]


def test_black_stays_silent_and_blur_is_recorded(tmp_path):
    array = np.zeros((40, 40), np.uint8)
    array[20, :] = 255
    picture = read_picture(_save(tmp_path, Image.fromarray(array), "b.png"))
    s = picture_to_spectrogram(picture, PRESETS["linear"], PictureOptions(blur_sigma=2.0))
    assert s.magnitude[0, :, 0].eq(0).sum() > 400  # far from the line, still silence
    blurred = next(step for step in s.provenance if step["step"] == "gaussian_blur")
    assert blurred["sigma_pixels"] == 2.0
    sharp = picture_to_spectrogram(picture, PRESETS["linear"], PictureOptions())
    assert (s.magnitude > 0).sum() > (sharp.magnitude > 0).sum()


@pytest.mark.parametrize("options, message", [
    (PictureOptions(channel="purple"), "--channel"),
    (PictureOptions(duration=-1.0), "--duration"),
    (PictureOptions(blur_sigma=-2.0), "--blur"),
    (PictureOptions(db_min=0.0, db_max=-80.0), "--db-range"),
])
def test_bad_picture_options_are_refused(options, message):
    with pytest.raises(VocoderError, match=message):
        options.validate()
