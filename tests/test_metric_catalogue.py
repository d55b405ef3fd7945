"""The metric catalogue: one entry per metric, computed from one shared
comparison that transforms each signal once per framing."""

from __future__ import annotations

import torch

from vocoder.evaluation import fidelity, spectra
from vocoder.frontend.audio import Audio, audio_to_spectrogram
from vocoder.spec import get_preset


def _pair(seconds: float = 0.5):
    spec = get_preset("hifigan")
    t = torch.arange(int(seconds * spec.sample_rate)) / spec.sample_rate
    reference = (0.3 * torch.sin(2 * torch.pi * 220 * t) + 0.05 * torch.sin(2 * torch.pi * 3000 * t))[None].float()
    estimate = reference.roll(7, -1) + 1e-3 * torch.randn(reference.shape, generator=torch.Generator().manual_seed(0))
    return spec, reference, estimate, audio_to_spectrogram(Audio(reference, spec.sample_rate, []), spec)


def test_every_metric_is_one_entry_with_its_own_computation():
    for name, metric in fidelity.CATALOGUE.items():
        assert metric.name == name and metric.better in ("lower", "higher") and callable(metric.compute)
        assert set(metric.kinds) <= set(fidelity.KINDS)
        assert metric.not_for_reason or metric.kinds == fidelity.KINDS, name
    for in_band, twin in fidelity.FULL_BAND_TWINS.items():
        assert fidelity.CATALOGUE[twin].full_band_of == in_band


def test_each_signal_is_transformed_once_per_framing(monkeypatch):
    spec, reference, estimate, spectrogram = _pair()
    calls = []
    real = spectra.stft_ops.magnitude

    def counted(x, s):
        calls.append((x.data_ptr(), s.as_linear(), s.magnitude_eps))
        return real(x, s)

    monkeypatch.setattr(spectra.stft_ops, "magnitude", counted)
    names = ("sc_db", "sc_fullband_db", "consistency_db", "lsd_db", "lsd_fullband_db", "mel_l1", "mel_l1_fullband",
             "mcd_db", "mcd_fullband_db", "hallucinated_db", "missing_db", "out_of_band_db",
             "deviation_added_beyond_6_db", "deviation_lost_beyond_20_db")
    values = fidelity.against_reference(reference, estimate, spectrogram, "speech", names)
    assert all(values[n].value is not None for n in names if n != "out_of_band_db")
    assert len(calls) == len(set(calls))  # nothing transformed twice
    # One linear framing shared by SC, LSD, the energies and MCD; HiFi-GAN's
    # magnitude epsilon for consistency, the deviation map and mel L1: two transforms per signal.
    assert len(calls) == 4
