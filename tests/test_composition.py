"""Composed backends (``A>B:key=value``): parsing, refusals, what each
refinement does to the stage before it, and the record of every stage."""

from __future__ import annotations

import json

import pytest
import torch

from conftest import PROJECT, run_cli
from vocoder.errors import VocoderError
from vocoder.evaluation import hallucination as hal
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import read_picture
from vocoder.frontend.stft import magnitude
from vocoder.inversion.band import BandLimit
from vocoder.inversion.compose import Composed, build, parse

TINY = PROJECT / "checkpoints" / "hifigan_tiny" / "hifigan_tiny-100batches.safetensors"
LEARNED = f"learned:checkpoint={TINY}"


@pytest.fixture(scope="module")
def mel(encoded):
    """The bundled speech clip's hifigan mel, as decoded from its PNG."""
    return image_to_spectrogram(read_picture(str(encoded)), None, None, False, "x")


@pytest.fixture(scope="module")
def learned_output(mel):
    inverter = build(LEARNED)
    return inverter.invert(inverter.prepare(mel))


def _run(text: str, spectrogram):
    inverter = build(text)
    return inverter, inverter.invert(inverter.prepare(spectrogram))


def _out_of_band_db(waveform, spec) -> float:
    linear = spec.as_linear()
    power = magnitude(waveform.double(), linear) ** 2
    return hal.out_of_band_db(power, torch.fft.rfftfreq(spec.n_fft, 1 / spec.sample_rate), spec.axis.band(spec)[1])


@pytest.mark.parametrize("refinement", ["fgla:iters=0", "griffinlim:iters=0", "pghi+fgla:iters=0",
                                        "mel-gd:iters=0"])
def test_a_refinement_with_no_iterations_leaves_the_learned_output_as_it_is(mel, learned_output, refinement):
    _, out = _run(f"{LEARNED}>{refinement}", mel)
    assert torch.equal(out, learned_output)


def test_band_leaves_no_energy_outside_the_spectrograms_band(mel, learned_output):
    spec = mel.spec
    before = _out_of_band_db(learned_output, spec)
    inverter, out = _run(f"{LEARNED}>band", mel)
    assert before > -30  # the learned stage did put energy above the mel's 8 kHz
    spectrum = torch.fft.rfft(out.double(), dim=-1).abs() ** 2
    above = torch.fft.rfftfreq(out.shape[-1], 1 / spec.sample_rate) > spec.axis.band(spec)[1]
    assert float(spectrum[..., above].sum() / spectrum.sum()) < 1e-12  # none in the signal itself
    after = _out_of_band_db(out, spec)
    assert after < before - 15  # in the STFT only a window's leakage across the edge remains
    found = inverter.parameters()["stages"][1]["found"]
    assert found["removed_outside_band"] == pytest.approx(10 ** (before / 10), rel=1e-3)
    assert found["left_outside_band"] == pytest.approx(10 ** (after / 10), rel=1e-3)
    assert found["band_hz"] == [0.0, 8000.0]


def test_band_removes_what_lies_where_the_input_is_silent(mel):
    """A start with energy everywhere keeps none in the cells the input says are silent."""
    silent = mel.magnitude.clone()
    silent[..., 40:80] = 0  # 40 silent frames
    spectrogram = mel.with_step("test_silence", magnitude=silent)
    noise = torch.randn(1, mel.length, generator=torch.Generator().manual_seed(0)) * 0.1
    band = BandLimit()
    out = band.refine(spectrogram, noise)
    linear = mel.spec.as_linear()
    power = (magnitude(out.double(), linear) ** 2).sum(dim=-2)[0]  # per frame
    noise_power = (magnitude(noise.double(), linear) ** 2).sum(dim=-2)[0]
    # inside the silent stretch (a window's length in from its edges) nothing is left
    # (what is left is the ringing of the band's brick-wall filter, more than 40 dB down)
    assert float(power[46:74].max()) < 1e-4 * float(noise_power[46:74].min())
    assert float(power[:30].min()) > 0.1 * float(noise_power[:30].min())  # elsewhere the start's energy stays
    report = band.stage_report()
    assert 0.05 < report["silent_cells_of_input"] < 0.5
    assert report["removed_where_input_silent"] > 0.05


