"""Weight-norm helpers shared by generators and discriminators."""

from __future__ import annotations

from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm, weight_norm


def weight_normed(module: nn.Module) -> nn.Module:
    """Wrap a conv in weight normalisation (Salimans & Kingma 2016), as HiFi-GAN does."""
    return weight_norm(module)


def spectral_normed(module: nn.Module) -> nn.Module:
    return spectral_norm(module)


def remove_weight_norm(model: nn.Module) -> int:
    """Fold every weight-norm parametrisation into a plain weight; returns how many.

    After this the model computes the same function with fewer ops, and its
    state dict has plain ``weight`` keys (what exports store).
    """
    removed = 0
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
            removed += 1
    return removed
