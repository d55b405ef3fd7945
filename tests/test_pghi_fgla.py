import dataclasses

import pytest
import torch

from conftest import SAMPLES, run_cli
from vocoder.frontend.audio import audio_to_spectrogram, read_audio
from vocoder.frontend.stft import magnitude
from vocoder.inversion import create
from vocoder.spec import PRESETS


def _sc(waveform, spectrogram) -> float:
    estimate = magnitude(waveform, spectrogram.spec)
    return float(20 * torch.log10(torch.linalg.vector_norm(estimate - spectrogram.magnitude)
                                  / torch.linalg.vector_norm(spectrogram.magnitude)))


def test_pghi_start_beats_random_start_and_pghi_alone(ljspeech):
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    pghi = _sc(create("pghi").invert(spectrogram), spectrogram)
    fgla = _sc(create("fgla", iters=20).invert(spectrogram), spectrogram)
    both = _sc(create("pghi+fgla", iters=20).invert(spectrogram), spectrogram)
    assert both < pghi - 3.0 and both < fgla - 3.0, (pghi, fgla, both)


def test_pghi_fgla_with_no_iterations_is_pghi(ljspeech):
    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["hifigan"].as_linear())
    assert torch.allclose(create("pghi+fgla", iters=0, seed=2, tol=1e-4).invert(spectrogram),
                          create("pghi", seed=2, tol=1e-4).invert(spectrogram), atol=1e-6)


def test_pghi_fgla_is_deterministic_and_checks_options(ljspeech):
    from vocoder.errors import VocoderError

    spectrogram = audio_to_spectrogram(read_audio(ljspeech[0]), PRESETS["linear"])
    assert torch.equal(create("pghi+fgla", iters=3, seed=1).invert(spectrogram),
                       create("pghi+fgla", iters=3, seed=1).invert(spectrogram))
    with pytest.raises(VocoderError, match="--momentum"):
        create("pghi+fgla", momentum=3.0)
    with pytest.raises(VocoderError, match="--tol"):
        create("pghi+fgla", tol=-1.0)
    with pytest.raises(VocoderError, match="does not take --init"):
        create("pghi+fgla", init="zero")


# -- through the CLI ------------------------------------------------------------------


def test_new_backends_are_listed():
    result = run_cli("backends")
    assert result.code == 0, result
    names = [line.split()[0] for line in result.out.splitlines()]
    assert {"pghi", "pghi+fgla"} <= set(names)


@pytest.mark.parametrize("backend, extra", [("pghi", ["--tol", "1e-3"]), ("pghi+fgla", ["--iters", "5"])])
def test_new_backends_invert_an_encoded_png(tmp_path, backend, extra):
    import json

    png = tmp_path / "speech.png"
    assert run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", png).code == 0
    out = tmp_path / "speech.wav"
    result = run_cli("invert", png, "-o", out, "--backend", backend, *extra)
    assert result.code == 0, result
    record = json.loads((tmp_path / "speech.wav.json").read_text())
    assert record["backend"]["name"] == backend
    params = record["backend"]["parameters"]
    assert params["tol"] == (1e-3 if backend == "pghi" else 1e-3)  # given for pghi, the default for pghi+fgla
    if backend == "pghi+fgla":
        assert params["iters"] == 5
    assert "0 at each island" in params["start_phase"]  # the seed only reaches coefficients below tol
    # The inversion is faithful: its spectrogram matches the encoded one.
    from vocoder.frontend.audio import audio_to_spectrogram as a2s

    original = a2s(read_audio(SAMPLES / "LJ001-0006.wav"), PRESETS["linear"])
    assert _sc(read_audio(out).samples, original) < -15.0


def test_cli_refuses_bad_tol_in_one_line(tmp_path):
    png = tmp_path / "speech.png"
    assert run_cli("encode", SAMPLES / "LJ001-0006.wav", "-o", png).code == 0
    result = run_cli("invert", png, "-o", tmp_path / "a.wav", "--backend", "pghi", "--tol", "0")
    assert result.code == 2 and "--tol" in result.err and result.err.count("\n") == 1, result
    result = run_cli("invert", png, "-o", tmp_path / "b.wav", "--backend", "fgla", "--tol", "1e-3")
    assert result.code == 2 and "does not take --tol" in result.err, result
