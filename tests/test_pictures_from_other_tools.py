"""Pictures from other tools: colour maps, screenshots with axes, producers'
conventions (Riffusion), polarity, planes, and Hilbert sonification."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

from conftest import SAMPLES, run_cli

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RIFFUSION = Path(__file__).resolve().parent / "fixtures" / "riffusion"


@pytest.fixture(scope="module")
def speech_db():
    """The bundled clip's hifigan mel in dB re. its peak, clipped to [-80, 0], and the audio."""
    from vocoder.frontend.audio import audio_to_spectrogram, read_audio
    from vocoder.spec import get_preset

    audio = read_audio(SAMPLES / "LJ001-0006.wav")
    mel = audio_to_spectrogram(audio, get_preset("hifigan")).magnitude[0].double().numpy()
    db = np.clip(20 * np.log10(np.maximum(mel, 1e-12) / mel.max()), -80.0, 0.0)
    return db, audio


def _level_aligned_mel_l1(truth: torch.Tensor, wav: Path) -> float:
    from vocoder.evaluation.metrics import mel_l1
    from vocoder.frontend.audio import read_audio
    from vocoder.spec import get_preset

    out = read_audio(wav).samples.double()
    n = min(truth.shape[-1], out.shape[-1])
    ref, est = truth[:, :n].double(), out[:, :n]
    est = est * (ref.norm() / est.norm())  # a picture has no level: compare shapes, not gains
    return mel_l1(ref, est, get_preset("hifigan"))


def _invert(picture: Path, out: Path, *options: str, duration: float) -> str:
    result = run_cli("invert", picture, "-o", out, "--preset", "hifigan", "--db-range", "-80", "0",
                     "--duration", f"{duration:.4f}", "--iters", "32", *options)
    assert result.code == 0, result
    return result.err


@pytest.fixture(scope="module")
def grey_mel_l1(speech_db, tmp_path_factory) -> float:
    db, audio = speech_db
    folder = tmp_path_factory.mktemp("grey")
    plt.imsave(folder / "grey.png", (db[::-1] + 80) / 80, cmap="gray", vmin=0, vmax=1)
    _invert(folder / "grey.png", folder / "grey.wav", duration=audio.samples.shape[-1] / audio.sample_rate)
    return _level_aligned_mel_l1(audio.samples, folder / "grey.wav")


@pytest.mark.parametrize("cmap", ["viridis", "magma", "jet"])
def test_a_colour_mapped_spectrogram_inverts_as_well_as_the_grey_one(cmap, speech_db, grey_mel_l1, tmp_path):
    db, audio = speech_db
    picture = tmp_path / f"{cmap}.png"
    plt.imsave(picture, (db[::-1] + 80) / 80, cmap=cmap, vmin=0, vmax=1)  # what another program writes
    duration = audio.samples.shape[-1] / audio.sample_rate
    _invert(picture, tmp_path / "named.wav", "--colormap", cmap, duration=duration)
    assert _level_aligned_mel_l1(audio.samples, tmp_path / "named.wav") <= 1.10 * grey_mel_l1
    _invert(picture, tmp_path / "auto.wav", "--colormap", "auto", duration=duration)
    step = next(s for s in json.loads((tmp_path / "auto.wav.json").read_text())["steps"]
                if s["step"] == "decode_colormap")
    assert step["colormap"] == cmap and step["fits"] and step["mean_delta_e"] < 1.0
    # Read as luminance (the mistake this option exists for), the same picture is much worse.
    _invert(picture, tmp_path / "luma.wav", duration=duration)
    if cmap != "magma":  # magma's luminance happens to be monotone
        assert _level_aligned_mel_l1(audio.samples, tmp_path / "luma.wav") > 1.3 * grey_mel_l1


def test_a_specshow_figure_with_axes_and_colour_bar_is_cropped_and_decoded(speech_db, grey_mel_l1, tmp_path):
    import librosa.display

    db, audio = speech_db
    # Big enough to hold the clip's 489 frames × 80 bands (an 800-pixel-wide figure cannot: its own
    # rasterisation merges frames, which no decoder can undo).
    fig, ax = plt.subplots(figsize=(16, 6), dpi=100)
    image = librosa.display.specshow(db, sr=22050, hop_length=256, x_axis="time", y_axis="mel", fmax=8000,
                                     cmap="magma", vmin=-80, vmax=0, ax=ax)
    fig.colorbar(image, ax=ax, format="%+2.0f dB")
    ax.set_title("a figure someone sent")
    fig.savefig(tmp_path / "figure.png")
    fig.canvas.draw()
    extent = ax.get_window_extent()  # the plot area as matplotlib placed it (origin bottom left)
    height = fig.get_size_inches()[1] * fig.dpi
    expected = (extent.x0, height - extent.y1, extent.x1, height - extent.y0)
    plt.close(fig)
    duration = audio.samples.shape[-1] / audio.sample_rate
    err = _invert(tmp_path / "figure.png", tmp_path / "figure.wav", "--crop", "auto", "--colormap", "auto",
                  "--row-scale", "librosa",
                  duration=duration)
    assert "unsure" not in err
    steps = json.loads((tmp_path / "figure.wav.json").read_text())["steps"]
    crop = next(s for s in steps if s["step"] == "crop")
    assert all(abs(found - true) <= 3 for found, true in zip(crop["box"], expected)), (crop["box"], expected)
    assert next(s for s in steps if s["step"] == "decode_colormap")["colormap"] == "magma"
    assert _level_aligned_mel_l1(audio.samples, tmp_path / "figure.wav") <= 1.10 * grey_mel_l1


