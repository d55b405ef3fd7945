"""Relative paths mean the same thing from any folder: data paths in a config
are relative to the config file; tests that need ../shared/data say so."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import PROJECT, run_cli
from test_training import clips, write_config  # noqa: F401  (clips is a fixture)
from vocoder.training.paths import data_path_bases, resolve_data_paths


def _config(path: Path, data: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"data": data}))
    return path


def test_a_config_path_is_relative_to_its_file_and_a_command_line_path_to_the_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    a = _config(tmp_path / "a" / "c.yaml", {"data_dir": "../audio", "val_files": ["../audio/x.wav"]})
    b = _config(tmp_path / "b" / "d.yaml", {"batch_size": 2})  # says nothing about paths
    data = {"data_dir": "../audio", "file_list": None, "val_files": ["../audio/x.wav"]}
    resolve_data_paths(data, ["fit", "--config", str(a), "--config", str(b)])
    assert data == {"data_dir": str(tmp_path / "audio"), "file_list": None, "val_files": [str(tmp_path / "audio/x.wav")]}
    # Later wins, as jsonargparse applies them: the command line after the config, or a config after it.
    assert data_path_bases(["fit", "--config", str(a), "--data.data_dir", "wavs"])["data_dir"] == str(tmp_path)
    assert data_path_bases(["fit", "--data.data_dir=wavs", "--config", str(a)])["data_dir"] == str(tmp_path / "a")
    assert data_path_bases(["fit", "--data.file_list", "l.txt"]) == {"file_list": str(tmp_path)}
    assert data_path_bases(["fit", "-c", str(a)])["val_files"] == str(tmp_path / "a")


def test_fit_with_a_config_from_another_folder_finds_its_data(tmp_path, clips, monkeypatch):  # noqa: F811
    project = tmp_path / "project"
    (project / "configs").mkdir(parents=True)
    config = write_config(project / "configs" / "tiny.yaml", clips, max_steps=1, val_check_interval=1,
                          limit_val_batches=1)
    settings = yaml.safe_load(config.read_text())
    (project / "audio").symlink_to(clips)
    settings["data"]["data_dir"] = "../audio"  # beside configs/, as ../shared/... is in configs/*.yaml
    config.write_text(yaml.safe_dump(settings))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = run_cli("fit", "--config", config, "--run", "far")
    assert result.code == 0, result
    saved = yaml.safe_load((elsewhere / "runs" / "far" / "config.yaml").read_text())
    assert saved["data"]["data_dir"] == str(project / "audio")  # absolute in the run's record
    # The same relative path on the command line is relative to the current folder: not there.
    result = run_cli("fit", "--config", config, "--run", "near", "--data.data_dir", "../audio")
    assert result.code == 2 and f"audio folder not found: {tmp_path / 'audio'}" in result.err, result


def test_the_shipped_configs_point_at_the_shared_data_from_their_own_folder():
    for config in sorted((PROJECT / "configs").glob("hifigan_*.yaml")):
        data_dir = yaml.safe_load(config.read_text())["data"]["data_dir"]
        resolved = os.path.normpath(config.parent / data_dir)
        assert resolved == str(PROJECT.parent / "shared" / "data" / "audio" / "ljspeech"), config


def _pytest_without_shared_data(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(VOCODER_SHARED_DATA=str(tmp_path / "no-such-data"), PYTHONPATH=str(PROJECT))
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:warnings",
                           "tests/test_frontend_audio.py::test_ogg_is_read"],
                          cwd=PROJECT, env=env, capture_output=True, text=True, timeout=600)


def test_without_shared_data_a_local_run_skips_and_says_why(tmp_path):
    result = _pytest_without_shared_data(tmp_path, None)
    assert result.returncode == 0, result.stdout
    assert "1 skipped" in result.stdout
    assert f"1 tests skipped because the real recordings are not present in {tmp_path / 'no-such-data'}" \
        in result.stdout


def test_without_shared_data_ci_fails_with_a_clear_message(tmp_path):
    result = _pytest_without_shared_data(tmp_path, "true")
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout or "1 failed" in result.stdout, result.stdout
    assert "CI must provide it" in result.stdout and "skipped" not in result.stdout
