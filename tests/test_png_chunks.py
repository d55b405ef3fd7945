"""A PNG's embedded metadata is read from every text chunk in the file, not
from what an image library's header pass shows; a short image stream is
refused at every bit depth."""

from __future__ import annotations

import json
import re
import struct
import zlib

import pytest

import hostile
from conftest import run_cli
from vocoder.errors import VocoderError
from vocoder.frontend.picture import probe, read_metadata, read_picture


def chunks_of(data: bytes) -> list[bytes]:
    out, position = [], 8
    while position < len(data):
        length = struct.unpack(">I", data[position:position + 4])[0]
        out.append(data[position:position + 12 + length])
        position += 12 + length
    return out


def rebuilt(before: list[bytes] = (), after: list[bytes] = (), keep_text: bool = False,
            base: bytes | None = None) -> bytes:
    """The encoded test PNG with its own vocoder chunk dropped (or kept) and
    the chunks given placed before and after the image data."""
    parts = chunks_of(base or hostile.encoded_png())
    head = [c for c in parts if c[4:8] == b"IHDR"]
    text = [c for c in parts if c[4:8] == b"iTXt"] if keep_text else []
    idat = [c for c in parts if c[4:8] == b"IDAT"]
    return b"\x89PNG\r\n\x1a\n" + b"".join(head + text + list(before) + idat + list(after)) + hostile.chunk(b"IEND", b"")


def text_chunk(kind: str, value: str | bytes, keyword: bytes = b"vocoder") -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if kind == "tEXt":
        return hostile.chunk(b"tEXt", keyword + b"\0" + raw)
    if kind == "zTXt":
        return hostile.chunk(b"zTXt", keyword + b"\0\0" + zlib.compress(raw))
    if kind == "iTXt":
        return hostile.chunk(b"iTXt", keyword + b"\0\0\0\0\0" + raw)
    return hostile.chunk(b"iTXt", keyword + b"\0\1\0en\0\0" + zlib.compress(raw))  # compressed iTXt


META = json.dumps(hostile.metadata())


@pytest.mark.parametrize("where", ["before", "after"])
@pytest.mark.parametrize("kind", ["tEXt", "zTXt", "iTXt", "iTXt compressed"])
def test_metadata_is_found_in_every_text_chunk_kind_before_and_after_the_image_data(tmp_path, kind, where):
    path = tmp_path / "x.png"
    chunk = text_chunk(kind, META)
    path.write_bytes(rebuilt(**{where: [chunk]}))
    assert read_metadata(path) == json.loads(META)
    assert probe(path).metadata == json.loads(META)  # what invert plans from
    assert read_picture(path).metadata == json.loads(META)  # what invert decodes with


def test_info_and_invert_both_see_metadata_placed_after_the_image_data(tmp_path):
    path = tmp_path / "late.png"
    path.write_bytes(rebuilt(after=[text_chunk("zTXt", META)]))
    shown = run_cli("info", "--json", path)
    assert shown.code == 0, shown
    assert json.loads(shown.out)["format"] == "vocoder.spectrogram"
    out = tmp_path / "late.wav"
    done = run_cli("invert", path, "-o", out, "--backend", "griffinlim", "--iters", "2")
    assert done.code == 0, done
    record = json.loads((tmp_path / "late.wav.json").read_text())
    assert record["input"]["kind"] == "vocoder spectrogram PNG (embedded metadata)"
    assert record["spec"] == hostile.metadata()["spec"]


def test_identical_repeats_are_one_value_and_other_keywords_are_ignored(tmp_path):
    path = tmp_path / "twice.png"
    path.write_bytes(rebuilt(before=[text_chunk("tEXt", META), text_chunk("iTXt", b"\xff\xfe not utf-8", b"Comment")],
                             after=[text_chunk("zTXt", META), text_chunk("tEXt", "hello", b"Software")]))
    assert read_metadata(path) == json.loads(META)


def _other_meta() -> str:
    meta = hostile.metadata()
    meta["mapping"]["db_min"] = -60.0
    return json.dumps(meta)


@pytest.mark.parametrize("chunks, message", [
    ({"before": [text_chunk("iTXt", META)], "after": [text_chunk("iTXt", _other_meta())]}, "differ"),
    ({"before": [text_chunk("tEXt", META), text_chunk("zTXt", _other_meta())]}, "differ"),
    ({"after": [text_chunk("iTXt", META), text_chunk("iTXt", META + " ")]}, "differ"),
    ({"after": [text_chunk("iTXt", META.encode() + b"\xff")]}, "not valid UTF-8"),
    ({"before": [hostile.chunk(b"iTXt", b"vocoder\0\1\0\0\0" + b"not zlib at all")]}, "cannot be inflated"),
    ({"before": [hostile.chunk(b"zTXt", b"vocoder\0\0" + zlib.compress(META.encode())[:-9])]}, "cut short"),
    ({"before": [hostile.chunk(b"zTXt", b"vocoder\0\7" + zlib.compress(META.encode()))]},
     "compression method|corrupt"),  # Pillow's header pass refuses this one first
    ({"before": [hostile.chunk(b"iTXt", b"vocoder\0\2\0\0\0" + META.encode())]}, "malformed"),
    ({"after": [text_chunk("zTXt", b" " * 50_000_000)]}, "inflates to more than"),
    ({"after": [text_chunk("iTXt compressed", b"[" * 3_000_000)]}, "inflates to more than"),
])
def test_undecodable_or_contradictory_metadata_is_refused_in_one_line(tmp_path, chunks, message):
    path = tmp_path / "bad.png"
    path.write_bytes(rebuilt(**chunks))
    with pytest.raises(VocoderError, match=message):
        read_metadata(path)
    for command in (["info", path], ["invert", path, "-o", tmp_path / "o.wav", "--iters", "1"]):
        result = run_cli(*command)
        assert result.code == 2, result
        assert len(result.err.strip().splitlines()) == 1 and re.search(message, result.err)
    assert not (tmp_path / "o.wav").exists()