def test_the_wrong_colour_map_is_reported(speech_db, tmp_path):
    db, _ = speech_db
    picture = tmp_path / "jet.png"
    plt.imsave(picture, (db[::-1] + 80) / 80, cmap="jet")
    result = run_cli("invert", picture, "-o", tmp_path / "x.wav", "--colormap", "viridis", "--iters", "2")
    assert result.code == 0
    assert "warning: the pixels are far from the viridis colour map" in result.err
    record = json.loads((tmp_path / "x.wav.json").read_text())
    assert any("viridis" in w for w in record["warnings"])
    unknown = run_cli("invert", picture, "-o", tmp_path / "y.wav", "--colormap", "nosuchmap")
    assert unknown.code == 2 and "unknown colour map" in unknown.err and not (tmp_path / "y.wav").exists()


def test_a_colour_bar_in_the_picture_gives_the_map(tmp_path):
    from vocoder.frontend.image import image_to_spectrogram
    from vocoder.frontend.picture import read_picture
    from vocoder.frontend.picture_options import PictureOptions

    values = np.linspace(0, 1, 64)[None, :].repeat(40, axis=0)
    rgb = matplotlib.colormaps["plasma"](values)[..., :3]
    bar = matplotlib.colormaps["plasma"](np.linspace(1, 0, 100))[:, None, :3].repeat(10, axis=1)  # top = high
    canvas = np.ones((110, 100, 3))
    canvas[5:45, 5:69] = rgb
    canvas[5:105, 80:90] = bar
    plt.imsave(tmp_path / "p.png", canvas)
    options = PictureOptions(crop=(5, 5, 69, 45), colorbar=(80, 5, 90, 105))
    decoded = image_to_spectrogram(read_picture(str(tmp_path / "p.png")), None, options)
    step = next(s for s in decoded.provenance if s["step"] == "decode_colour_bar")
    assert step["mean_delta_e"] < 2 and step["masked_pixels"] == 0, step
    # The values rise along the bar's direction: the plot's left column is the map's low end.
    magnitude = decoded.magnitude[0].numpy()
    assert magnitude[:, 0].mean() < magnitude[:, magnitude.shape[1] // 2].mean() < magnitude[:, -1].mean()


def test_polarity_and_planes(tmp_path):
    from vocoder.frontend.picture_chain import picture_to_spectrogram
    from vocoder.frontend.picture import read_picture
    from vocoder.frontend.picture_options import PictureOptions
    from vocoder.spec import get_preset

    rng = np.random.default_rng(1)
    left, right = rng.random((64, 80)) ** 3, rng.random((64, 80)) ** 3  # mostly quiet, as spectrograms are
    rgb = np.stack([np.zeros_like(left), 1 - left, 1 - right], axis=2)  # G = left, B = right, dark is loud
    plt.imsave(tmp_path / "gb.png", rgb)
    picture = read_picture(str(tmp_path / "gb.png"))
    spec = get_preset("linear")
    wrong = picture_to_spectrogram(picture, spec, PictureOptions(planes=("g", "b")))
    assert any("--dark-is-loud" in s.get("warning", "") for s in wrong.provenance)
    right_way = picture_to_spectrogram(picture, spec, PictureOptions(planes=("g", "b"), dark_is_loud=True,
                                                                     mapping="power", power=0.5, flip=False))
    assert not any(s.get("warning") for s in right_way.provenance)
    assert right_way.channels == 2
    # Power mapping: amplitude = value^(1/power); resized rows, so compare the column means' order only.
    loud_left = right_way.magnitude[0].mean(dim=0)
    assert torch.corrcoef(torch.stack([loud_left, torch.from_numpy(left).float().mean(dim=0)]))[0, 1] > 0.9


@pytest.mark.parametrize("args,message", [
    (("--mapping", "power"), "needs --power"),
    (("--power", "0.25"), "goes with --mapping power"),
    (("--channels", "g,x"), "--channels takes"),
    (("--channels", "g,b", "--colormap", "viridis"), "exclude each other"),
    (("--crop", "0,0,5000,10"), "is not a box inside"),
    (("--crop", "1,2,3"), "takes 4 whole numbers"),
    (("--colormap", "viridis"), "needs a colour picture"),  # text.png is grey
    (("--freq-range", "100", "50"), "--freq-range needs"),
])
def test_picture_option_mistakes_are_one_line(tmp_path, args, message):
    out = tmp_path / "x.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", out, *args)
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1, result
    assert not out.exists()


