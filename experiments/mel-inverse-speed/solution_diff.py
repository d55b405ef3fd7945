"""nnls_inverse of several code trees on one picture: its time (median of 3)
and how far each solution is from the first tree's (relative)."""
import importlib.util
import sys
import time

import torch

from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture import read_picture
from vocoder.frontend.picture_options import PictureOptions

path, trees = sys.argv[1], sys.argv[2:]
s = image_to_spectrogram(read_picture(path), None, PictureOptions(), path=path)
M = s.spec.axis.matrix(s.spec)
solutions = []
for n, tree in enumerate(trees):
    found = importlib.util.spec_from_file_location(f"filterbank_{n}", f"{tree}/vocoder/frontend/filterbank.py")
    module = importlib.util.module_from_spec(found)
    sys.modules[found.name] = module
    found.loader.exec_module(module)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        x, iterations, residual = module.nnls_inverse(M, s.magnitude)
        times.append(time.perf_counter() - start)
    x = x.double()
    solutions.append(x)
    ref = solutions[0]
    print(f"{tree}: {sorted(times)[1]:.3f} s (median of {['%.3f' % t for t in times]}), {iterations} iterations, "
          f"residual {residual:.4e}; vs {trees[0]}: ‖Δx‖/‖x‖ = "
          f"{float(torch.linalg.vector_norm(x - ref) / torch.linalg.vector_norm(ref)):.2e}, "
          f"max|Δx|/max x = {float((x - ref).abs().max() / ref.abs().max()):.2e}")
