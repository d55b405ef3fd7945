"""Colour-mapped pictures back to values.

A spectrogram rendered by another program maps each value through a colour
map (viridis, magma, jet, ...). Reading such a picture as luminance is wrong:
viridis' luminance is not monotone enough, jet's is not monotone at all. Here
every pixel is matched to the nearest colour of the map in CIELAB (a
perceptual space, so "nearest" means "looks most alike") and replaced by that
colour's position on the map, in [0, 1]. How far the pixels were from the map
(ΔE, CIE 1976) is reported, so a wrong map is noticed instead of silently used.

Work is done on the picture's distinct colours, not its pixels: a rendered
spectrogram has a few thousand at most, so a 10-megapixel screenshot costs
little more than a thumbnail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocoder.errors import VocoderError

# Maps tried by --colormap auto: matplotlib's perceptual maps, the rainbows
# other tools still default to, and a grey ramp (so a grey picture is
# recognised as grey). A reversed map ("NAME_r") has the same colours, so
# colour alone cannot tell it apart: direction is the polarity option's job.
AUTO_CANDIDATES = ("viridis", "magma", "inferno", "plasma", "cividis", "jet", "turbo", "rainbow", "hot",
                   "gray", "bone", "afmhot", "gist_heat", "cubehelix", "coolwarm", "Spectral")
LUT_SIZE = 1024  # entries sampled along the map; finer than 8-bit pixels
# Mean ΔE above which a map is reported as not fitting (ΔE ≈ 2.3 is a "just
# noticeable difference", Sharma 2003; 8-bit rounding alone stays below 1).
POOR_FIT_DELTA_E = 5.0


@dataclass(frozen=True)
class ColormapFit:
    """Values decoded through one map, and how well the picture matched it."""

    name: str
    values: np.ndarray  # H × W in [0, 1]: position on the map
    mean_delta_e: float  # over pixels
    p95_delta_e: float
    fraction_far: float  # pixels with ΔE > POOR_FIT_DELTA_E

    @property
    def fits(self) -> bool:
        return self.mean_delta_e <= POOR_FIT_DELTA_E

    def summary(self) -> dict:
        return {"colormap": self.name, "mean_delta_e": round(self.mean_delta_e, 3),
                "p95_delta_e": round(self.p95_delta_e, 3), "fraction_far": round(self.fraction_far, 5),
                "poor_fit_threshold": POOR_FIT_DELTA_E, "fits": self.fits}


def lut(name: str, size: int = LUT_SIZE) -> np.ndarray:
    """size × 3 sRGB colours in [0, 1] along matplotlib's map ``name``."""
    import matplotlib

    try:
        cmap = matplotlib.colormaps[name]
    except KeyError:
        raise VocoderError(f"unknown colour map {name!r}; use a matplotlib map name (viridis, magma, inferno, "
                           "jet, gray, ...), 'auto', or --colorbar") from None
    return np.asarray(cmap(np.linspace(0.0, 1.0, size)))[:, :3]


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB in [0, 1] (..., 3) → CIELAB (D65), by the IEC 61966-2-1 and CIE 1976 formulas."""
    rgb = np.asarray(rgb, dtype=np.float64)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    # sRGB → XYZ (D65), IEC 61966-2-1.
    m = np.array([[0.4124564, 0.3575761, 0.1804375],
                  [0.2126729, 0.7151522, 0.0721750],
                  [0.0193339, 0.1191920, 0.9503041]])
    xyz = linear @ m.T / np.array([0.95047, 1.0, 1.08883])  # D65 white
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def distinct_colours(rgb: np.ndarray, bits: int = 16) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(distinct colours k × 3, index of each pixel's colour (flattened), counts).

    ``bits`` is the picture's depth: at 8 bits or fewer the colours are keyed
    on the 8-bit grid, and a picture of more than 2^20 pixels is counted in a
    2^24-entry table instead of sorted (a 4362×2176 ffmpeg screenshot: 0.1 s
    instead of 1.5 s; its count and index tables hold 200 MB while counting).
    """
    if rgb.ndim != 3 or rgb.shape[2] < 3:
        raise VocoderError("a colour map needs a colour picture (RGB); this one is greyscale "
                           "(leave --colormap out, or use --colormap gray)")
    step = 8 if bits <= 8 else 16
    top = (1 << step) - 1
    keys = np.empty(rgb.shape[:2], dtype=np.int32 if step == 8 else np.int64)
    for start in range(0, rgb.shape[0], 256):  # row blocks: the float temporaries stay small
        block = np.rint(np.clip(rgb[start:start + 256, :, :3], 0.0, 1.0) * top).astype(keys.dtype)
        keys[start:start + 256] = (block[..., 0] << (2 * step)) | (block[..., 1] << step) | block[..., 2]
    keys = keys.ravel()
    if step == 8 and keys.size > 1 << 20:
        counts = np.bincount(keys, minlength=1 << 24)
        unique = np.flatnonzero(counts)
        table = np.zeros(1 << 24, dtype=np.int32)
        table[unique] = np.arange(len(unique), dtype=np.int32)
        inverse, counts = table[keys], counts[unique]
    else:
        unique, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    unique = unique.astype(np.int64)
    colours = np.stack([(unique >> (2 * step)) & top, (unique >> step) & top, unique & top], axis=1) / top
    return colours, inverse.ravel(), counts


