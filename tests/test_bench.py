"""`vocoder bench`: what it writes, that its numbers can be recomputed, and its errors."""

import csv
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import pytest
import soundfile as sf
import torch

from conftest import run_cli, write_wav
from vocoder.evaluation.deviation import deviation
from vocoder.frontend.audio import read_audio
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import read_picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.inversion import Inverter, registry
from vocoder.spec import SpectrogramSpec
from vocoder.spectrogram import Spectrogram


@pytest.fixture(scope="module")
def bench_dir(tmp_path_factory, shared_data):
    clips = [shared_data / "audio" / "ljspeech" / f"LJ001-00{n}.wav" for n in ("02", "08")]
    out = tmp_path_factory.mktemp("bench") / "out"
    result = run_cli("bench", *clips, "--backends", "fgla,griffinlim", "--iters", "10", "--out", out,
                     "--preset", "hifigan", "--timings")
    assert result.code == 0, result
    return out


def _rows(bench_dir):
    with open(bench_dir / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bench_writes_every_artefact(bench_dir):
    rows = _rows(bench_dir)
    assert [(r["clip"], r["backend"]) for r in rows] == [
        ("LJ001-0002", "fgla"), ("LJ001-0002", "griffinlim"), ("LJ001-0008", "fgla"), ("LJ001-0008", "griffinlim")]
    for name in ("summary.md", "summary.json", "report.html", "plots/metrics.png"):
        assert (bench_dir / name).stat().st_size > 0, name
    for row in rows:
        stem = f"{row['clip']}__{row['backend']}"
        for suffix in (".wav", ".wav.json"):
            assert (bench_dir / "audio" / f"{stem}{suffix}").exists()
        for suffix in (".png", ".diff.png", ".deviation.png"):
            assert (bench_dir / "plots" / f"{stem}{suffix}").exists()
        assert float(row["rtf"]) > 0 and float(row["seconds"]) > 0
    summary = json.loads((bench_dir / "summary.json").read_text())
    assert set(summary["summary"]["sc_db"]) == {"fgla", "griffinlim"}


def test_csv_spectral_convergence_equals_a_recomputation_from_the_saved_wavs(bench_dir):
    window = torch.hann_window(1024, dtype=torch.float64)
    for row in _rows(bench_dir):
        reference, rate = sf.read(bench_dir / "audio" / f"{row['clip']}__reference.wav", dtype="float64")
        output, _ = sf.read(bench_dir / "audio" / f"{row['clip']}__{row['backend']}.wav", dtype="float64")
        assert rate == 22050

        def mag(x):  # the hifigan framing, written out: reflect pad 384, center=False
            padded = torch.nn.functional.pad(torch.from_numpy(x)[None, None], (384, 384), mode="reflect")[0, 0]
            return torch.stft(padded, 1024, 256, 1024, window, center=False, return_complex=True).abs()

        def sc(S, E):
            return 20 * math.log10(float(torch.linalg.vector_norm(S - E) / torch.linalg.vector_norm(S)))

        S, E = mag(reference), mag(output)
        in_band = torch.fft.rfftfreq(1024, 1 / 22050) <= 8000  # the hifigan mel's 0-8 kHz
        assert float(row["sc_db"]) == pytest.approx(sc(S[in_band], E[in_band]), abs=1e-6)
        assert float(row["sc_fullband_db"]) == pytest.approx(sc(S, E), abs=1e-6)


DEVIATION_SHARES = ("added_beyond_6_db", "added_beyond_20_db", "lost_beyond_6_db", "lost_beyond_20_db")


def test_every_output_has_its_deviation_from_the_input_recomputable_from_the_files(bench_dir):
    summary = json.loads((bench_dir / "summary.json").read_text())
    for row in _rows(bench_dir):
        stem = f"{row['clip']}__{row['backend']}"
        record = json.loads((bench_dir / "audio" / f"{stem}.wav.json").read_text())["deviation_vs_input"]
        assert set(record) == {*DEVIATION_SHARES, "out_of_band", "definitions", "map"}  # invert's keys
        assert record["map"] == f"plots/{stem}.deviation.png"
        assert (bench_dir / record["map"]).read_bytes().startswith(b"\x89PNG")
        for way in ("added", "lost"):
            assert 0 <= record[f"{way}_beyond_20_db"] <= record[f"{way}_beyond_6_db"] <= 1
        # The row's columns are the record's shares; both follow from the saved PNG and WAV alone.
        decoded = image_to_spectrogram(read_picture(bench_dir / "images" / f"{row['clip']}.png"), None,
                                       PictureOptions())
        output, _ = sf.read(bench_dir / "audio" / f"{stem}.wav", dtype="float32", always_2d=True)
        again = deviation(decoded, torch.from_numpy(output.T.copy())).shares
        for key in DEVIATION_SHARES:
            assert float(row[f"deviation_{key}"]) == pytest.approx(record[key], rel=1e-12, abs=1e-15)
            assert record[key] == pytest.approx(again[key], rel=1e-9, abs=1e-12)
        assert record["out_of_band"] == pytest.approx(10 ** (float(row["out_of_band_db"]) / 10), rel=1e-9)
    for key in DEVIATION_SHARES:  # summarised like every metric, and said to be against the input
        assert all(cell["ci95"] is not None for cell in summary["summary"][f"deviation_{key}"].values())
        assert summary["metrics"][f"deviation_{key}"]["description"].startswith("against the input, not the reference")


def test_summary_bolds_the_better_backend_and_fgla_wins_on_convergence(bench_dir):
    summary = (bench_dir / "summary.md").read_text()
    line = next(l for l in summary.splitlines() if l.startswith("| sc_db "))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[3].startswith("**") and not cells[4].startswith("**")  # fgla (momentum) beats plain GL


def test_out_of_band_energy_is_measured_for_a_band_limited_mel(bench_dir):
    for row in _rows(bench_dir):
        assert row["out_of_band_db"] != ""  # hifigan mel stops at 8 kHz
        assert float(row["out_of_band_db"]) < -20  # and NNLS invents nothing above it


def test_report_is_self_contained_with_audio_players(bench_dir):
    page = (bench_dir / "report.html").read_text()
    sources = re.findall(r"src=['\"]([^'\"]+)['\"]", page)
    assert sources and all(s.startswith("data:") for s in sources)
    assert page.count("<audio") == 2 + 4  # a reference per clip and every output


def test_skipped_metrics_are_empty_cells_with_reasons(tmp_path, shared_data):
    trumpet = shared_data / "audio" / "eval" / "trumpet.ogg"
    out = tmp_path / "music"
    result = run_cli("bench", trumpet, "--backends", "fgla", "--iters", "5", "--out", out,
                     "--metrics", "sc_db,pesq,f0_rmse_cents", "--kind", "trumpet*=polyphonic",
                     "--report-audio", "none")
    assert result.code == 0, result
    (row,) = _rows(out)
    assert row["pesq"] == "" and row["f0_rmse_cents"] == "" and row["sc_db"] != ""
    summary = (out / "summary.md").read_text()
    assert "PESQ is defined for speech only" in summary and "single voice" in summary


# -- errors: exit 2, one line, nothing written -----------------------------------


def _assert_refused(result, out, message):
    assert result.code == 2, result
    assert result.err.count("\n") == 1 and message in result.err and "Traceback" not in result.err
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if ".partial-" in p.name]


