import numpy as np
import pytest
import torch
import torchaudio

from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import read_picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend.spectrogram_png import spectrogram_to_png
from vocoder.frontend.stft import magnitude
from vocoder.inversion import create
from vocoder.inversion.griffinlim import fast_griffin_lim
from vocoder.spec import PRESETS
from vocoder.spectrogram import Spectrogram


def spectral_convergence_db(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    """20 log10(||S - Ŝ||_F / ||S||_F) on linear magnitudes."""
    return float(20 * torch.log10(torch.linalg.vector_norm(estimate - reference)
                                  / torch.linalg.vector_norm(reference)))


def _via_png(tmp_path, spectrogram):
    """Encode to a 16-bit PNG and decode it, as `vocoder encode` / `invert` do."""
    data, _ = spectrogram_to_png(spectrogram, bits=16)
    path = tmp_path / "s.png"
    path.write_bytes(data)
    return image_to_spectrogram(read_picture(path), None, PictureOptions())


def _fgla_round_trip(tmp_path, path, spec):
    """audio → spectrogram → 16-bit PNG → decoded → fgla (100 iterations)."""
    audio = read_audio(path)
    original = audio_to_spectrogram(audio, spec)
    fgla = create("fgla", iters=100)
    prepared = fgla.prepare(_via_png(tmp_path, original))
    waveform = fgla.invert(prepared)
    assert waveform.shape == audio.samples.shape
    return original, prepared, waveform


def test_fgla_round_trip_on_real_speech_linear(tmp_path, ljspeech):
    spec = PRESETS["linear"]
    for path in ljspeech:
        original, _, waveform = _fgla_round_trip(tmp_path, path, spec)
        sc = spectral_convergence_db(magnitude(waveform, spec), original.magnitude)
        assert sc <= -25.0, f"{path.name}: spectral convergence {sc:.1f} dB"


def test_fgla_round_trip_on_real_speech_hifigan_mel(tmp_path, ljspeech):
    spec = PRESETS["hifigan"]
    for path in ljspeech:
        original, prepared, waveform = _fgla_round_trip(tmp_path, path, spec)
        assert prepared.spec.axis.is_identity and prepared.provenance[-1]["step"] == "mel_to_linear"
        again = audio_to_spectrogram(Audio(waveform, spec.sample_rate), spec)
        distance = float((again.log_features() - original.log_features()).abs().mean())
        assert distance <= 0.2, f"{path.name}: mean |Δ ln mel| {distance:.3f}"


def test_griffin_lim_agrees_with_torchaudio(ljspeech):
    """Same STFT convention, momentum 0, zero initial phase: same algorithm, same answer."""
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    ours = fast_griffin_lim(spectrogram, iters=10, momentum=0.0, init="zero", progress=False)
    reference = torchaudio.transforms.GriffinLim(
        n_fft=1024, n_iter=10, win_length=1024, hop_length=256, power=1.0, momentum=0.0,
        rand_init=False, length=spectrogram.length)(spectrogram.magnitude)
    assert torch.allclose(ours, reference, atol=1e-4)


def test_momentum_converges_faster_than_plain_griffin_lim(ljspeech):
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    results = {}
    for name in ("griffinlim", "fgla"):
        backend = create(name, iters=30, seed=3)
        waveform = backend.invert(spectrogram)
        results[name] = spectral_convergence_db(magnitude(waveform, spectrogram.spec), spectrogram.magnitude)
    assert results["fgla"] < results["griffinlim"] - 3.0


def test_same_seed_same_output_other_seed_other_output(ljspeech):
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    first = create("fgla", iters=5, seed=7).invert(spectrogram)
    second = create("fgla", iters=5, seed=7).invert(spectrogram)
    third = create("fgla", iters=5, seed=8).invert(spectrogram)
    assert torch.equal(first, second)
    assert not torch.equal(first, third)


def test_silence_in_silence_out():
    spectrogram = Spectrogram(torch.zeros((1, 513, 20)), PRESETS["linear"])
    waveform = create("fgla", iters=5).invert(spectrogram)
    assert torch.isfinite(waveform).all() and waveform.abs().max() == 0


@pytest.mark.parametrize("preset", ["linear", "hifigan"])
def test_stereo_is_inverted_per_channel(preset):
    t = np.arange(11025) / 22050
    stereo = torch.tensor(np.stack([np.sin(2 * np.pi * 300 * t), np.sin(2 * np.pi * 3000 * t)]), dtype=torch.float32)
    spectrogram = audio_to_spectrogram(Audio(0.3 * stereo, 22050), PRESETS[preset])
    backend = create("fgla", iters=30)
    waveform = backend.invert(backend.prepare(spectrogram))
    assert waveform.shape == (2, 11025)
    spectra = torch.fft.rfft(waveform, dim=-1).abs()
    peaks_hz = spectra.argmax(dim=-1).double() * 22050 / 11025
    # A mel band near 3 kHz is ~150 Hz wide: the mel cannot place a tone more finely.
    tolerance = 25 if preset == "linear" else 75
    assert abs(peaks_hz[0] - 300) < tolerance and abs(peaks_hz[1] - 3000) < tolerance


def test_backend_options_are_checked():
    from vocoder.errors import VocoderError

    with pytest.raises(VocoderError, match="--momentum"):
        create("griffinlim", momentum=0.5)
    with pytest.raises(VocoderError, match="--iters"):
        create("fgla", iters=-1)
    with pytest.raises(VocoderError, match="unknown backend"):
        create("wavenet")


def test_a_fixed_spec_backend_refuses_other_specs_naming_the_difference():
    """The contract trained backends rely on (Inverter.fixed_spec)."""
    from dataclasses import dataclass

    from vocoder.errors import VocoderError
    from vocoder.inversion.base import Inverter

    @dataclass
    class Fixed(Inverter):
        name = "fixed"
        summary = "test double"
        needs_stft_bins = False

        def fixed_spec(self):
            return PRESETS["hifigan"]

        def working_set(self, channels, spec, frames, samples):  # every backend declares one
            return 0.0

        def invert(self, spectrogram):
            return torch.zeros(spectrogram.channels, spectrogram.length)

    other = Spectrogram(torch.ones(1, 100, 4), PRESETS["bigvgan-24k"])
    with pytest.raises(VocoderError, match="n_mels: 80 vs 100"):
        Fixed().prepare(other)
    same = Spectrogram(torch.ones(1, 80, 4), PRESETS["hifigan"])
    assert Fixed().prepare(same) is same
