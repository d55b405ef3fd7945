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