def test_freq_range_places_the_rows_and_leaves_the_rest_silent(tmp_path):
    from vocoder.frontend.picture_chain import picture_to_spectrogram
    from vocoder.frontend.picture import read_picture
    from vocoder.frontend.picture_options import PictureOptions
    from vocoder.spec import get_preset

    spec = get_preset("linear")
    decoded = picture_to_spectrogram(read_picture(str(SAMPLES / "text.png")), spec,
                                     PictureOptions(freq_range=(1000.0, 4000.0)))
    hz = torch.arange(spec.n_bins) * spec.sample_rate / spec.n_fft
    assert decoded.magnitude[:, (hz < 990) | (hz > 4010)].abs().max() == 0
    assert decoded.magnitude[:, (hz > 1100) & (hz < 3900)].abs().max() > 0


# -- Riffusion -------------------------------------------------------------------------------------------------

def _riffusion_sc(name: str, wav: Path) -> float:
    sys.path.insert(0, str(RIFFUSION))
    from sources import source_audio

    from conftest import SHARED
    from vocoder.evaluation.metrics import spectral_convergence_db
    from vocoder.frontend.audio import read_audio
    from vocoder.frontend.stft import magnitude
    from vocoder.spec import SpectrogramSpec

    truth = torch.from_numpy(source_audio(SHARED / "audio" / "eval", name)).double()
    est = read_audio(wav).samples.double()
    n = min(truth.shape[-1], est.shape[-1])
    spec = SpectrogramSpec(sample_rate=44100, n_fft=17640, hop_length=441, win_length=4410)
    ref, out = magnitude(truth[:, :n], spec), magnitude(est[:, :n], spec)
    gain = float((ref * out).sum() / (out * out).sum())  # as the fixture script measured Riffusion's own
    return spectral_convergence_db(ref, gain * out)


@pytest.mark.parametrize("name", ["riffusion_trumpet_mono.png", "riffusion_stereo.png"])
def test_riffusion_images_invert_with_no_options_at_least_as_well_as_riffusion(name, shared_data, tmp_path):
    """Images made by Riffusion's own converter (tests/fixtures/riffusion/make_fixtures.py)."""
    out = tmp_path / "r.wav"
    result = run_cli("invert", RIFFUSION / name, "-o", out)
    assert result.code == 0, result
    record = json.loads((tmp_path / "r.wav.json").read_text())
    assert record["input"]["kind"].startswith("riffusion")
    claims = next(s for s in record["steps"] if s["step"] == "producer_conventions")
    assert claims["producer"] == "riffusion" and claims["claims"]["sample_rate"] == 44100
    assert record["spec"]["n_fft"] == 17640 and record["spec"]["hop_length"] == 441
    assert record["spec"]["win_length"] == 4410 and record["spec"]["axis"]["mel_scale"] == "htk"
    assert record["output"]["channels"] == (2 if "stereo" in name else 1)
    theirs = json.loads((RIFFUSION / "riffusion_inversion.json").read_text())["fixtures"][name]
    assert _riffusion_sc(name, out) <= theirs["riffusion_inversion_sc_db"]
    assert abs(record["output"]["level"]["gain_db"]) < 1.0  # the level comes back from MAX_VALUE


def test_riffusion_options_that_contradict_the_file_are_refused(tmp_path):
    result = run_cli("invert", RIFFUSION / "riffusion_trumpet_mono.png", "-o", tmp_path / "x.wav",
                     "--colormap", "viridis")
    assert result.code == 2 and "riffusion's parameters" in result.err


# -- Hilbert sonification --------------------------------------------------------------------------------------

def test_hilbert_curve_visits_every_pixel_once_by_single_steps():
    from vocoder.frontend.sonify import hilbert_order

    for side in (1, 2, 4, 64):
        order = hilbert_order(side)
        assert len({tuple(p) for p in order}) == side * side
        assert (np.abs(np.diff(order, axis=0)).sum(axis=1) == 1).all()


