import dataclasses

import torch

from vocoder.frontend.filterbank import nnls_inverse
from vocoder.spec import PRESETS
from vocoder.spectrogram import Spectrogram


def _random_linear(channels=2, frames=300, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand((channels, 513, frames), generator=generator, dtype=torch.float64) ** 4


def test_estimate_is_non_negative_and_reproduces_the_mel():
    spec = PRESETS["hifigan"]
    linear = _random_linear()
    mel = spec.axis.forward(spec, linear).float()
    estimate = spec.axis.inverse(Spectrogram(mel, spec))
    assert estimate.spec == spec.as_linear()
    assert estimate.magnitude.shape == (2, 513, 300)  # batched over channels and frames
    assert (estimate.magnitude >= 0).all()
    remelled = spec.axis.forward(spec, estimate.magnitude.double())
    relative = torch.linalg.vector_norm(remelled - mel.double()) / torch.linalg.vector_norm(mel.double())
    assert relative < 1e-3
    assert estimate.provenance[-1]["step"] == "mel_to_linear"
    assert estimate.provenance[-1]["relative_residual"] < 1e-3


def test_bins_the_mel_does_not_describe_stay_empty():
    spec = PRESETS["hifigan"]  # fmax 8 kHz at 22.05 kHz
    mel = spec.axis.forward(spec, _random_linear(1, 50)).float()
    estimate = spec.axis.inverse(Spectrogram(mel, spec)).magnitude
    above = torch.fft.rfftfreq(1024, 1 / 22050) > 8000 + 22050 / 1024
    assert estimate[:, above, :].abs().max() == 0
    # and the filterbank itself has no weight there
    assert spec.axis.matrix(spec)[:, above].abs().max() == 0


def test_linear_input_passes_through_untouched():
    s = Spectrogram(_random_linear(1, 5).float(), PRESETS["linear"])
    assert s.spec.axis.inverse(s) is s


def test_fit_matches_an_exact_per_frame_nnls():
    """The batched solver's objective against scipy's active-set NNLS (Lawson
    & Hanson), frame by frame, on bands a non-negative spectrum reproduces and
    on bands none does (random rows: the best fit leaves a residual)."""
    from scipy.optimize import nnls

    spec = PRESETS["hifigan"]
    M = spec.axis.matrix(spec)
    generator = torch.Generator().manual_seed(1)
    reachable = spec.axis.forward(spec, _random_linear(1, 6, seed=1))[0]
    unreachable = torch.rand((80, 6), generator=generator, dtype=torch.float64)
    bands = torch.cat([reachable, unreachable], dim=1).float()
    estimate, _, _ = nnls_inverse(M, bands[None])
    for frame in range(bands.shape[1]):
        y = bands[:, frame].double()
        _, exact = nnls(M.numpy(), y.numpy())
        ours = torch.linalg.vector_norm(M @ estimate[0, :, frame].double() - y)
        assert float(ours) <= exact + 1e-4 * float(torch.linalg.vector_norm(y))


def test_mel_matrix_is_librosas_to_the_byte():
    """Our mel matrix is built without librosa.filters (whose scipy.signal
    import costs a second); HiFi-GAN's and BigVGAN's features need librosa's
    exact weights, so every scale, norm, band and rate gives the same bytes."""
    import librosa
    import numpy as np

    from vocoder.frontend.filterbank import MelAxis

    for rate, n_fft, n_mels, scale, norm, fmin, fmax in (
            (22050, 1024, 80, "slaney", "slaney", 0.0, 8000.0), (24000, 1024, 100, "slaney", "slaney", 0.0, None),
            (16000, 512, 40, "htk", None, 30.5, None), (44100, 2048, 128, "htk", "slaney", 20.0, 16000.0),
            (8000, 256, 64, "slaney", None, 0.0, None)):  # 64 bands over 129 bins: some empty
        axis = MelAxis(n_mels=n_mels, fmin=fmin, fmax=fmax, mel_scale=scale, mel_norm=norm)
        spec = dataclasses.replace(PRESETS["hifigan"], sample_rate=rate, n_fft=n_fft, win_length=n_fft,
                                   hop_length=n_fft // 4, axis=axis)
        ours = axis.matrix(spec)
        theirs = librosa.filters.mel(sr=rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax or rate / 2,
                                     htk=scale == "htk", norm=norm, dtype=np.float64)
        assert ours.numpy().tobytes() == theirs.tobytes(), (rate, n_fft, n_mels, scale, norm)
