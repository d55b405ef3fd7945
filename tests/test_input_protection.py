"""--force never replaces a file the command read: not only the files named on
the command line but every record, sidecar and config it opened on the way
(all readers go through vocoder.safety.outputs.reading/open_input)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from test_pretrained import _original_checkpoint
from vocoder.errors import VocoderError
from vocoder.provenance.hashing import sha256_file
from vocoder.safety.outputs import AtomicOutputs, open_input, output_policy, reading


def _state(folder: Path) -> dict[str, str]:
    return {p.name: sha256_file(p) for p in sorted(folder.iterdir()) if p.is_file()}


def _refused(result, folder: Path, before: dict[str, str]) -> None:
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "never replaces an input" in lines[0] and "--force" in lines[0], result.err
    assert _state(folder) == before  # nothing replaced, nothing left


@pytest.fixture
def sonified(tmp_path: Path) -> Path:
    """p.png (16×16 grey) sonified to s.wav, with its record s.wav.json."""
    Image.fromarray((np.arange(256).reshape(16, 16)).astype(np.uint8)).save(tmp_path / "p.png")
    assert run_cli("sonify", tmp_path / "p.png", "-o", tmp_path / "s.wav").code == 0
    return tmp_path


def test_desonify_never_replaces_the_sonify_record_it_read(sonified):
    """desonify writes only .png names, so the record it read can be reached only
    through a link: as the picture itself, or as the record beside the picture."""
    os.link(sonified / "s.wav.json", sonified / "hard.png")
    os.link(sonified / "s.wav.json", sonified / "q.png.json")
    os.symlink("s.wav.json", sonified / "r.png.json")
    before = _state(sonified)
    for name in ("hard.png", "q.png", "r.png"):
        result = run_cli("desonify", sonified / "s.wav", "-o", f"{sonified}/{name}", "--force")
        _refused(result, sonified, before)


def test_a_record_read_through_another_spelling_is_protected_too(sonified):
    os.symlink("s.wav.json", sonified / "soft.png.json")
    (sonified / "sub").mkdir()
    before = _state(sonified)
    for name in ("soft.png", "./soft.png", "sub/../soft.png"):
        result = run_cli("desonify", sonified / "s.wav", "-o", f"{sonified}/{name}", "--force")
        _refused(result, sonified, before)


def test_import_never_replaces_the_config_it_found_beside_the_checkpoint(tmp_path):
    """The config is not named on the command line; the output is the same file under a model's name."""
    original, _ = _original_checkpoint(tmp_path)
    os.link(tmp_path / "config.json", tmp_path / "m.safetensors")
    before = _state(tmp_path)
    result = run_cli("import", original, "-o", tmp_path / "m.safetensors", "--force")
    _refused(result, tmp_path, before)


def test_an_output_reserved_before_the_read_is_refused_at_commit(tmp_path):
    """Reading may come after the output was reserved: the commit checks again."""
    record = tmp_path / "record.json"
    record.write_text("{}")
    with output_policy(force=True):
        with pytest.raises(VocoderError, match="never replaces an input"):
            with AtomicOutputs() as outputs:
                outputs.write_text(record, "replaced")
                with open_input(record) as fh:
                    fh.read()
    assert record.read_text() == "{}"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # no temporary left


def test_every_kind_of_read_counts_and_a_folder_holding_a_read_file_is_refused(tmp_path):
    (tmp_path / "clips").mkdir()
    clip = tmp_path / "clips" / "list.txt"
    clip.write_text("a.wav\n")
    with output_policy(force=True):
        reading(clip)  # a library reads it by name
        with pytest.raises(VocoderError, match="holds the input"):
            with AtomicOutputs() as outputs:
                outputs.reserve_folder(tmp_path / "clips")
        with pytest.raises(VocoderError, match="never replaces an input"):
            with AtomicOutputs() as outputs:
                outputs.write_text(clip, "x")
    assert clip.read_text() == "a.wav\n"


def test_reads_outside_a_command_protect_nothing_and_open_input_only_reads(tmp_path):
    record = tmp_path / "r.json"
    record.write_text("{}")
    reading(record)  # no command running: nothing is remembered for later ones
    with output_policy(force=True):
        with AtomicOutputs() as outputs:
            outputs.write_text(record, "new")
        with pytest.raises(ValueError):
            open_input(record, "w")
    assert record.read_text() == "new"