def nearest_on_map(lab_colours: np.ndarray, lab_map: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """For each colour, the map position in [0, 1] and the ΔE to it.

    The position is refined between the nearest map entry and its better
    neighbour by projecting onto the segment joining them, so the decoded value
    is not limited to the map's sampling.
    """
    n = len(lab_map)
    positions = np.empty(len(lab_colours))
    distances = np.empty(len(lab_colours))
    for start in range(0, len(lab_colours), chunk):
        block = lab_colours[start:start + chunk]
        d2 = ((block[:, None, :] - lab_map[None, :, :]) ** 2).sum(-1)
        best = d2.argmin(axis=1)
        pos = best.astype(np.float64)
        dist = np.sqrt(d2[np.arange(len(block)), best])
        for step in (-1, 1):  # project onto each neighbouring segment, keep the closer
            other = np.clip(best + step, 0, n - 1)
            a, b = lab_map[best], lab_map[other]
            seg = b - a
            length2 = (seg ** 2).sum(-1)
            t = np.where(length2 > 0, ((block - a) * seg).sum(-1) / np.where(length2 > 0, length2, 1), 0.0)
            t = np.clip(t, 0.0, 1.0)
            d = np.sqrt(((block - (a + t[:, None] * seg)) ** 2).sum(-1))
            better = d < dist
            pos = np.where(better, best + step * t, pos)
            dist = np.where(better, d, dist)
        positions[start:start + chunk] = pos / (n - 1)
        distances[start:start + chunk] = dist
    return positions, distances


def decode(rgb: np.ndarray, name: str, colours: np.ndarray | None = None) -> ColormapFit:
    """Pixels (H × W × 3+, sRGB in [0, 1]) → positions on map ``name``."""
    return _decode_with(rgb, name, lut(name) if colours is None else colours)


def _decode_with(rgb: np.ndarray, name: str, map_rgb: np.ndarray, distinct=None) -> ColormapFit:
    colours, inverse, counts = distinct if distinct is not None else distinct_colours(rgb)
    positions, distances = nearest_on_map(srgb_to_lab(colours), srgb_to_lab(map_rgb))
    weights = counts / counts.sum()
    order = np.argsort(distances)
    cumulative = np.cumsum(weights[order])
    p95 = float(distances[order][min(np.searchsorted(cumulative, 0.95), len(order) - 1)])
    return ColormapFit(
        name=name,
        values=positions[inverse].reshape(rgb.shape[:2]),
        mean_delta_e=float((distances * weights).sum()),
        p95_delta_e=p95,
        fraction_far=float(weights[distances > POOR_FIT_DELTA_E].sum()),
    )


def decode_auto(rgb: np.ndarray) -> tuple[ColormapFit, dict[str, float]]:
    """The best-fitting known map (and each candidate's mean ΔE)."""
    distinct = distinct_colours(rgb)
    scores: dict[str, float] = {}
    best: ColormapFit | None = None
    for name in AUTO_CANDIDATES:
        fit = _decode_with(rgb, name, lut(name), distinct)
        scores[name] = round(fit.mean_delta_e, 3)
        if best is None or fit.mean_delta_e < best.mean_delta_e:
            best = fit
    assert best is not None
    return best, scores