def test_a_clip_too_short_for_the_stft_is_refused(tmp_path):
    short = write_wav(tmp_path / "short.wav", np.full((500, 1), 0.1))
    out = tmp_path / "out"
    _assert_refused(run_cli("bench", short, "--out", out), out, "too short")


def test_a_folder_without_audio_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no audio here")
    out = tmp_path / "out"
    _assert_refused(run_cli("bench", tmp_path / "empty", "--out", out), out, "no audio files")


@pytest.mark.parametrize("args, message", [
    (["--metrics", "sc_db,loudness"], "unknown metric"),
    (["--backends", "fgla,wavenet"], "unknown backend"),
    (["--backends", "griffinlim:momentum=0.5"], "does not take --momentum"),
    (["--kind", "x=choir"], "--kind"),
])
def test_bad_options_are_refused(tmp_path, args, message):
    clip = write_wav(tmp_path / "clip.wav", 0.1 * np.sin(np.arange(22050) / 5.0)[:, None])
    out = tmp_path / "out"
    _assert_refused(run_cli("bench", clip, "--out", out, *args), out, message)


def test_an_existing_result_folder_is_never_overwritten(tmp_path):
    clip = write_wav(tmp_path / "clip.wav", 0.1 * np.sin(np.arange(22050) / 5.0)[:, None])
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.csv").write_text("keep me")
    result = run_cli("bench", clip, "--out", out, "--iters", "2")
    assert result.code == 2 and "not empty; add --force" in result.err
    assert (out / "precious.csv").read_text() == "keep me"


def test_phase_gradient_backends_take_part_in_the_bench(tmp_path, shared_data):
    clip = shared_data / "audio" / "ljspeech" / "LJ001-0008.wav"
    out = tmp_path / "pghi"
    result = run_cli("bench", clip, "--backends", "pghi,pghi+fgla:iters=5", "--out", out,
                     "--metrics", "sc_db,hallucinated_db", "--report-audio", "none")
    assert result.code == 0, result
    rows = _rows(out)
    assert [r["backend"] for r in rows] == ["pghi", "pghi+fgla iters=5"]
    assert all(float(r["sc_db"]) < -15 for r in rows)
    assert (out / "audio" / "LJ001-0008__pghi+fgla-iters5.wav").exists()


