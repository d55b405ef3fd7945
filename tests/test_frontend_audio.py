import librosa
import numpy as np
import pytest
import torch
import torchaudio

from conftest import write_wav
from vocoder.errors import VocoderError
from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio, resample
from vocoder.spec import PRESETS


def hifigan_recipe_log_mel(y: np.ndarray, sr: int, n_mels: int, fmax: float) -> np.ndarray:
    """HiFi-GAN's meldataset.mel_spectrogram, written out with librosa in float64:
    reflect padding of (n_fft - hop) / 2, center=False, periodic Hann,
    sqrt(|X|^2 + 1e-9), slaney mel filterbank, ln(clamp(x, 1e-5))."""
    n_fft, hop = 1024, 256
    pad = (n_fft - hop) // 2
    padded = np.pad(y.astype(np.float64), (pad, pad), mode="reflect")
    X = librosa.stft(padded, n_fft=n_fft, hop_length=hop, win_length=n_fft, window="hann", center=False)
    magnitude = np.sqrt(np.abs(X) ** 2 + 1e-9)
    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=0.0, fmax=fmax, htk=False,
                             norm="slaney", dtype=np.float64)
    return np.log(np.clip(fb @ magnitude, 1e-5, None))


def test_hifigan_preset_equals_hifigan_recipe(ljspeech):
    for path in ljspeech:
        audio = read_audio(path)
        ours = audio_to_spectrogram(audio, PRESETS["hifigan"]).log_features()[0].double().numpy()
        reference = hifigan_recipe_log_mel(audio.samples[0].numpy(), 22050, 80, 8000.0)
        assert ours.shape == reference.shape
        assert np.abs(ours - reference).max() < 1e-4


def test_bigvgan_preset_equals_the_recipe_at_24k(ljspeech):
    audio = resample(read_audio(ljspeech[0]), 24000)
    ours = audio_to_spectrogram(audio, PRESETS["bigvgan-24k"]).log_features()[0].double().numpy()
    reference = hifigan_recipe_log_mel(audio.samples[0].numpy(), 24000, 100, 12000.0)
    assert np.abs(ours - reference).max() < 1e-4


def test_vocos_preset_equals_torchaudio_melspectrogram(ljspeech):
    audio = resample(read_audio(ljspeech[0]), 24000)
    # Vocos' MelSpectrogramFeatures: torchaudio, center=True, power=1, htk, no norm, ln(clip(x, 1e-7)).
    # The window is built in float64: a float32 window alone moves quiet bins by 1e-6.
    transform = torchaudio.transforms.MelSpectrogram(
        sample_rate=24000, n_fft=1024, hop_length=256, n_mels=100, center=True, power=1,
        wkwargs={"dtype": torch.float64}).double()
    reference = torch.log(torch.clip(transform(audio.samples.double()), min=1e-7))
    ours = audio_to_spectrogram(audio, PRESETS["vocos-24k"]).log_features().double()
    assert ours.shape == reference.shape
    assert (ours - reference).abs().max() < 1e-4


def test_linear_preset_equals_torch_stft_magnitude(ljspeech):
    audio = read_audio(ljspeech[0])
    X = torch.stft(audio.samples.double(), 1024, 256, 1024, torch.hann_window(1024, dtype=torch.float64),
                   center=True, pad_mode="reflect", return_complex=True)
    ours = audio_to_spectrogram(audio, PRESETS["linear"]).magnitude.double()
    assert torch.allclose(ours, X.abs(), rtol=1e-5, atol=1e-5)


def test_stereo_stays_two_channels(tmp_path):
    t = np.arange(22050) / 22050
    stereo = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.5 * np.sin(2 * np.pi * 2000 * t)], axis=1)
    audio = read_audio(write_wav(tmp_path / "stereo.wav", stereo))
    spectrogram = audio_to_spectrogram(audio, PRESETS["linear"])
    assert spectrogram.channels == 2
    peak_bins = spectrogram.magnitude.mean(dim=2).argmax(dim=1).tolist()
    hz_per_bin = 22050 / 1024
    assert abs(peak_bins[0] * hz_per_bin - 440) <= hz_per_bin
    assert abs(peak_bins[1] * hz_per_bin - 2000) <= hz_per_bin


def test_resampling_is_done_and_recorded(shared_data):
    path = shared_data / "audio" / "eval" / "cmu_arctic_us_aew_a0001.wav"
    audio = read_audio(path)
    assert audio.sample_rate == 16000
    spectrogram = audio_to_spectrogram(audio, PRESETS["hifigan"])
    steps = [s["step"] for s in spectrogram.provenance]
    assert steps == ["read_audio", "resample", "stft"]
    resample_step = spectrogram.provenance[1]
    assert (resample_step["from_rate"], resample_step["to_rate"]) == (16000, 22050)
    expected_samples = round(audio.samples.shape[1] * 22050 / 16000)
    assert abs(spectrogram.length - expected_samples) <= 1


def test_ogg_is_read(shared_data):
    audio = read_audio(shared_data / "audio" / "eval" / "trumpet.ogg")
    assert audio.sample_rate == 22050 and audio.samples.shape[0] == 1 and audio.samples.shape[1] > 22050


@pytest.mark.parametrize("samples, message", [
    (np.zeros((0, 1)), "no samples"),
    (np.zeros((22050, 1)), "silent"),
])
def test_empty_and_silent_audio_are_refused(tmp_path, samples, message):
    path = write_wav(tmp_path / "bad.wav", samples)
    with pytest.raises(VocoderError, match=message):
        read_audio(path)


def test_non_finite_audio_is_refused(tmp_path):
    samples = np.full((1000, 1), 0.1, dtype=np.float32)
    samples[10] = np.nan
    path = write_wav(tmp_path / "nan.wav", samples, subtype="FLOAT")
    with pytest.raises(VocoderError, match="NaN"):
        read_audio(path)


def test_too_short_audio_is_refused():
    audio = Audio(torch.full((1, 300), 0.1), 22050)
    with pytest.raises(VocoderError, match="too short"):
        audio_to_spectrogram(audio, PRESETS["linear"])


def test_flac_is_read(tmp_path):
    t = np.arange(8000) / 22050
    path = tmp_path / "tone.flac"
    import soundfile as sf

    sf.write(path, 0.3 * np.sin(2 * np.pi * 440 * t), 22050, format="FLAC")
    audio = read_audio(path)
    assert audio.samples.shape == (1, 8000) and audio.provenance[0]["sha256"]
