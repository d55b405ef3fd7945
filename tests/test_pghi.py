import dataclasses

import numpy as np
import pytest
import torch

from vocoder.frontend.audio import Audio, audio_to_spectrogram, read_audio
from vocoder.frontend.stft import magnitude
from vocoder.inversion import create
from vocoder.inversion.pghi import integrate_channel, pghi_phase
from vocoder.inversion.pghi_heap import heap_integrate, heap_keys
from vocoder.spec import PRESETS

SR = 22050


def spectral_convergence_db(estimate: torch.Tensor, reference: torch.Tensor) -> float:
    return float(20 * torch.log10(torch.linalg.vector_norm(estimate - reference)
                                  / torch.linalg.vector_norm(reference)))


def _faded(x: np.ndarray, fade_s: float = 0.02) -> np.ndarray:
    """Raised-cosine fade in/out: an abrupt start is a broadband click, not a
    tone, and its phase is no smooth ridge for any phase-gradient method."""
    n = int(fade_s * SR)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n)
    y = x.copy()
    y[:n] *= ramp
    y[-n:] *= ramp[::-1]
    return y


def _tone(freq=440.3, seconds=1.5):
    t = np.arange(int(seconds * SR)) / SR
    return _faded(np.sin(2 * np.pi * freq * t + 0.3))


def _chirp(f0=200.0, f1=4000.0, seconds=1.5):
    t = np.arange(int(seconds * SR)) / SR
    return _faded(np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / seconds * t ** 2)))


def _spectrogram(x, **changes):
    spec = dataclasses.replace(PRESETS["linear"], **changes)
    return audio_to_spectrogram(Audio(torch.tensor(0.5 * np.atleast_2d(x), dtype=torch.float32), SR), spec)


def _pghi_sc(spectrogram, **options):
    waveform = create("pghi", **options).invert(spectrogram)
    assert waveform.shape == (spectrogram.channels, spectrogram.length)
    return spectral_convergence_db(magnitude(waveform, spectrogram.spec), spectrogram.magnitude)


@pytest.mark.parametrize("signal", ["tone", "chirp"])
@pytest.mark.parametrize("framing", [
    {"padding": "center"},
    {"padding": "same"},
    # win_length 1023 in a 1024 frame: the window's centre is at 511.5, so the
    # frame-start phase convention is not just (−1)^k; a wrong conversion fails.
    {"padding": "center", "win_length": 1023},
])
def test_pghi_recovers_tone_and_chirp_at_redundancy_8(signal, framing):
    x = _tone() if signal == "tone" else _chirp()
    sc = _pghi_sc(_spectrogram(x, hop_length=128, **framing))
    assert sc < -25.0, f"{signal} {framing}: {sc:.1f} dB"


def test_pghi_phase_convention_matters():
    """Without the frame-centre → frame-start conversion PGHI is no better than noise.

    Guards the test above: it would not pass by accident with any phase.
    """
    spectrogram = _spectrogram(_chirp(), hop_length=128)
    mag = spectrogram.magnitude[0].numpy()
    phase = np.angle(pghi_phase(spectrogram, tol=1e-5, seed=0)[0].numpy()).astype(np.float64)
    k = np.arange(mag.shape[0])[:, None]
    unconverted = phase + 2 * np.pi * k * 512 / 1024  # undo the (−1)^k
    from vocoder.frontend.stft import istft

    for ph, good in ((phase, True), (unconverted, False)):
        X = torch.from_numpy(mag * np.exp(1j * ph)).to(torch.complex64)[None]
        sc = spectral_convergence_db(magnitude(istft(X, spectrogram.spec, spectrogram.length), spectrogram.spec),
                                     spectrogram.magnitude)
        assert (sc < -25.0) if good else (sc > -10.0), sc


def test_pghi_on_speech_meets_the_published_figures(ljspeech):
    """Průša et al. 2017 report about −21 dB (redundancy 4) and −27 dB (8)."""
    audio = read_audio(ljspeech[0])
    for hop, limit in ((256, -20.0), (128, -25.0)):
        spectrogram = audio_to_spectrogram(audio, dataclasses.replace(PRESETS["linear"], hop_length=hop))
        sc = _pghi_sc(spectrogram)
        assert sc <= limit, f"hop {hop}: {sc:.1f} dB"


def test_heap_integration_visits_every_coefficient_above_tolerance_once(ljspeech):
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    mag = spectrogram.magnitude[0].numpy()
    tol = 1e-3  # leaves many islands and many coefficients below tolerance
    _, info = integrate_channel(mag, spectrogram.spec, tol, np.random.default_rng(0))
    above, visits, order = info["above"], info["visits"], info["order"]
    assert 0 < above.sum() < above.size
    assert (visits[above] == 1).all() and (visits[~above] == 0).all()
    # Each coefficient above tolerance left the heap exactly once.
    assert np.array_equal(np.sort(order[above]), np.arange(above.sum()))
    assert (order[~above] == -1).all()


