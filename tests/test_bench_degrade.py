"""`vocoder bench` on degraded pictures (--png-bits, --blur), and how it labels learned backends."""

import csv
import json

import numpy as np
import pytest

from conftest import run_cli
from vocoder.frontend.picture import read_picture
from vocoder.inversion.base import LEARNED_OUTPUT_STATEMENT
from vocoder.inversion.pghi import PGHI


def _rows(folder):
    with open(folder / "results.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _bench(clip, out, *args):
    result = run_cli("bench", clip, "--preset", "hifigan", "--backends", "pghi", "--out", out,
                     "--metrics", "sc_db,mel_l1", "--report-audio", "none", *args)
    assert result.code == 0, result
    return result


@pytest.fixture(scope="module")
def clip(shared_data):
    return shared_data / "audio" / "ljspeech" / "LJ001-0008.wav"


@pytest.fixture(scope="module")
def conditions(tmp_path_factory, clip):
    """The same clip benched clean, as an 8-bit PNG, and as an 8-bit PNG blurred by 1.5 px."""
    root = tmp_path_factory.mktemp("degrade")
    runs = {"clean": [], "png8": ["--png-bits", "8"], "png8-blur": ["--png-bits", "8", "--blur", "1.5"]}
    for name, args in runs.items():
        _bench(clip, root / name, *args)
    return {name: root / name for name in runs}


def test_the_input_picture_has_the_asked_bit_depth(conditions):
    assert read_picture(conditions["clean"] / "images" / "LJ001-0008.png").bit_depth == 16
    assert read_picture(conditions["png8"] / "images" / "LJ001-0008.png").bit_depth == 8
    assert read_picture(conditions["png8-blur"] / "images" / "LJ001-0008.png").bit_depth == 8


def test_the_blur_smooths_the_stored_pixels(conditions):
    sharp = read_picture(conditions["png8"] / "images" / "LJ001-0008.png").pixels[..., 0]
    blurred = read_picture(conditions["png8-blur"] / "images" / "LJ001-0008.png").pixels[..., 0]
    assert sharp.shape == blurred.shape
    roughness = lambda x: float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())  # noqa: E731
    assert roughness(blurred) < 0.6 * roughness(sharp)
    assert abs(float(blurred.mean()) - float(sharp.mean())) < 0.01  # a blur moves energy, it does not add it


def test_every_output_says_which_picture_it_was_made_from(conditions):
    expected = {"clean": ("16", "0.0", "16-bit PNG"), "png8": ("8", "0.0", "8-bit PNG"),
                "png8-blur": ("8", "1.5", "8-bit PNG, blur σ 1.5 px")}
    for name, (bits, sigma, label) in expected.items():
        (row,) = _rows(conditions[name])
        assert (row["png_bits"], row["blur_sigma"]) == (bits, sigma)
        record = json.loads((conditions[name] / "audio" / "LJ001-0008__pghi.wav.json").read_text())
        assert record["input"]["degradation"] == {"png_bits": int(bits), "blur_sigma_pixels": float(sigma),
                                                  "label": label}
        blur_steps = [s for s in record["steps"] if s["step"] == "degrade_picture"]
        assert len(blur_steps) == (1 if name == "png8-blur" else 0)
        summary = json.loads((conditions[name] / "summary.json").read_text())
        assert summary["input_picture"]["label"] == label
        assert f"as a {label}" in (conditions[name] / "summary.md").read_text()
        assert f"as a {label}" in (conditions[name] / "report.html").read_text()


def test_degrading_the_picture_costs_fidelity(conditions):
    sc = {name: float(_rows(folder)[0]["sc_db"]) for name, folder in conditions.items()}
    mel = {name: float(_rows(folder)[0]["mel_l1"]) for name, folder in conditions.items()}
    assert sc["clean"] < sc["png8-blur"] - 1 and mel["clean"] < mel["png8-blur"]
    assert sc["png8"] <= sc["png8-blur"]


