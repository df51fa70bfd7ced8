"""Splat data: GaussianSet, file formats and the SplatDelta wire codec (numpy + msgpack only)."""

from engine.splats.gaussians import GaussianSet
from engine.splats.io import load, save_ply

__all__ = ["GaussianSet", "load", "save_ply"]