def test_heap_pops_largest_first_within_an_island():
    """A single peak: integration spreads outwards in order of decreasing magnitude."""
    t, f = np.meshgrid(np.arange(20), np.arange(15), indexing="ij")
    logmag = -((t - 7.0) ** 2 + (f - 9.0) ** 2) / 10.0  # one smooth bump, no ties
    zeros = np.zeros_like(logmag)
    keys, seeds = heap_keys(logmag, logmag.min() - 1.0)
    _, visits, order = heap_integrate(keys, seeds, zeros, zeros, np.zeros(logmag.size))
    assert (visits == 1).all()
    popped = logmag.ravel()[np.argsort(order, axis=None)]
    # For a concave bump every popped value is a neighbour-reachable maximum,
    # so the sequence is non-increasing.
    assert (np.diff(popped) <= 1e-12).all()


def test_pghi_integrates_the_given_gradients_exactly():
    """Constant gradients integrate to a plane: φ(m, k) = φ0 + (m − m0)·dt + (k − k0)·df
    from the island's seed (m0, k0), which keeps its start phase φ0. All keys tie,
    and within a seed bucket the smaller index comes first: the seed is (0, 0)."""
    logmag = np.zeros((6, 5))
    dt, df = np.full_like(logmag, 0.3), np.full_like(logmag, -0.2)
    keys, seeds = heap_keys(logmag, -1.0)
    phase, _, _ = heap_integrate(keys, seeds, dt, df, np.full(logmag.size, 1.0))
    m, k = np.meshgrid(np.arange(6), np.arange(5), indexing="ij")
    assert np.allclose(phase, 1.0 + 0.3 * m - 0.2 * k)


def test_pghi_is_deterministic_with_a_seed(ljspeech):
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    first = create("pghi", seed=4).invert(spectrogram)
    second = create("pghi", seed=4).invert(spectrogram)
    third = create("pghi", seed=5).invert(spectrogram)
    assert torch.equal(first, second)
    assert not torch.equal(first, third)


