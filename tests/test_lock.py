"""The environment is the locked one, and every record says whether it is."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
from PIL import Image

from conftest import PROJECT, run_cli
from vocoder.provenance import lock


@pytest.fixture
def fresh_status():
    """lock_status() is cached per process; each test here sees its own."""
    lock.lock_status.cache_clear()
    yield
    lock.lock_status.cache_clear()


def test_installed_environment_is_the_lock():
    """`make test` installs from the lock: anything else is named here."""
    status = lock.lock_status()
    assert status["sha256"], status
    assert status["matches"], ("the installed environment is not the locked one: "
                               + lock.differences_line(status, limit=50)
                               + " (run `make install` to reinstall from vocoder/locks/)")


def test_lock_pins_torch_and_torchaudio_of_one_release():
    """torchaudio's binary loads only with the torch release it was built for
    (torchaudio 2.11.1 does not load with torch 2.11.0): a refreshed lock must
    keep them the same, and pyproject's ranges must not allow a split either."""
    pins = lock.read_lock(lock.LOCK_FILE.read_text())
    assert pins["torchaudio"] == pins["torch"], pins
    deps = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]["dependencies"]
    exact = {m.group(1): m.group(2) for d in deps if (m := re.fullmatch(r"(torch|torchaudio)==(\d+\.\d+\.\d+)", d))}
    assert exact == {"torch": pins["torch"], "torchaudio": pins["torch"]}, deps


def test_every_locked_pin_carries_hashes():
    """pip installs with --require-hashes; a pin without a hash would stop it."""
    text = lock.LOCK_FILE.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    for block in blocks:
        if "==" in block:
            assert "--hash=sha256:" in block, block.splitlines()[0]


def _fake_distribution(root: Path, name: str, version: str) -> None:
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")


def test_a_changed_version_is_reported_by_name(tmp_path, monkeypatch, fresh_status):
    """A torchaudio other than the locked one, found first on the path (as a
    second install would be), makes the status a mismatch that names it."""
    locked = lock.read_lock(lock.LOCK_FILE.read_text())["torchaudio"]
    _fake_distribution(tmp_path, "torchaudio", "9.9.9")
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    status = lock.lock_status()
    assert status["matches"] is False
    assert status["differs"]["torchaudio"] == {"locked": locked, "installed": "9.9.9"}
    assert f"torchaudio 9.9.9 (locked {locked})" in lock.summary_line(status)


def test_missing_packages_and_platform_are_mismatches():
    status = lock.compare({"numpy": "2.0.0", "torch": "2.11.0"}, {"numpy": "2.0.0", "pip": "24", "rich": "1"})
    assert status == {"differs": {}, "missing": ["torch"], "not_in_lock": ["rich"]}
    assert lock.canonical("Typing_Extensions") == "typing-extensions"
    assert lock.read_lock("Foo_Bar==1.2 \\\n    --hash=sha256:ab\n# c==1\nbaz[x]==3 ; python_version<'4'\n") == \
        {"foo-bar": "1.2", "baz": "3"}


def test_record_and_info_name_the_lock(tmp_path, fresh_status):
    """An output's record carries the lock's sha256 and the match flag, and
    `vocoder info` on the output shows both, for the file and for here."""
    picture = tmp_path / "p.png"
    Image.new("L", (8, 8), 128).save(picture)
    out = tmp_path / "p.wav"
    assert run_cli("sonify", picture, "-o", out).code == 0
    record = json.loads((tmp_path / "p.wav.json").read_text())
    env_lock = record["environment"]["lock"]
    assert env_lock["sha256"] == lock.lock_status()["sha256"]
    assert isinstance(env_lock["matches"], bool)
    info = run_cli("info", out)
    assert info.code == 0, info
    assert f"lock sha256 {env_lock['sha256'][:16]}" in info.out
    assert "this environment: lock linux-x86_64-cp311.txt" in info.out
    as_json = json.loads(run_cli("info", "--json", out).out)
    assert as_json["record_environment"]["lock"]["sha256"] == env_lock["sha256"]
