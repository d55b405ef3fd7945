"""Mains-hum (ENF) tracking against synthetic clips whose hum frequency is
known at every instant."""

import numpy as np
import pytest
import torch
from scipy.signal import butter, sosfilt

from vocoder.evaluation import fidelity, hum
from vocoder.frontend.audio import Audio, audio_to_spectrogram
from vocoder.spec import PRESETS

SR = 22050
SECONDS = 20.0
PERIOD_S = 10.0  # the hum drifts ±50 mHz sinusoidally with this period
DRIFT_HZ = 0.05


def _speech_like(seed=0):
    """Noise band-limited to 100-4000 Hz with a 4 Hz syllable envelope, plus a
    -40 dB broadband floor (so the hum band is not empty of noise)."""
    rng = np.random.default_rng(seed)
    n = int(SR * SECONDS)
    t = np.arange(n) / SR
    speech = sosfilt(butter(4, [100, 4000], btype="band", fs=SR, output="sos"), rng.standard_normal(n))
    speech *= 0.1 / speech.std() * (0.5 + 0.5 * np.abs(np.sin(2 * np.pi * 2 * t)))
    return speech + 1e-3 * rng.standard_normal(n)


def _true_hz(t, nominal=50.0, offset=0.0):
    return nominal + offset + DRIFT_HZ * np.sin(2 * np.pi * t / PERIOD_S)


def _hum(nominal=50.0, offset=0.0, amplitude=0.01, harmonics=(1.0,)):
    """Hum with the known drifting frequency; amplitude 0.01 is ~20 dB below the speech."""
    t = np.arange(int(SR * SECONDS)) / SR
    phase = 2 * np.pi * np.cumsum(_true_hz(t, nominal, offset)) / SR
    return sum(amplitude * weight * np.sin(h * phase) for h, weight in enumerate(harmonics, start=1))


def _clip(x):
    return torch.from_numpy(np.asarray(x))[None]


def test_the_tracker_recovers_a_known_drifting_hum():
    tr = hum.track(_clip(_speech_like() + _hum()), SR, 50.0, 1)
    # A 2 s Hann frame averages a 10 s-period drift: amplitude × 0.974 (the
    # window's transform at 0.2 cycles per frame), a 1.3 mHz effect at most.
    expected = _true_hz(tr.times_s)
    error_mhz = np.abs(tr.frequency_hz - expected) * 1000
    assert tr.tracked.all()
    assert np.median(error_mhz) < 3.0 and error_mhz.max() < 10.0
    assert np.corrcoef(tr.frequency_hz, expected)[0, 1] > 0.98


def test_an_unchanged_output_scores_zero_and_a_shifted_one_its_shift():
    speech = _speech_like()
    reference = _clip(speech + _hum())
    same = hum.compare(reference, reference, SR, (0.0, 8000.0))
    assert same.median_error_mhz == 0.0 and same.tracked_fraction == 1.0
    assert (same.reference.nominal_hz, same.reference.harmonic) == (50.0, 1)
    shifted = hum.compare(reference, _clip(speech + _hum(offset=0.020)), SR, (0.0, 8000.0))
    assert shifted.median_error_mhz == pytest.approx(20.0, abs=3.0)
    assert shifted.mean_error_mhz == pytest.approx(20.0, abs=3.0)


def test_an_output_that_lost_the_hum_tracks_no_frame():
    speech = _speech_like()
    lost = hum.compare(_clip(speech + _hum()), _clip(speech), SR, (0.0, 8000.0))
    assert lost.tracked_fraction == 0.0 and lost.median_error_mhz is None and "untrackable" in lost.reason


def test_60_hz_transformer_hum_is_tracked_at_its_second_harmonic():
    # magnetostriction hum has no fundamental: its lines are at 2×, 3× mains
    clip = _clip(_speech_like(1) + _hum(nominal=60.0, amplitude=0.03, harmonics=(0.0, 1.0, 0.3)))
    result = hum.compare(clip, clip, SR, (0.0, 8000.0))
    assert (result.reference.nominal_hz, result.reference.harmonic) == (60.0, 2)
    expected = _true_hz(result.reference.times_s, 60.0)
    # ~26 dB over the speech at 120 Hz (vs ~39 dB above): a looser 5 mHz
    assert np.median(np.abs(result.reference.frequency_hz - expected)) * 1000 < 5.0


def test_not_applicable_reasons():
    speech = _clip(_speech_like())
    none = hum.compare(speech, speech, SR, (0.0, 8000.0))
    assert "no measurable mains hum" in none.reason and none.details["hum_snr_db"] < hum.DETECT_SNR_DB
    hummy = _clip(_speech_like() + _hum())
    assert "inside the spectrogram's band" in hum.compare(hummy, hummy, SR, (300.0, 8000.0)).reason
    short = hummy[..., : SR]
    assert "shorter than one 2 s" in hum.compare(short, short, SR, (0.0, 8000.0)).reason
    # a low note that changes every second, within the ±0.5 Hz search band
    notes = np.repeat(np.random.default_rng(5).uniform(49.6, 50.4, size=int(SECONDS)), SR)
    tone = _clip(_speech_like() + 0.01 * np.sin(2 * np.pi * np.cumsum(notes) / SR))
    moving = hum.compare(tone, tone, SR, (0.0, 8000.0))
    assert "moves like a tone" in moving.reason and moving.details["drift_mhz_per_s"] > 50


def test_bench_reports_the_hum_metrics_or_why_not():
    speech = _speech_like()
    reference, estimate = torch.from_numpy(speech + _hum())[None], torch.from_numpy(speech + _hum(offset=0.01))[None]
    spectrogram = audio_to_spectrogram(Audio(reference.float(), SR), PRESETS["hifigan"])
    values = fidelity.against_reference(reference, estimate, spectrogram, "speech", fidelity.ENF_METRICS)
    assert values["enf_error_mhz"].value == pytest.approx(10.0, abs=3.0)
    assert values["enf_tracked"].value == 1.0
    assert values["enf_error_mhz"].details["harmonic"] == 1
    silent_hum = fidelity.against_reference(_clip(speech), _clip(speech), spectrogram, "speech", ("enf_error_mhz",))
    assert silent_hum["enf_error_mhz"].value is None and "no measurable mains hum" in silent_hum["enf_error_mhz"].skipped
