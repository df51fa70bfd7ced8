"""Splat data: GaussianSet, file formats and the SplatDelta wire codec (numpy + msgpack only)."""

from engine.splats.gaussians import GaussianSet

__all__ = ["GaussianSet"]
