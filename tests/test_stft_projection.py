"""ConsistencyProjection must equal stft(istft(X)) exactly, for every framing."""

import dataclasses

import pytest
import torch

from vocoder.frontend.stft import ConsistencyProjection, istft, stft
from vocoder.spec import PRESETS


@pytest.mark.parametrize("changes, length_delta", [
    ({}, 0),
    ({"hop_length": 128}, 127),                   # the longest length with the same frame count
    ({}, 200),                                    # longer: the inverse pads with zeros
    ({"padding": "same"}, 0),
    ({"padding": "same"}, 37),
    ({"pad_mode": "constant"}, 0),
    ({"hop_length": 128}, 0),                     # redundancy 8
    ({"hop_length": 300, "win_length": 1000}, 0),  # hop does not divide n_fft: fold path
])
def test_projection_equals_stft_of_istft(changes, length_delta):
    spec = dataclasses.replace(PRESETS["linear"], **changes)
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 9000, generator=generator)
    X = stft(x, spec)  # any complex array of the right shape would do; this one is realistic
    X = X * torch.polar(torch.ones(X.shape), torch.rand(X.shape, generator=generator) * 6.3)
    length = spec.n_samples(X.shape[-1]) + length_delta
    assert spec.n_frames(length) == X.shape[-1]
    expected = stft(istft(X, spec, length), spec)
    project = ConsistencyProjection(spec, 2, X.shape[-1], length)
    out = project.new_spectrum()
    project(X.transpose(1, 2).contiguous(), out)
    assert torch.allclose(out.transpose(1, 2), expected, atol=2e-4, rtol=0), \
        float((out.transpose(1, 2) - expected).abs().max())
    # And again with the same buffers: nothing left over from the first call.
    project(X.transpose(1, 2).contiguous(), out)
    assert torch.allclose(out.transpose(1, 2), expected, atol=2e-4, rtol=0)
    assert torch.allclose(project.waveform(X.transpose(1, 2)), istft(X, spec, length))
