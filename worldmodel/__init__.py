"""The world model: ProxySpec → GaussianSet in the anchor's local frame.

``Generator`` and ``ProxySpec`` are exported lazily, so importing the package does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from worldmodel.generator import Generator
    from worldmodel.spec import ProxySpec

__all__ = ["Generator", "ProxySpec"]


def __getattr__(name: str) -> Any:
    if name == "Generator":
        from worldmodel.generator import Generator

        return Generator
    if name == "ProxySpec":
        from worldmodel.spec import ProxySpec

        return ProxySpec
    raise AttributeError(f"module 'worldmodel' has no attribute {name!r}")
