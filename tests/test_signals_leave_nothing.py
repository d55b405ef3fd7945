"""However a command is stopped, its folder is as it was: SIGINT, SIGTERM and
SIGHUP (one line, exit 2), a signal swallowed by a library, SIGKILL (nameless
temporaries on Linux), and where temporaries must have names, the next run
for the same output removes those whose maker is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import run_cli
from vocoder.safety import outputs as outputs_module
from vocoder.safety.outputs import AtomicOutputs, remove_stale_temporaries

VOCODER = str(Path(sys.executable).parent / "vocoder")
# Long enough to be stopped while working: a 256×256 picture inverted for many iterations.
SLOW = ["invert", "p.png", "-o", "o.wav", "--preset", "linear", "--backend", "griffinlim", "--iters", "100000"]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    Image.fromarray((np.random.default_rng(0).random((256, 256)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    return tmp_path


def _entries(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


def _holds_temporaries(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` holds an output temporary in ``folder`` open (it is working)."""
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith(f"{folder}/") and (link.endswith("(deleted)") or ".part" in link):
            return True
    return False


def _start_and_wait(folder: Path, command: list[str], env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while not _holds_temporaries(process.pid, folder):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the command never started writing"
        time.sleep(0.05)
    time.sleep(0.3)
    return process


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_hangup_or_terminate_while_working_is_one_line_and_leaves_nothing(folder, signum):
    before = _entries(folder)
    process = _start_and_wait(folder, [VOCODER, *SLOW])
    process.send_signal(signum)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2, err
    assert err.decode().strip().splitlines() == [
        f"vocoder: stopped by {signal.Signals(signum).name} before finishing; unfinished outputs were removed"]
    assert _entries(folder) == before


@pytest.mark.skipif(not hasattr(os, "O_TMPFILE"), reason="nameless temporaries are Linux's O_TMPFILE")
def test_sigkill_leaves_nothing_because_temporaries_have_no_name(folder):
    before = _entries(folder)
    process = _start_and_wait(folder, [VOCODER, *SLOW, "--preview"])
    process.kill()
    process.communicate(timeout=60)
    assert _entries(folder) == before


# A command run with named temporaries (as where O_TMPFILE is missing), killed while it works.
NAMED = textwrap.dedent("""
    import sys
    from vocoder.safety import outputs
    outputs._anonymous_temporary = lambda folder: None
    from vocoder.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_after_sigkill_with_named_temporaries_the_next_run_removes_them(folder):
    process = _start_and_wait(folder, [sys.executable, "-c", NAMED, *SLOW, "--preview"])
    process.kill()
    process.communicate(timeout=60)
    left = [name for name in _entries(folder) if name.startswith(".o.wav.")]
    assert len(left) == 3 and all(f".{process.pid}." in name for name in left)  # audio, record, preview
    other = folder / f".other.wav.{process.pid}.abcdefgh.part.wav"  # another output's: not ours to remove
    other.touch()
    result = run_cli("invert", folder / "p.png", "-o", folder / "o.wav", "--preset", "linear", "--iters", "1",
                     "--preview")
    assert result.code == 0, result
    assert _entries(folder) == sorted([".other.wav." + other.name.split(".other.wav.")[1], "o.wav", "o.wav.json",
                                       "o.wav.preview.png", "p.png"])


def test_temporaries_of_a_living_process_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs_module, "_anonymous_temporary", lambda folder: None)
    target = tmp_path / "x.wav"
    living = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        mine = tmp_path / f".x.wav.{living.pid}.abcdefgh.part.wav"
        mine.touch()
        dead = tmp_path / ".x.wav.999999999.abcdefgh.part.wav"  # beyond pid_max: never alive
        dead.touch()
        staging = tmp_path / ".x.wav.partial-999999999.abcdefgh"
        (staging / "audio").mkdir(parents=True)
        unrelated = tmp_path / ".x.wav.notes"  # a user's file that merely starts alike
        unrelated.touch()
        remove_stale_temporaries(str(target))
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, unrelated.name])
    finally:
        living.kill()
        living.wait()


def test_a_target_name_of_255_bytes_is_written_with_named_temporaries_too(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs_module, "_anonymous_temporary", lambda folder: None)
    for name in ("a" * 251 + ".wav", "é" * 125 + ".wav", "b" * 200 + "." + "x" * 54):
        target = tmp_path / name
        assert len(os.fsencode(name)) <= 255
        with AtomicOutputs() as outputs:
            tmp = outputs.reserve(target)
            assert len(os.fsencode(os.path.basename(tmp))) <= 255
            outputs.write_bytes(target, b"data")
        assert target.read_bytes() == b"data"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


SWALLOWED = textwrap.dedent("""
    import os, signal, time
    from vocoder.safety import interrupts
    from vocoder.safety.outputs import AtomicOutputs

    started = time.monotonic()
    try:
        with interrupts.handled():
            with AtomicOutputs() as outputs:
                outputs.write_bytes("out.bin", b"x")
                try:  # a library that catches everything, as some do around an import
                    os.kill(os.getpid(), signal.SIGINT)
                    for _ in range(100000):
                        pass
                except BaseException:
                    pass
                while time.monotonic() - started < 10:
                    sum(range(1000))
        print("ran to the end")
    except interrupts.Interrupted as exc:
        print(f"stopped by {exc.signal_name} after {time.monotonic() - started:.2f} s")
""")


def test_a_signal_a_library_swallowed_still_stops_the_command_and_publishes_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-c", SWALLOWED], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.startswith("stopped by SIGINT after "), done.stdout + done.stderr
    assert float(done.stdout.split()[-2]) < 2.0
    assert os.listdir(tmp_path) == []


def test_a_signal_before_the_command_took_over_is_not_forgotten(tmp_path):
    """The executable's handler got it while modules were imported and a
    library swallowed it; the CLI's own handler must not reset it."""
    script = textwrap.dedent("""
        import os, signal, sys
        from vocoder import entry
        from vocoder.safety import streams

        def swallowing_import():  # runs inside the executable's handler, before the CLI is imported
            try:
                os.kill(os.getpid(), signal.SIGHUP)
                for _ in range(100000):
                    pass
            except BaseException:
                pass

        streams.reopen_closed_standard_streams = swallowing_import
        sys.argv = ["vocoder", "pattern", "chirp", "-o", "c.png", "--duration", "0.2"]
        sys.exit(entry.main())
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done
    assert done.stderr.strip().splitlines() == [
        "vocoder: stopped by SIGHUP before finishing; unfinished outputs were removed"]
    assert os.listdir(tmp_path) == []