@pytest.mark.parametrize("args, message", [
    (["--blur", "-1"], "--blur"),
    (["--blur", "nan"], "--blur"),
    (["--png-bits", "12"], "--png-bits"),
])
def test_bad_degradations_are_refused(tmp_path, clip, args, message):
    out = tmp_path / "out"
    result = run_cli("bench", clip, "--backends", "pghi", "--out", out, *args)
    assert result.code == 2, result
    assert result.err.count("\n") == 1 and message in result.err and "Traceback" not in result.err
    assert not out.exists()


# -- learned backends are labelled wherever their output appears ---------------------------


IDENTITY = {"name": "fake-net-7", "architecture": "a classical method wearing a learned model's label",
            "weights_sha256": "ab" * 32, "training_data": "nothing at all (test fixture)", "licence": "MIT",
            "statement": LEARNED_OUTPUT_STATEMENT}


class FakeLearned(PGHI):
    """PGHI, declaring itself learned: the bench must label it from learned_model() alone."""

    name = "fakenet"
    summary = "test fixture"

    def learned_model(self):
        return dict(IDENTITY)


@pytest.fixture(scope="module")
def learned_run(tmp_path_factory, shared_data):
    from vocoder.inversion import registry

    registry.register("fakenet", FakeLearned)  # checked like any backend: options, working set
    clips = [shared_data / "audio" / "ljspeech" / f"LJ001-00{n}.wav" for n in ("02", "08")]
    out = tmp_path_factory.mktemp("learned") / "out"
    try:
        result = run_cli("bench", *clips, "--preset", "hifigan", "--backends", "pghi,fakenet", "--out", out,
                         "--metrics", "sc_db")
    finally:
        registry.BACKENDS.pop("fakenet")
    assert result.code == 0, result
    return result, out


def test_bench_says_once_on_stderr_which_learned_model_it_runs(learned_run):
    result, _ = learned_run
    lines = [line for line in result.err.splitlines() if "fake-net-7" in line]
    assert len(lines) == 1
    assert "'fakenet'" in lines[0] and "nothing at all (test fixture)" in lines[0]
    assert LEARNED_OUTPUT_STATEMENT in lines[0]
    assert "pghi'" not in result.err  # nothing is said about the classical backend


def test_results_csv_has_a_learned_column(learned_run):
    _, out = learned_run
    rows = _rows(out)
    assert {(r["backend"], r["learned"], r["learned_model"]) for r in rows} == {
        ("pghi", "False", ""), ("fakenet", "True", "fake-net-7")}


def test_every_learned_output_record_carries_the_model_identity(learned_run):
    _, out = learned_run
    for clip in ("LJ001-0002", "LJ001-0008"):
        learned = json.loads((out / "audio" / f"{clip}__fakenet.wav.json").read_text())
        classical = json.loads((out / "audio" / f"{clip}__pghi.wav.json").read_text())
        assert learned["learned_model"] == IDENTITY
        assert classical["learned_model"] is None
    summary = json.loads((out / "summary.json").read_text())
    assert {b["label"]: b["learned_model"] for b in summary["backends"]} == {"pghi": None, "fakenet": IDENTITY}


def test_summary_marks_the_learned_column_with_a_footnote(learned_run):
    _, out = learned_run
    text = (out / "summary.md").read_text()
    header = next(line for line in text.splitlines() if line.startswith("| metric "))
    assert "| pghi |" in header and "| fakenet [L1] |" in header
    footnote = next(line for line in text.splitlines() if line.startswith("- [L1]"))
    for part in ("fake-net-7", "nothing at all (test fixture)", "MIT", LEARNED_OUTPUT_STATEMENT):
        assert part in footnote
    assert "may contain content absent from the input" in text


def test_report_badges_every_learned_column_and_run(learned_run):
    _, out = learned_run
    page = (out / "report.html").read_text()
    # one in the table header and one per clip's run; the legend lists the model once
    assert page.count("learned [L1]: fake-net-7") == 1 + 2
    assert "nothing at all (test fixture)" in page and "may contain content absent from the input" in page
    assert "learned [L2]" not in page