def test_pghi_stereo_and_silence():
    stereo = np.stack([_tone(300.0), _chirp(1000.0, 3000.0)])
    spectrogram = _spectrogram(stereo, hop_length=128)
    waveform = create("pghi").invert(spectrogram)
    for c in range(2):
        sc = spectral_convergence_db(magnitude(waveform[c], spectrogram.spec), spectrogram.magnitude[c])
        assert sc < -25.0, (c, sc)
    silent = _spectrogram(np.zeros((2, SR // 2)))
    out = create("pghi").invert(silent)
    assert torch.isfinite(out).all() and out.abs().max() == 0


def test_pghi_options_are_checked():
    from vocoder.errors import VocoderError

    with pytest.raises(VocoderError, match="--tol"):
        create("pghi", tol=0.0)
    with pytest.raises(VocoderError, match="--tol"):
        create("pghi", tol=2.0)
    with pytest.raises(VocoderError, match="does not take --momentum"):
        create("pghi", momentum=0.5)


def test_pghi_copes_with_exact_zeros():
    """A mel's linear estimate has exactly empty bins above fmax (and silent
    frames have none at all): log|X| must stay finite and those bins silent."""
    spectrogram = _spectrogram(_chirp(300.0, 3000.0), hop_length=128)
    cut = spectrogram.magnitude.clone()
    cut[:, 372:] = 0.0   # above 8 kHz, as the hifigan mel leaves it
    cut[:, :, 40:60] = 0.0  # a stretch of digital silence
    holed = dataclasses.replace(spectrogram, magnitude=cut)
    for inverter in (create("pghi"), create("pghi+fgla", iters=10)):
        waveform = inverter.invert(holed)
        assert torch.isfinite(waveform).all()
        sc = spectral_convergence_db(magnitude(waveform, holed.spec), cut)
        assert sc < -20.0, (inverter.name, sc)


# -- low-frequency content (issue 11) -------------------------------------------
#
# Each island used to start from a random phase. For a tone that is a harmless
# constant offset, but a DC offset (and content near DC) is nearly real in
# every frame: a random start keeps only cos(φ0) of it after the inverse FFT.


def _low_signals() -> dict[str, np.ndarray]:
    t = np.arange(int(1.5 * SR)) / SR
    fade = int(0.2 * SR)  # a slow onset: the test is about low frequencies, not clicks
    glide = np.sin(2 * np.pi * (40.0 * t + 0.5 * (160.0 / 1.5) * t ** 2))  # 40 → 200 Hz
    return {
        "offset": 0.25 + _faded(0.5 * np.sin(2 * np.pi * 220.3 * t + 0.3), 0.2),
        "low tone": _faded(np.sin(2 * np.pi * 80.3 * t + 0.3), 0.2),
        "low-heavy": _faded(glide + 0.1 * np.sin(2 * np.pi * 1000.3 * t), 0.2),
    }


@pytest.mark.parametrize("name, limit", [("offset", -35.0), ("low tone", -35.0), ("low-heavy", -30.0)])
def test_pghi_keeps_dc_and_low_frequencies_at_redundancy_4(name, limit):
    """Hann, n_fft 1024, hop 256, exact linear magnitudes. With a random start
    the offset clip reached about −13 dB; the low band (< 215 Hz) must be as good as the whole."""
    spectrogram = _spectrogram(_low_signals()[name], hop_length=256)
    waveform = create("pghi").invert(spectrogram)
    estimate = magnitude(waveform, spectrogram.spec)
    sc = spectral_convergence_db(estimate, spectrogram.magnitude)
    low = spectral_convergence_db(estimate[:, :10], spectrogram.magnitude[:, :10])
    assert sc < limit and low < limit, f"{name}: {sc:.1f} dB, below 215 Hz {low:.1f} dB"


def test_pghi_dc_and_nyquist_are_real_and_the_offset_survives():
    """A real frame's DFT is real at DC and Nyquist: the phase there is 0 or π.
    The offset comes back at full size (its sign is the magnitude's ambiguity:
    nothing in |X| ties it to the tone's)."""
    x = _low_signals()["offset"]
    spectrogram = _spectrogram(x, hop_length=256)
    phase = pghi_phase(spectrogram)[0]
    for k in (0, -1):
        assert torch.allclose(phase[k].imag, torch.zeros(()), atol=1e-6)
        assert torch.allclose(phase[k].real.abs(), torch.ones(()), atol=1e-6)
    waveform = create("pghi").invert(spectrogram)[0]
    offset = 0.5 * x.mean()  # _spectrogram scales by 0.5
    assert abs(abs(float(waveform.mean())) - offset) < 0.02 * offset, (float(waveform.mean()), offset)


# -- the Gaussian window ----------------------------------------------------------


def test_gauss_window_is_the_gaussian_pghi_assumes_and_inverts_exactly():
    spec = dataclasses.replace(PRESETS["linear"], hop_length=128, window="gauss")
    assert spec.gaussian_gamma == 128 * 1024  # Průša et al.'s λ = aM/L, γ = aM
    from vocoder.frontend.stft import istft, stft, window
    from vocoder.inversion.pghi import gamma, window_centre

    w = window(spec, torch.float64).numpy()
    t = np.arange(1024) - window_centre(spec)
    assert np.allclose(w, np.exp(-np.pi * t ** 2 / gamma(spec)), rtol=0, atol=1e-15)
    # The iSTFT's window and envelope are float32 for every window: 1e-6 is
    # its rounding, not the dual (a wrong normalisation is off by O(1)).
    x = torch.from_numpy(_chirp()[None])
    for framing in ({"padding": "center"}, {"padding": "same"}, {"win_length": 1000},
                    {"hop_length": 256, "gauss_gamma": 0.25645 * 1024 ** 2}):
        s = dataclasses.replace(spec, **framing)
        assert torch.allclose(istft(stft(x, s), s, x.shape[-1]), x, rtol=0, atol=1e-6), framing


def test_gauss_window_gains_at_redundancy_8(ljspeech):
    """PGHI's gradient relations are exact for a Gaussian; Hann is only near
    one. Measured +4.5 dB on LJ001-0025 at n_fft 1024, hop 128; 3 dB required."""
    audio = read_audio(ljspeech[1])
    audio = dataclasses.replace(audio, samples=audio.samples[:, : 3 * audio.sample_rate])
    results = {}
    for name in ("hann", "gauss"):
        spec = dataclasses.replace(PRESETS["linear"], hop_length=128, window=name)
        results[name] = _pghi_sc(audio_to_spectrogram(audio, spec))
    assert results["gauss"] < results["hann"] - 3.0, results


def test_other_backends_take_a_gauss_window():
    """Few iterations (the test is about the window, not convergence): about −13 dB
    for griffinlim and fgla and −32 dB for pghi+fgla when the window is right."""
    spectrogram = _spectrogram(_chirp(seconds=0.5), hop_length=256, window="gauss", gauss_gamma=150000.0)
    for backend, options in (("griffinlim", {"iters": 8}), ("fgla", {"iters": 8}), ("pghi+fgla", {"iters": 3})):
        sc = spectral_convergence_db(magnitude(create(backend, **options).invert(spectrogram), spectrogram.spec),
                                     spectrogram.magnitude)
        assert sc < (-25.0 if backend == "pghi+fgla" else -10.0), (backend, sc)
