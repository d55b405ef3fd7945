"""A signal stops a command even when it lands where Python cannot raise."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# The signal is sent from inside a finaliser, so its handler runs there and
# its exception is swallowed by Python ("Exception ignored in ..."). Before the
# fix the command then ran on to its end (the flag said "already stopping",
# so no later signal could stop it either).
SCRIPT = textwrap.dedent("""
    import gc, os, signal, sys, time
    from vocoder.safety import interrupts

    class SignalsWhenCollected:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(100000):  # the handler runs in here
                pass

    started = time.monotonic()
    try:
        with interrupts.handled():
            SignalsWhenCollected()  # collected at once: __del__ runs now
            while time.monotonic() - started < 10:
                sum(range(1000))
            print("ran to the end")
    except interrupts.Interrupted as exc:
        print(f"stopped by {exc.signal_name} after {time.monotonic() - started:.2f} s")
""")


def test_a_signal_swallowed_by_a_finaliser_still_stops_the_command():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("stopped by SIGTERM after "), done.stdout
    assert float(done.stdout.split()[-2]) < 2.0
    assert "Exception ignored" not in done.stderr  # no traceback-like noise on stderr


def test_without_a_signal_nothing_is_raised_and_handlers_come_back():
    script = textwrap.dedent("""
        import signal
        from vocoder.safety import interrupts
        before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
        with interrupts.handled():
            assert signal.getsignal(signal.SIGALRM) is not before[signal.SIGALRM]
        after = {s: signal.getsignal(s) for s in before}
        print("same" if after == before else f"changed {before} -> {after}")
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "same", done.stdout + done.stderr
