"""The `vocoder` executable. SIGINT and SIGTERM are handled from its first
moment, before the command's heavy imports (numpy, Pillow, torch), so a
signal at any point ends as one line and exit status 2."""

from __future__ import annotations

import sys


def main() -> int:
    from vocoder import interrupts

    with interrupts.handled():
        try:
            from vocoder.cli import main as cli_main
        except KeyboardInterrupt:
            print(interrupts.message(interrupts.received()), file=sys.stderr)
            return 2
        return cli_main()


if __name__ == "__main__":
    sys.exit(main())
