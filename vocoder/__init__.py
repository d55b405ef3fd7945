"""vocoder: spectrogram (or any picture) → audio, with every step recorded."""

__version__ = "0.1.0"
