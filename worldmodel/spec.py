"""`ProxySpec`: the world model's input — what one anchor should look like.

The world model knows nothing of the engine; the world-model stage in ``systems/`` turns an
entity's ``Proxy`` + ``Anchor`` into a ``ProxySpec``.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass, field

import numpy as np

from engine.splats.vocab import MATERIALS, SHAPES, STATES, material

STATE_QUANTUM = 1.0 / 1024.0  # states are quantised to this step for caching and determinism


def stable_seed(world_seed: int, uid: str) -> int:
    """A stable 63-bit seed from the world seed and an anchor uid (never Python's salted hash())."""
    h = hashlib.blake2b(f"{int(world_seed)}:{uid}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") & ((1 << 63) - 1)


@dataclass(frozen=True)
class ProxySpec:
    """One anchor's proxy, as the world model sees it.

    shape: one of ``SHAPES``; half_extents: (3,) metres, each > 0 (plane: hy may be small);
    material: a tag from ``MATERIALS``; style_seed: int ≥ 0 (usually ``stable_seed(world, uid)``);
    state: values in [0, 1] for ``STATES`` in order (missing ones are 0).
    """

    shape: str
    half_extents: tuple[float, float, float]
    material: str
    style_seed: int = 0
    state: tuple[float, ...] = field(default=(0.0,) * len(STATES))

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"ProxySpec.shape: unknown shape {self.shape!r}; expected one of {', '.join(SHAPES)}")
        material(self.material)
        he = tuple(float(v) for v in self.half_extents)
        if len(he) != 3 or not all(math.isfinite(v) and 0.0 < v <= 1000.0 for v in he):
            raise ValueError(f"ProxySpec.half_extents: expected 3 finite values in (0, 1000] m, got {self.half_extents!r}")
        object.__setattr__(self, "half_extents", he)
        st = tuple(float(v) for v in self.state)
        if len(st) != len(STATES):
            raise ValueError(f"ProxySpec.state: expected {len(STATES)} values ({', '.join(STATES)}), got {len(st)}")
        for name, v in zip(STATES, st, strict=True):
            if not (math.isfinite(v) and 0.0 <= v <= 1.0):
                raise ValueError(f"ProxySpec.state.{name}: expected a value in [0, 1], got {v}")
        object.__setattr__(self, "state", st)
        if not isinstance(self.style_seed, int | np.integer) or self.style_seed < 0:
            raise ValueError(f"ProxySpec.style_seed: expected an integer >= 0, got {self.style_seed!r}")
        object.__setattr__(self, "style_seed", int(self.style_seed))

    @classmethod
    def from_state_dict(
        cls, shape: str, half_extents: tuple[float, float, float], material_tag: str, style_seed: int,
        state: dict[str, float] | None = None,
    ) -> ProxySpec:
        """Build from named states (``{"wetness": 0.3}``); unknown names raise ``ValueError``."""
        state = state or {}
        for k in state:
            if k not in STATES:
                raise ValueError(f"ProxySpec.state: unknown state {k!r}; expected one of {', '.join(STATES)}")
        return cls(shape, half_extents, material_tag, style_seed, tuple(float(state.get(s, 0.0)) for s in STATES))

    @property
    def material_id(self) -> int:
        """Index of the material in the vocabulary."""
        return MATERIALS[self.material].id

    def quantised_state(self) -> tuple[int, ...]:
        """States as integers in units of ``STATE_QUANTUM`` (the cache key and the model's input)."""
        return tuple(int(round(v / STATE_QUANTUM)) for v in self.state)

    def key(self) -> tuple:
        """Cache key: (shape, half-extents to 0.1 mm, material, seed, quantised state)."""
        he = tuple(int(round(v * 1e4)) for v in self.half_extents)
        return (self.shape, he, self.material, self.style_seed, self.quantised_state())


STYLE_OFFSET_RANGE = 64.0  # metres: a style seed selects an offset in [0, 64)^3 into the material's noise field


def style_offset(style_seed: int) -> np.ndarray:
    """The noise-field offset (3,) float64 in [0, 64) m that a style seed selects.

    The teacher samples its procedural detail at ``p + style_offset(seed)`` and the world model is
    given the same offset, so a held-out seed is a fair test: it is a new place in the same field.
    """
    return style_offsets([style_seed])[0]


def style_offsets(style_seeds: list[int]) -> np.ndarray:
    """(B, 3) float64 :func:`style_offset` of each seed: three little-endian words of a blake2b hash
    of ``style:SEED``, scaled to [0, STYLE_OFFSET_RANGE). One numpy conversion for the whole batch."""
    words = [_WORDS.unpack(hashlib.blake2b(f"style:{int(s)}".encode(), digest_size=12).digest()) for s in style_seeds]
    return np.array(words, dtype=np.uint32).reshape(-1, 3).astype(np.float64) / 2.0**32 * STYLE_OFFSET_RANGE


_WORDS = struct.Struct("<3I")