def test_one_iteration_puts_the_given_magnitude_under_the_learned_phase(mel):
    """iters=1 is the magnitude swap: closer to the given magnitude than the learned output."""
    from dataclasses import replace

    from vocoder.evaluation.metrics import spectral_convergence_db

    mel = replace(mel, magnitude=mel.magnitude[..., :80], n_samples=None)  # a second: NNLS twice is slow
    linear = mel.spec.axis.inverse(mel)
    learned_output = _run(LEARNED, mel)[1]
    _, swapped = _run(f"{LEARNED}>fgla:iters=1", mel)
    target = linear.magnitude.double()

    def sc(w):
        return spectral_convergence_db(target, magnitude(w.double(), linear.spec)[..., :target.shape[-1]])

    assert sc(swapped) < sc(learned_output) - 3


@pytest.mark.parametrize("text, message", [
    ("nosuch>band", "unknown backend 'nosuch'"),
    ("band", "cannot come first"),
    ("fgla>pghi", "pghi cannot refine another stage's output"),
    ("fgla>", "has an empty stage"),
    ("fgla>band:floor_db=x", "must be a finite number"),
    ("fgla>band:loud=1", "does not take --loud"),
    ("fgla:iters", "is not KEY=VALUE"),
    ("fgla:iters=2:iters=3", "given twice"),
])
def test_a_bad_composition_is_one_line(text, message):
    with pytest.raises(VocoderError, match=message.replace("+", r"\+")):
        build(text)


def test_flags_go_to_every_stage_that_takes_them_unless_it_sets_its_own():
    inverter = build("fgla>griffinlim:iters=3", {"iters": 7, "seed": 2})
    assert isinstance(inverter, Composed)
    assert [i.iters for i in inverter.inverters] == [7, 3]
    with pytest.raises(VocoderError, match="does not take --checkpoint"):
        build("fgla>band", {"checkpoint": "x"})


def test_a_checkpoint_given_in_the_text_is_a_backend_on_its_own():
    from vocoder.inversion.hifigan import HiFiGAN

    inverter = build(f"hifigan:checkpoint={TINY}")
    assert isinstance(inverter, HiFiGAN) and inverter.checkpoint == str(TINY)


def test_a_published_models_name_is_a_backend():
    (stage,) = parse("hifigan-v1-lj")
    assert (stage.name, stage.options, stage.label) == ("learned", {"checkpoint": "hifigan-v1-lj"}, "hifigan-v1-lj")


def test_invert_records_every_stage_and_says_the_output_is_learned(tmp_path, encoded):
    out = tmp_path / "speech.wav"
    result = run_cli("invert", encoded, "-o", out, "--backend", "learned>fgla:iters=2>band", "--checkpoint", TINY)
    assert result.code == 0, result
    record = json.loads((tmp_path / "speech.wav.json").read_text())
    assert record["backend"]["name"] == "learned>fgla:iters=2>band"
    stages = record["backend"]["parameters"]["stages"]
    assert [s["backend"] for s in stages] == ["learned", "fgla", "band"]
    assert stages[0]["learned"] and not stages[1]["learned"]
    assert stages[1]["parameters"]["iters"] == 2 and "previous stage" in stages[1]["parameters"]["start"]
    assert stages[1]["input_steps"][0]["step"] == "mel_to_linear"  # fgla refines on the NNLS magnitude
    assert stages[2]["found"]["removed_total"] >= 0
    assert record["learned_model"]["weights_sha256"] and "may contain" in record["learned_model"]["statement"]
    assert "learned>fgla:iters=2>band" in record["learned_model"]["composed"]
    assert "made by" in result.err and "may contain" in result.err


@pytest.mark.parametrize("backend, message", [
    ("fgla>nosuch", "unknown backend 'nosuch'"),
    ("band", "cannot come first"),
])
def test_invert_refuses_a_bad_composition_in_one_line(tmp_path, encoded, backend, message):
    out = tmp_path / "x.wav"
    result = run_cli("invert", encoded, "-o", out, "--backend", backend)
    assert result.code == 2 and message in result.err and result.err.count("\n") == 1
    assert not out.exists()


def test_vocoder_backends_says_how_to_compose(cli):
    result = cli("backends")
    assert result.code == 0
    assert "band" in result.out and "compose with" in result.out and "refinements: griffinlim, fgla" in result.out
    rows = json.loads(cli("backends", "--json").out)
    band = next(r for r in rows if r["name"] == "band")
    assert band["refines"] and not band["starts"]
