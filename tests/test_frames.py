"""Multi-frame pictures: the frame the user names is the one read, and the record says which."""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from conftest import run_cli


def _pages(fmt: str, sizes: list[tuple[int, int]]) -> bytes:
    rng = np.random.default_rng(0)
    pages = [Image.fromarray((rng.random((h, w)) * 200 + 20).astype(np.uint8)) for w, h in sizes]
    buf = io.BytesIO()
    pages[0].save(buf, format=fmt, save_all=True, append_images=pages[1:])
    return buf.getvalue()


def test_a_named_tiff_page_is_read_at_its_own_size_and_recorded(tmp_path):
    path = tmp_path / "pages.tif"
    path.write_bytes(_pages("TIFF", [(40, 30), (64, 50), (20, 20)]))
    out = tmp_path / "o.wav"
    result = run_cli("invert", path, "-o", out, "--frame", "1", "--iters", "1")
    assert result.code == 0, result
    record = json.loads((tmp_path / "o.wav.json").read_text())
    assert record["input"]["frame"] == {"index": 1, "of": 3, "chosen_by": "--frame"}
    read = record["steps"][0]
    assert (read["width"], read["height"]) == (64, 50)
    assert "frame 1 of 3 (--frame 1)" in read["notes"]


def test_a_single_frame_picture_takes_frame_0_and_refuses_frame_1(tmp_path):
    path = tmp_path / "one.png"
    Image.fromarray(np.full((30, 40), 128, np.uint8)).save(path)
    assert run_cli("invert", path, "-o", tmp_path / "a.wav", "--frame", "0", "--iters", "1").code == 0
    result = run_cli("invert", path, "-o", tmp_path / "b.wav", "--frame", "1")
    assert result.code == 2 and "--frame 1 is out of range" in result.err and not (tmp_path / "b.wav").exists()
