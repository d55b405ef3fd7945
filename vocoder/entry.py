"""The `vocoder` executable. SIGINT, SIGTERM and SIGHUP are handled from its
first moment, before the command's heavy imports (numpy, Pillow, torch), so a
signal at any point ends as one line and exit status 2; a standard stream
closed by the caller gets /dev/null, so no output file can take its number."""

from __future__ import annotations

import sys


def main() -> int:
    from vocoder.safety import interrupts

    code = None
    with interrupts.handled():
        try:
            from vocoder.safety.streams import reopen_closed_standard_streams

            reopen_closed_standard_streams()
            from vocoder.cli import main as cli_main

            code = cli_main()
        except KeyboardInterrupt:
            if code is None:  # before the command took over its own signals
                print(interrupts.message(interrupts.received()), file=sys.stderr)
                return 2
        # Done, outputs whole (a signal that came after cli_main returned lands here too).
        interrupts.finished()
    return code


if __name__ == "__main__":
    sys.exit(main())