@dataclass
class Oracle(Inverter):
    """The clip's own samples times ``gain``: an exact output, whatever the picture."""

    name: ClassVar[str] = "oracle-test"
    summary: ClassVar[str] = "test fixture: the true samples times --gain"
    needs_stft_bins: ClassVar[bool] = False
    truth: ClassVar[torch.Tensor | None] = None  # set by the test

    gain: float = field(default=1.0, metadata={"help": "output scale"})

    def working_set(self, channels: int, spec: SpectrogramSpec, frames: int, samples: int) -> float:
        return 2**20

    def invert(self, spectrogram: Spectrogram) -> torch.Tensor:
        return self.gain * type(self).truth[..., :spectrogram.length]


def test_an_exact_output_deviates_from_its_input_nowhere_and_a_quieter_one_everywhere(tmp_path, monkeypatch):
    """The deviation needs the output at the input's level: bench writes it unscaled, and its PNG
    keeps the clip's level, so the truth itself deviates nowhere and the truth 12 dB down is lost
    beyond 6 dB (not 20) in every cell."""
    t = np.arange(11025) / 22050
    noise = np.random.default_rng(0).standard_normal(len(t))
    write_wav(tmp_path / "clip.wav", (0.05 * noise + 0.3 * np.sin(2 * np.pi * 440 * t))[:, None], subtype="FLOAT")
    monkeypatch.setattr(Oracle, "truth", read_audio(tmp_path / "clip.wav").samples)
    monkeypatch.setitem(registry.BACKENDS, Oracle.name, Oracle)
    result = run_cli("bench", tmp_path / "clip.wav", "--preset", "linear", "--out", tmp_path / "b", "--backends",
                     "oracle-test,oracle-test:gain=0.25", "--metrics", "sc_db", "--report-audio", "none")
    assert result.code == 0, result
    exact, quieter = (json.loads((tmp_path / "b" / "audio" / f"clip__{slug}.wav.json").read_text())
                      ["deviation_vs_input"] for slug in ("oracle-test", "oracle-test-gain0-25"))
    assert max(exact[k] for k in DEVIATION_SHARES) < 1e-6
    assert quieter["lost_beyond_6_db"] > 0.999 and quieter["lost_beyond_20_db"] < 1e-6
    assert quieter["added_beyond_6_db"] < 1e-6


TINY = "checkpoints/hifigan_tiny/hifigan_tiny-100batches.safetensors"


def test_a_trained_backend_takes_part_in_the_bench(tmp_path, shared_data):
    from conftest import PROJECT

    clip = shared_data / "audio" / "ljspeech" / "LJ001-0008.wav"
    out = tmp_path / "neural"
    result = run_cli("bench", clip, "--preset", "hifigan", "--out", out, "--report-audio", "none",
                     "--backends", f"fgla:iters=5,hifigan:checkpoint={PROJECT / TINY},"
                                   f"hifigan:checkpoint={PROJECT / TINY}>band", "--metrics", "sc_db,mel_l1")
    assert result.code == 0, result
    rows = _rows(out)
    composed = rows.pop()
    assert composed["backend_name"] == "hifigan>band" and composed["learned"] == "True"
    (composed_record,) = (out / "audio").glob("LJ001-0008__hifigan-checkpoint*-then-band.wav.json")
    stages = json.loads(composed_record.read_text())["backend"]["parameters"]["stages"]
    assert [s["backend"] for s in stages] == ["hifigan", "band"] and "removed_total" in stages[1]["found"]
    assert [r["backend_name"] for r in rows] == ["fgla", "hifigan"]
    assert all(r["mel_l1"] != "" for r in rows)
    (record_path,) = (out / "audio").glob("LJ001-0008__hifigan-checkpoint*safetensors.wav.json")
    record = json.loads(record_path.read_text())
    assert record["backend"]["name"] == "hifigan"
    assert record["backend"]["parameters"]["checkpoint_sha256"]  # which model made it, exactly
    # labelled as learned, from the model's own identity: the weights' hash is the file's
    assert [r["learned"] for r in rows] == ["False", "True"]
    assert record["learned_model"]["weights_sha256"] == hashlib.sha256((PROJECT / TINY).read_bytes()).hexdigest()
    assert "may contain" in record["learned_model"]["statement"]
    notices = [line for line in result.err.splitlines() if "learned model" in line]
    assert len(notices) == 2 and all("hifigan_tiny" in n for n in notices) and "fgla" not in result.err


def test_a_trained_backend_with_another_spec_is_refused_before_any_work(tmp_path, shared_data):
    from conftest import PROJECT

    clip = shared_data / "audio" / "ljspeech" / "LJ001-0008.wav"
    out = tmp_path / "neural"
    result = run_cli("bench", clip, "--preset", "bigvgan-24k", "--out", out,
                     "--backends", f"hifigan:checkpoint={PROJECT / TINY}")
    _assert_refused(result, out, "trained on another spec")
