"""Front end: audio and images to Spectrogram objects and back."""
