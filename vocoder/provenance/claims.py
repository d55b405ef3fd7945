"""What an input image says about itself, kept apart from what this run
measured.

A spectrogram PNG's embedded metadata (spec, mapping, source audio hash, the
steps that made it) is written by whoever made the file: it is a claim, not
a fact. The record keeps it verbatim under ``claimed``; the claims that the
pixels themselves can confirm or refute are checked here, and a claim the
pixels contradict is reported (record and stderr), never silently used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from vocoder.frontend.picture import Picture
from vocoder.spec import SpectrogramSpec

LENGTH_CLAIM = "n_samples (as frames, the image width)"
CLAIMED_BY = ("the input image's embedded metadata: written by whoever made the file, not verified "
              "except as listed under verified.claim_checks")


@dataclass
class ClaimReport:
    claimed: dict[str, Any] | None  # None: the input claims nothing
    checks: list[dict[str, Any]] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)

    def agrees(self, claim: str) -> bool:
        """False only when ``claim`` was checked and the pixels contradict it."""
        return all(c["agrees"] for c in self.checks if c["claim"] == claim)


def _check(report: ClaimReport, path: str, claim: str, measure: Callable[[], tuple[Any, Any] | None],
           against: str = "the pixels show") -> None:
    """Run one check; a claim too malformed to compare is simply not checked."""
    try:
        pair = measure()
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError):
        return
    if pair is None:
        return
    claimed, measured = pair
    if isinstance(claimed, float) or isinstance(measured, float):
        agrees = math.isclose(float(claimed), float(measured), rel_tol=0, abs_tol=1e-9)
    else:
        agrees = claimed == measured
    report.checks.append({"claim": claim, "claimed": claimed, "measured": measured, "agrees": bool(agrees)})
    if not agrees:
        report.mismatches.append(f"{path}: its metadata claims {claim} = {claimed}, but {against} {measured}; "
                                 "the image was changed after it was encoded, or the metadata is not its own")


def check_image_claims(picture: Picture, path: str) -> ClaimReport:
    """Record what ``picture``'s metadata claims and check what its pixels can confirm."""
    meta = picture.metadata
    if meta is None:
        return ClaimReport(None)
    report = ClaimReport({"by": CLAIMED_BY, "metadata": meta})
    pixels = picture.pixels  # floats: stored integer / (2^bits - 1); views only, no copy of the image
    top = 2 ** picture.bit_depth - 1
    channels = meta.get("layout", {}).get("channels") if isinstance(meta.get("layout"), dict) else None
    used = pixels[..., : (2 if isinstance(channels, list) and len(channels) == 2 else 1)]

    def frames_for_length():
        spec = SpectrogramSpec.from_dict(meta["spec"])
        n = meta["n_samples"]
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            return None
        return spec.n_frames(n), picture.width

    def fraction_below():
        claimed = meta["fraction_below_range"]
        if not isinstance(claimed, (int, float)) or isinstance(claimed, bool):
            return None
        return float(claimed), float((used == 0).mean())

    def peak():
        mapping = meta["mapping"]
        if mapping.get("db_max") != 0 or mapping.get("bits") != picture.bit_depth:
            return None  # only our encoder's rule (the peak is 0 dB) can be checked
        return top, int(round(float(used.max()) * top))

    def blue_plane():
        if not (isinstance(channels, list) and len(channels) == 2 and pixels.shape[-1] >= 3):
            return None
        return 0, int(round(float(pixels[..., 2].max()) * top))

    def source_hash():
        source, steps = meta["source"], meta["provenance"]
        read = next((s for s in steps if isinstance(s, dict) and s.get("step") == "read_audio"), None)
        if not isinstance(source, dict) or "sha256" not in source or read is None or "sha256" not in read:
            return None
        return source["sha256"], read["sha256"]

    def source_length():
        spec = SpectrogramSpec.from_dict(meta["spec"])
        source = meta["source"]
        if source.get("sample_rate") != spec.sample_rate or not isinstance(meta["n_samples"], int):
            return None
        return source["samples"], meta["n_samples"]

    _check(report, path, LENGTH_CLAIM, frames_for_length)
    _check(report, path, "fraction_below_range (the share of zero pixels)", fraction_below)
    _check(report, path, "the brightest pixel (the peak is 0 dB)", peak)
    _check(report, path, "the unused blue plane (all zero)", blue_plane, "its brightest blue pixel is")
    # Two claims that must agree with each other: a sign of editing when not.
    _check(report, path, "source.sha256", source_hash, "its read_audio step says")
    _check(report, path, "source.samples", source_length, "at the same rate its n_samples says")
    return report


def pixels_summary(picture: Picture) -> dict[str, Any]:
    """What this run measured of the decoded image itself."""
    return {"width": picture.width, "height": picture.height, "bands": picture.bands,
            "bit_depth": picture.bit_depth, "format": picture.format}
