import math

import torch

from vocoder.evaluation import hallucination as hal
from vocoder.frontend.stft import istft, stft
from vocoder.spec import PRESETS

SR = 22050
SPEC = PRESETS["linear"]


def _power(x):
    return stft(x, SPEC).abs() ** 2


def test_out_of_band_energy_of_noise_above_8k_matches_its_true_share():
    n = 2 * SR
    t = torch.arange(n, dtype=torch.float64) / SR
    tone = 0.5 * torch.sin(2 * math.pi * 1000 * t)
    generator = torch.Generator().manual_seed(0)
    white = torch.randn(n, generator=generator, dtype=torch.float64)
    spectrum = torch.fft.rfft(white)
    spectrum[torch.fft.rfftfreq(n, 1 / SR) <= 8500] = 0  # noise only above 8.5 kHz
    noise = 0.05 * torch.fft.irfft(spectrum, n=n)
    true_share_db = 10 * math.log10(float((noise**2).sum()) / float(((tone + noise) ** 2).sum()))
    freqs = torch.fft.rfftfreq(SPEC.n_fft, 1 / SR)
    measured = hal.out_of_band_db(_power((tone + noise).unsqueeze(0)), freqs, fmax=8000.0)
    assert abs(measured - true_share_db) < 0.5


def test_out_of_band_is_not_applicable_for_a_full_band_input():
    freqs = torch.fft.rfftfreq(SPEC.n_fft, 1 / SR)
    assert hal.out_of_band_db(torch.ones(1, 513, 3), freqs, fmax=SR / 2) is None


def _clean_tone():
    """A tone on a bin centre (the periodic Hann window leaves 3 non-zero
    bins) with raised-cosine fades, so no edge splashes energy across the band."""
    hz = 40 * SR / SPEC.n_fft
    t = torch.arange(SR, dtype=torch.float64) / SR
    fade = torch.ones_like(t)
    ramp = SR // 5
    fade[:ramp] = 0.5 - 0.5 * torch.cos(math.pi * torch.arange(ramp, dtype=torch.float64) / ramp)
    fade[-ramp:] = fade[:ramp].flip(0)
    return (0.5 * fade * torch.sin(2 * math.pi * hz * t)).unsqueeze(0)


def test_exact_inversion_of_a_clean_tone_hallucinates_nothing():
    tone = _clean_tone()
    X = stft(tone, SPEC)
    exact = istft(X, SPEC, tone.shape[-1])  # true phase: an exact method
    measures = hal.energy_measures(_power(tone), _power(exact))
    assert measures.hallucinated_db < -60
    assert measures.hallucinated_floor_db < -60
    assert measures.missing_db < -60


def test_added_noise_is_counted_as_hallucinated_and_a_gap_as_missing():
    tone = _clean_tone()
    generator = torch.Generator().manual_seed(1)
    noisy = tone + 1e-3 * torch.randn(tone.shape, generator=generator, dtype=torch.float64)
    R, E = _power(tone), _power(noisy)
    measures = hal.energy_measures(R, E)
    # The noise sits ~ -45 dB under the tone in total, spread where the tone is silent.
    noise_share = 10 * math.log10(float((E - R).clamp_min(0)[R < R.max() * 1e-6].sum()) / float(R.sum()))
    assert abs(measures.hallucinated_db - noise_share) < 0.5 and measures.hallucinated_db > -60
    gap = tone.clone()
    gap[..., SR // 4: SR // 2] = 0
    assert hal.energy_measures(R, _power(gap)).missing_db > -10  # a quarter of the energy is gone


def test_difference_map_reads_plus_3_dB_for_double_power_and_is_clipped():
    R = torch.rand(1, 513, 10, dtype=torch.float64) + 0.5
    assert torch.allclose(hal.difference_map_db(R, 2 * R), torch.full_like(R, 10 * math.log10(2)), atol=1e-6)
    assert hal.difference_map_db(R, 1e6 * R).max() == 30.0
    assert hal.difference_map_db(R, 1e-6 * R).min() == -30.0