@pytest.mark.parametrize("mode,size", [("L", (64, 64)), ("RGB", (50, 30)), ("I;16", (33, 17))])
def test_sonify_desonify_round_trip_is_exact(tmp_path, mode, size):
    from PIL import Image

    rng = np.random.default_rng(0)
    width, height = size
    if mode == "I;16":
        array = rng.integers(0, 65536, (height, width), dtype=np.uint16)
        from vocoder.frontend.picture import encode_png

        (tmp_path / "in.png").write_bytes(encode_png(array))
    else:
        shape = (height, width, 3) if mode == "RGB" else (height, width)
        array = rng.integers(0, 256, shape, dtype=np.uint8)
        Image.fromarray(array, mode).save(tmp_path / "in.png")
    result = run_cli("sonify", tmp_path / "in.png", "-o", tmp_path / "s.wav", "--sr", "16000")
    assert result.code == 0, result
    record = json.loads((tmp_path / "s.wav.json").read_text())
    assert record["sonification"]["padded"] == (width != height or width & (width - 1) != 0)
    assert run_cli("desonify", tmp_path / "s.wav", "-o", tmp_path / "out.png").code == 0
    from vocoder.frontend.png_stream import iter_rows

    back = np.stack(list(iter_rows(str(tmp_path / "out.png"))))  # the stored integers
    assert back.shape[:2] == (height, width)
    assert np.array_equal(back.reshape(array.shape), array.astype(np.int64))


def test_desonify_refuses_audio_that_is_not_a_curve(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "x.wav", np.zeros(1000, dtype=np.float32), 16000)
    result = run_cli("desonify", tmp_path / "x.wav", "-o", tmp_path / "x.png")
    assert result.code == 2 and "not a power-of-two square" in result.err
    assert not (tmp_path / "x.png").exists()


def test_info_shows_a_producers_claims_and_the_options_it_implies():
    result = run_cli("info", "--json", RIFFUSION / "riffusion_stereo.png")
    assert result.code == 0, result
    shown = json.loads(result.out)
    assert shown["format"] == "riffusion spectrogram image"
    assert shown["claims_from_file"]["power_for_image"] == 0.25 and shown["claims_from_file"]["stereo"] == 1
    assert shown["picture_options"]["planes"] == ["g", "b"] and shown["picture_options"]["dark_is_loud"]
    assert shown["spec"]["axis"]["n_mels"] == 512 and shown["spec"]["axis"]["fmax"] == 10000


# -- test patterns ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["chirp", "tones", "grid"])
def test_audio_patterns_carry_their_truth(kind, tmp_path):
    from vocoder.frontend.audio import audio_to_spectrogram, read_audio
    from vocoder.frontend.image import image_to_spectrogram
    from vocoder.frontend.picture import read_picture
    from vocoder.frontend.picture_options import PictureOptions
    from vocoder.spec import get_preset

    out = tmp_path / f"{kind}.png"
    result = run_cli("pattern", kind, "-o", out, "--preset", "hifigan", "--duration", "1")
    assert result.code == 0, result
    truth = read_audio(str(out) + ".truth.wav")
    assert truth.sample_rate == 22050 and abs(truth.samples.shape[-1] - 22050) <= 1
    # The picture is exactly the truth's spectrogram (up to 16-bit quantisation).
    expected = audio_to_spectrogram(truth, get_preset("hifigan")).magnitude
    decoded = image_to_spectrogram(read_picture(str(out)), None, PictureOptions()).magnitude
    loud = expected > expected.max() * 1e-3
    assert torch.allclose(decoded[loud], expected[loud], rtol=2e-3)
    record = json.loads((tmp_path / f"{kind}.png.json").read_text())
    assert record["truth"]["sha256"] and record["pattern"] == kind


def test_the_chirp_rises_and_the_text_pattern_has_no_waveform(tmp_path):
    from vocoder.frontend.image import image_to_spectrogram
    from vocoder.frontend.picture import read_picture
    from vocoder.frontend.picture_options import PictureOptions

    assert run_cli("pattern", "chirp", "-o", tmp_path / "c.png", "--duration", "2").code == 0
    chirp = image_to_spectrogram(read_picture(str(tmp_path / "c.png")), None, PictureOptions()).magnitude[0]
    peaks = chirp.argmax(dim=0)
    assert peaks[-20] > 4 * peaks[20] > 0  # an exponential sweep: the peak bin climbs over time
    assert run_cli("pattern", "text", "-o", tmp_path / "t.png", "--text", "HI", "--scale", "log",
                   "--bands-per-octave", "12", "--fmin", "100").code == 0
    assert not (tmp_path / "t.png.truth.wav").exists()
    text = image_to_spectrogram(read_picture(str(tmp_path / "t.png")), None, PictureOptions())
    assert text.spec.axis.kind == "log" and 0.05 < float((text.magnitude > 0.5).float().mean()) < 0.6
    assert run_cli("pattern", "chirp", "-o", tmp_path / "c.png").code == 2  # exists: no overwrite