def test_a_metadata_chunk_with_a_bad_checksum_is_refused(tmp_path):
    good = text_chunk("iTXt", META)
    broken = good[:-4] + bytes(4)
    path = tmp_path / "crc.png"
    path.write_bytes(rebuilt(after=[broken]))
    with pytest.raises(VocoderError, match="checksum"):
        read_metadata(path)


def test_an_oversized_metadata_chunk_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(rebuilt(after=[text_chunk("tEXt", b"x" * 3_000_000)]))
    with pytest.raises(VocoderError, match="over the limit"):
        read_metadata(path)


def test_our_own_metadata_chunk_still_reads_when_kept(tmp_path):
    path = tmp_path / "ours.png"
    path.write_bytes(rebuilt(keep_text=True))
    assert read_metadata(path) == hostile.metadata()


def _rows(width: int, planes: int, bits: int, count: int) -> bytes:
    return (b"\0" + bytes(width * planes * bits // 8)) * count


@pytest.mark.parametrize("bits, colour, planes", [(8, 0, 1), (8, 2, 3), (8, 4, 2), (8, 6, 4), (16, 0, 1),
                                                  (16, 2, 3)])
@pytest.mark.parametrize("rows", [0, 1, 9])
def test_a_picture_whose_data_holds_fewer_rows_than_its_header_is_refused(tmp_path, bits, colour, planes, rows):
    path = tmp_path / "short.png"
    path.write_bytes(hostile.png(12, 10, bits, colour, idat=zlib.compress(_rows(12, planes, bits, rows))))
    with pytest.raises(VocoderError, match="truncated"):
        read_picture(path)
    result = run_cli("invert", path, "-o", tmp_path / "o.wav", "--iters", "1")
    assert result.code == 2 and "truncated" in result.err and len(result.err.strip().splitlines()) == 1, result


def test_a_complete_picture_still_decodes_and_a_short_interlaced_one_is_refused(tmp_path):
    path = tmp_path / "full.png"
    path.write_bytes(hostile.png(12, 10, 8, 0, idat=zlib.compress(_rows(12, 1, 8, 10))))
    assert read_picture(path).pixels.shape == (10, 12, 1)
    # Adam7 of 12×10 grey 8-bit: the seven reduced images hold 140 bytes with their filter bytes.
    path.write_bytes(hostile.png(12, 10, 8, 0, interlace=1, idat=zlib.compress(bytes(139))))
    with pytest.raises(VocoderError, match="truncated"):
        read_picture(path)
    path.write_bytes(hostile.png(12, 10, 8, 0, interlace=1, idat=zlib.compress(bytes(140))))
    assert read_picture(path).pixels.shape == (10, 12, 1)


@pytest.mark.parametrize("keep_text", [True, False], ids=["with vocoder metadata", "plain picture"])
def test_info_names_the_text_chunks_it_did_not_use(tmp_path, keep_text):
    """A file that says more than vocoder read says so: every other text chunk,
    before or after the image data, by keyword and kind; its text is not shown."""
    path = tmp_path / "x.png"
    path.write_bytes(rebuilt(before=[text_chunk("tEXt", "Audacity", b"Software")],
                             after=[text_chunk("zTXt", "secret words", b"Comment"),
                                    text_chunk("tEXt", "again", b"Software")], keep_text=keep_text))
    result = run_cli("info", path)
    assert result.code == (0 if keep_text else 1), result
    lines = [line for line in result.out.splitlines() if line.startswith("text chunks not used by vocoder")]
    assert lines == ["text chunks not used by vocoder (not read): Software (tEXt), Comment (zTXt)"], result.out
    assert "secret words" not in result.out and "Audacity" not in result.out


def test_info_says_nothing_of_text_chunks_when_there_are_none(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(rebuilt(keep_text=True))
    result = run_cli("info", path)
    assert result.code == 0 and "text chunks not used" not in result.out, result


def test_info_names_sixteen_unused_text_chunks_and_counts_the_rest(tmp_path):
    path = tmp_path / "x.png"
    path.write_bytes(rebuilt(after=[text_chunk("tEXt", "x", f"Key{i}".encode()) for i in range(20)]))
    line = next(l for l in run_cli("info", path).out.splitlines() if l.startswith("text chunks not used"))
    assert line.count("(tEXt)") == 16 and line.endswith("Key15 (tEXt) and 4 more text chunks"), line
