"""Picture → spectrogram: which reading applies.

Our PNG with its metadata is decoded exactly (:mod:`spectrogram_png`); a known
producer's picture (:mod:`producers`) and any other picture go through the
analyst chain (:mod:`picture_chain`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vocoder.frontend.picture import Picture
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend.producers import recognise
from vocoder.spec import PRESETS, SpectrogramSpec

if TYPE_CHECKING:
    from vocoder.spectrogram import Spectrogram


def picture_uses_metadata(picture: Picture, ignore_metadata: bool) -> bool:
    return picture.metadata is not None and not ignore_metadata


def picture_producer(picture: Picture, ignore_metadata: bool):
    """The known producer's reading of a picture without our metadata, or None."""
    if ignore_metadata or picture.metadata is not None:
        return None
    return recognise(picture)


def image_to_spectrogram(picture: Picture, spec: SpectrogramSpec | None, options: PictureOptions,
                         ignore_metadata: bool = False, path: str = "", found: dict | None = None) -> Spectrogram:
    """Exact decode when the picture carries our metadata; a known producer's
    conventions when it carries theirs; otherwise the analyst chain under
    ``spec`` (the ``linear`` preset when None); ``found``: how a drawn plot was read (its step)."""
    # Here, not above: both decoders load torch, which `info` (picture_producer only) never needs.
    from vocoder.frontend.picture_chain import picture_to_spectrogram
    from vocoder.frontend.spectrogram_png import metadata_spectrogram

    if picture_uses_metadata(picture, ignore_metadata):
        return metadata_spectrogram(picture, path)
    reading = picture_producer(picture, ignore_metadata)
    if reading is not None:
        return picture_to_spectrogram(picture, reading.spec, reading.options,
                                      producer={"producer": reading.producer, "claims": reading.claims})
    if spec is None:
        spec = PRESETS["linear"]
    return picture_to_spectrogram(picture, spec, options, path=path or "the picture", found=found)
