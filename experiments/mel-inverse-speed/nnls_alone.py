"""Time nnls_inverse alone on a decoded PNG; save the magnitude for reuse."""
import sys, time, torch
from vocoder.frontend.picture import read_picture
from vocoder.frontend.image import image_to_spectrogram
from vocoder.frontend.picture_options import PictureOptions
from vocoder.frontend import filterbank
path = sys.argv[1]
s = image_to_spectrogram(read_picture(path), None, PictureOptions(), path=path)
M = s.spec.axis.matrix(s.spec)
print(s.magnitude.shape, torch.get_num_threads())
for _ in range(2):
    t = time.perf_counter()
    x, it, res = filterbank.nnls_inverse(M, s.magnitude)
    print(f"nnls_inverse: {time.perf_counter()-t:.3f} s, {it} iterations, residual {res:.2e}")
if len(sys.argv) > 2:
    import cProfile, pstats
    cProfile.run("filterbank.nnls_inverse(M, s.magnitude)", "/tmp/melfast/prof")
    pstats.Stats("/tmp/melfast/prof").sort_stats("tottime").print_stats(12)
