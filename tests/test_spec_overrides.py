"""Every STFT parameter on the command line: preset + overrides → one
validated spec, recorded, and the round trip encode → info → invert."""

import dataclasses
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import SAMPLES, run_cli
from vocoder.errors import VocoderError
from vocoder.frontend import stft as stft_ops
from vocoder.frontend.filterbank import LinearAxis, LogAxis, MelAxis
from vocoder.spec import PRESETS, WINDOWS, SpectrogramSpec
from vocoder.spec_overrides import SpecOverrides, effective_spec

SPEECH = SAMPLES / "LJ001-0006.wav"


def test_no_overrides_is_the_preset():
    assert effective_spec("hifigan") is PRESETS["hifigan"]
    assert effective_spec(None, SpecOverrides()) is PRESETS["linear"]


@pytest.mark.parametrize("n_fft, hop", [(4096, 128), (256, 64)])  # the seed's two examples
def test_n_fft_brings_the_window_along(n_fft, hop):
    spec = effective_spec("linear", SpecOverrides(n_fft=n_fft, hop_length=hop))
    assert (spec.n_fft, spec.hop_length, spec.win_length, spec.n_bins) == (n_fft, hop, n_fft, n_fft // 2 + 1)
    assert spec.redundancy == n_fft / hop


def test_kaiser_window_both_spellings():
    a = effective_spec("linear", SpecOverrides(window="kaiser:8"))
    b = effective_spec("linear", SpecOverrides(window="kaiser", kaiser_beta=8.0))
    assert a == b and a.window == "kaiser" and a.kaiser_beta == 8.0


def test_changing_the_axis_starts_it_afresh():
    log = effective_spec("hifigan", SpecOverrides(scale="log", axis={"bands_per_octave": 36, "fmin": 50.0}))
    assert log.axis == LogAxis(bands_per_octave=36, fmin=50.0, fmax=None) and log.axis.band(log) == (50.0, 11025.0)
    assert (log.padding, log.n_fft, log.hop_length, log.log_floor) == ("same", 1024, 256, 1e-5)  # framing kept
    mel = effective_spec("linear", SpecOverrides(scale="mel", axis={"n_mels": 64, "fmax": 8000.0}))
    assert mel.axis == MelAxis(n_mels=64, fmin=0.0, fmax=8000.0, mel_scale="slaney", mel_norm="slaney",
                               mel_filterbank="librosa")
    linear = effective_spec("hifigan", SpecOverrides(scale="linear"))
    assert linear.n_bins == 513 and linear.axis == LinearAxis()


def test_an_axis_option_changes_only_its_field():
    spec = effective_spec("hifigan", SpecOverrides(axis={"fmax": 7000.0}))
    assert spec.axis == dataclasses.replace(PRESETS["hifigan"].axis, fmax=7000.0)


@pytest.mark.parametrize("preset, overrides, message", [
    ("linear", dict(hop_length=2048), "hop_length must be in 1..win_length=1024"),
    ("linear", dict(n_fft=512, win_length=1024), "win_length must be in 1..n_fft=512"),
    ("bigvgan-24k", dict(sample_rate=16000), "fmax <= Nyquist"),
    ("linear", dict(axis={"n_mels": 80}), "a linear axis takes no --n-mels .an option of the mel axis: add --scale mel"),
    ("linear", dict(axis={"bands_per_octave": 12}), "a linear axis takes no --bands-per-octave"),
    ("hifigan", dict(axis={"bands_per_octave": 12}), "a mel axis takes no --bands-per-octave"),
    ("linear", dict(axis={"fmax": 8000.0}), "a linear axis takes no --fmax .an option of the mel and log axes: add "
                                            "--scale mel or --scale log"),
    ("linear", dict(scale="mel"), "a mel axis needs --n-mels"),
    ("linear", dict(scale="log", axis={"bands_per_octave": 36}), "a log axis needs --fmin"),
    ("linear", dict(scale="log", axis={"bands_per_octave": 36, "fmin": 0.0}), "fmin > 0"),
    ("linear", dict(window="kaiser"), "kaiser window needs its beta"),
    ("linear", dict(window="kaiser:8", kaiser_beta=9.0), "disagree"),
    ("linear", dict(window="hann:3"), "only the kaiser and gauss windows take a parameter"),
    ("linear", dict(window="gaussian"), "window must be one of"),
    ("linear", dict(kaiser_beta=8.0), "kaiser_beta is only for the kaiser window"),
    ("hifigan", dict(hop_length=255), "n_fft - hop_length to be even"),
])
def test_inconsistent_combinations_are_one_clear_error(preset, overrides, message):
    with pytest.raises(VocoderError, match=message) as caught:
        effective_spec(preset, SpecOverrides(**overrides))
    assert "\n" not in str(caught.value)


def test_every_window_is_built_and_inverts_exactly():
    """Each spec window has one builder, and the least-squares iSTFT undoes the STFT with it."""
    assert set(WINDOWS) == set(stft_ops._WINDOW_FUNCTIONS)
    x = torch.randn(1, 4000, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for name in WINDOWS:
        spec = SpectrogramSpec(sample_rate=16000, n_fft=512, hop_length=128, win_length=400, window=name,
                               kaiser_beta=8.0 if name == "kaiser" else None)
        w = stft_ops.window(spec, torch.float64)
        assert w.shape == (512,) and w[:56].abs().max() == 0 and w[456:].abs().max() == 0  # centred, zero-padded
        y = stft_ops.istft(stft_ops.stft(x, spec), spec, x.shape[-1])
        assert torch.allclose(y, x, atol=1e-9), name
    kaiser = stft_ops.window(dataclasses.replace(PRESETS["linear"], window="kaiser", kaiser_beta=8.0), torch.float64)
    assert torch.allclose(kaiser, torch.kaiser_window(1024, periodic=True, beta=8.0, dtype=torch.float64))


# -- through the command line ----------------------------------------------------


def _one_line_error(result, *fragments):
    assert result.code == 2, result
    assert result.out == "" and result.err.count("\n") == 1 and result.err.startswith("vocoder: error: ")
    for fragment in fragments:
        assert fragment in result.err, result.err


@pytest.mark.parametrize("args, fragment", [
    (["--hop", "2048"], "hop_length must be in 1..win_length=1024"),
    (["--n-fft", "512", "--win-length", "1024"], "win_length must be in 1..n_fft=512"),
    (["--preset", "hifigan", "--fmax", "12000"], "fmax <= Nyquist"),
    (["--n-mels", "80"], "a linear axis takes no --n-mels"),
    (["--window", "kaiser"], "needs its beta"),
    (["--scale", "log", "--bands-per-octave", "24"], "a log axis needs --fmin"),
    (["--scale", "log", "--bands-per-octave", "24", "--fmin", "0"], "fmin > 0"),
])
def test_cli_refuses_inconsistent_specs_in_one_line(tmp_path, args, fragment):
    out = tmp_path / "x.png"
    _one_line_error(run_cli("encode", SPEECH, "-o", out, *args), fragment)
    assert not out.exists()
    wav = tmp_path / "x.wav"
    _one_line_error(run_cli("invert", SAMPLES / "text.png", "-o", wav, *args), fragment)
    assert not wav.exists()
    bench_out = tmp_path / "bench"
    _one_line_error(run_cli("bench", SPEECH, "--out", bench_out, *args), fragment)
    assert not bench_out.exists()


def _sc_db(reference: np.ndarray, estimate: np.ndarray, spec: SpectrogramSpec) -> float:
    n = min(len(reference), len(estimate))
    linear = spec.as_linear()
    R = stft_ops.magnitude(torch.from_numpy(reference[:n]).double(), linear)
    E = stft_ops.magnitude(torch.from_numpy(estimate[:n]).double(), linear)
    return float(20 * torch.log10(torch.linalg.vector_norm(R - E) / torch.linalg.vector_norm(R)))


@pytest.mark.parametrize("args, backend, expected", [
    (["--n-fft", "4096", "--hop", "128"], "pghi", dict(n_fft=4096, hop_length=128, win_length=4096)),
    (["--n-fft", "256", "--hop", "64"], "pghi", dict(n_fft=256, hop_length=64, win_length=256)),
    (["--window", "kaiser:8", "--hop", "128"], "fgla", dict(window="kaiser", kaiser_beta=8.0)),
    (["--window", "gauss", "--hop", "128"], "pghi", dict(window="gauss", gauss_gamma=128.0 * 1024)),
    (["--preset", "hifigan", "--scale", "log", "--bands-per-octave", "36", "--fmin", "50"], "pghi",
     {"axis": {"kind": "log", "bands_per_octave": 36, "fmin": 50.0, "fmax": None}, "padding": "same"}),
], ids=["4096-128", "256-64", "kaiser8", "gauss", "log36"])
def test_encode_info_invert_round_trip_with_overrides(tmp_path, args, backend, expected):
    png, wav = tmp_path / "s.png", tmp_path / "s.wav"
    result = run_cli("encode", SPEECH, "-o", png, *args)
    assert result.code == 0, result
    info = run_cli("info", "--json", png)
    assert info.code == 0, info
    metadata = json.loads(info.out)
    for field, value in expected.items():
        assert metadata["spec"][field] == value, field
    overrides = next(s for s in metadata["provenance"] if s["step"] == "spec_overrides")
    assert overrides["preset"] in ("linear", "hifigan") and overrides["overrides"]
    result = run_cli("invert", png, "-o", wav, "--backend", backend, *(["--iters", "10"] if backend == "fgla" else []))
    assert result.code == 0, result
    record = json.loads((tmp_path / "s.wav.json").read_text())
    assert record["spec"] == metadata["spec"] and record["spec_choice"] == "embedded in the input"
    reference, rate = sf.read(SPEECH, dtype="float64")
    estimate, out_rate = sf.read(wav, dtype="float64")
    assert out_rate == rate == 22050 and len(estimate) == len(reference)
    spec = SpectrogramSpec.from_dict(metadata["spec"])
    gain = 10 ** (-record["output"]["level"]["gain_db"] / 20)
    assert _sc_db(reference, estimate * gain, spec) < -8  # a recognisable reconstruction, not noise


def test_pghi_refuses_a_kaiser_window_in_one_line(tmp_path):
    png, wav = tmp_path / "k.png", tmp_path / "k.wav"
    assert run_cli("encode", SPEECH, "-o", png, "--window", "kaiser:8").code == 0
    for backend in ("pghi", "pghi+fgla"):
        _one_line_error(run_cli("invert", png, "-o", wav, "--backend", backend), "pghi needs a window", "kaiser")
        assert not wav.exists() and not (tmp_path / "k.wav.json").exists()


def test_invert_records_the_overrides_for_a_plain_picture(tmp_path):
    wav = tmp_path / "t.wav"
    result = run_cli("invert", SAMPLES / "text.png", "-o", wav, "--iters", "2", "--scale", "log",
                     "--bands-per-octave", "12", "--fmin", "100", "--sr", "16000")
    assert result.code == 0, result
    record = json.loads((tmp_path / "t.wav.json").read_text())
    assert record["spec_choice"] == {"preset": "linear", "overrides": {
        "--sr": 16000, "--scale": "log", "--bands-per-octave": 12, "--fmin": 100.0}}
    assert record["spec"]["axis"]["bands_per_octave"] == 12 and record["output"]["sample_rate"] == 16000
    assert [s["step"] for s in record["steps"]][-1] == "log_to_linear"


def test_overrides_contradicting_an_embedded_spec_are_refused(tmp_path):
    png = tmp_path / "s.png"
    assert run_cli("encode", SPEECH, "-o", png).code == 0
    _one_line_error(run_cli("invert", png, "-o", tmp_path / "s.wav", "--hop", "128"),
                    "carries its own spec", "--hop")


def test_bench_takes_overrides_and_records_them(tmp_path):
    out = tmp_path / "bench"
    result = run_cli("bench", SPEECH, "--out", out, "--backends", "pghi", "--metrics", "sc_db,mel_l1",
                     "--preset", "hifigan", "--scale", "log", "--bands-per-octave", "24", "--fmin", "60",
                     "--report-audio", "none")
    assert result.code == 0, result
    summary = json.loads((out / "summary.json").read_text())
    assert "--scale log" in summary["preset"] and "--bands-per-octave 24" in summary["preset"]
    record = json.loads((out / "audio" / "LJ001-0006__pghi.wav.json").read_text())
    assert record["spec"]["axis"]["kind"] == "log" and record["spec"]["axis"]["bands_per_octave"] == 24
    assert record["steps"][-1]["step"] == "log_to_linear"
    assert record["metrics"]["sc_db"] < -8


def test_bench_refuses_pghi_with_a_kaiser_window_before_any_work(tmp_path):
    out = tmp_path / "bench"
    _one_line_error(run_cli("bench", SPEECH, "--out", out, "--backends", "fgla,pghi", "--window", "kaiser:6"),
                    "pghi needs a window")
    assert not out.exists() and not list(tmp_path.iterdir())


def test_gauss_window_records_its_gamma():
    default = effective_spec("linear", SpecOverrides(window="gauss", hop_length=128))
    assert default.window == "gauss" and default.gauss_gamma == 128.0 * 1024  # γ = hop × n_fft, written down
    given = effective_spec("linear", SpecOverrides(window="gauss:150000"))
    assert given.gauss_gamma == 150000.0 and SpectrogramSpec.from_json(given.to_json()) == given
    assert effective_spec("linear", SpecOverrides(window="hann")).gauss_gamma is None
    for overrides, fragment in ((SpecOverrides(window="gauss:x"), "GAMMA must be a number"),
                                (SpecOverrides(window="gauss:-3"), "gauss_gamma in"),
                                (SpecOverrides(window="gauss", kaiser_beta=8.0), "kaiser_beta is only")):
        with pytest.raises(VocoderError, match=fragment):
            effective_spec("linear", overrides)
    with pytest.raises(VocoderError, match="gauss_gamma is only for the gauss window"):
        dataclasses.replace(PRESETS["linear"], gauss_gamma=1000.0)
