"""The one exception type for failures a user can cause.

The CLI turns a VocoderError into a single line on stderr and exit status 2;
anything else is a bug in vocoder.
"""


class VocoderError(Exception):
    """A problem with the user's input, options or environment."""
