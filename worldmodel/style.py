"""The style field: the smooth noise field that a style seed selects a window into.

The teacher's per-seed variation that is visible at the world model's resolution (colour tone,
patches of moss/rust/soot, the density and height of grass tufts, cobbles and leaves, how far
bricks stand proud, where damage, char and snow settle first) is a function of this field sampled
at ``q = p + style_offset(seed)`` (``worldmodel.spec.style_offset``). The field is a fixed sum of
``STYLE_K`` sinusoids per channel, so it is *exactly* a linear function of the Fourier features
``sin/cos(2π q·f_k)`` that the model's tokens carry (``ModelConfig.style_basis == "teacher"``):
a held-out seed is a new place in the same field, and the model is given what it needs to see it.

Channels (each in (0, 1), roughly uniform over random places):

- ``TONE``: the material's colour between two tints (lush ↔ dry grass, warm ↔ cool stone, ...);
- ``PATCH``: secondary patches (moss, rust, soot, stains) above a threshold;
- ``GROWTH``: density and size of detail pieces (tufts, cobbles, leaves), protrusion of bricks;
- ``WEAR``: where damage patches, char and snow appear first as the state grows.

The same numbers drive the GLSL twin in ``teacher/teacher.glsl`` (uploaded as uniforms by the
renderer); ``tests/worldmodel/test_teacher.py`` checks the two agree.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

STYLE_K = 12  # sinusoids per channel (shared frequencies)
STYLE_CHANNELS = 4
TONE, PATCH, GROWTH, WEAR = range(STYLE_CHANNELS)
STYLE_FREQ_RANGE = (0.25, 1.1)  # cycles per metre: wavelengths 0.9–4 m, resolvable by 0.25 m anchors
STYLE_GAIN = 1.6  # field = 0.5 + 0.5·tanh(GAIN · S), S of unit variance over random places
_SEED = 27182


@lru_cache(maxsize=1)
def style_basis() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(freqs (3, K) cycles per metre, sin weights (K, C), cos weights (K, C)), float64, fixed.

    Weights are scaled so that each channel's sum has unit variance at random places.
    """
    rng = np.random.default_rng(_SEED)
    d = rng.normal(size=(3, STYLE_K))
    d /= np.linalg.norm(d, axis=0, keepdims=True)
    lo, hi = STYLE_FREQ_RANGE
    f = np.exp(np.linspace(math.log(lo), math.log(hi), STYLE_K))  # spread evenly in log frequency
    freqs = d * rng.permutation(f)
    amp = rng.normal(size=(STYLE_K, STYLE_CHANNELS))
    ph = rng.uniform(0, 2 * math.pi, size=(STYLE_K, STYLE_CHANNELS))
    amp /= np.sqrt((amp**2).sum(0, keepdims=True) / 2.0)  # Var(Σ a sin(θ+φ)) = Σ a²/2 = 1
    return freqs, amp * np.cos(ph), amp * np.sin(ph)  # a sin(θ + φ) = a cosφ sinθ + a sinφ cosθ


def style_field(q: np.ndarray) -> np.ndarray:
    """The field at noise-space points ``q`` (..., 3) metres → (..., STYLE_CHANNELS) in (0, 1)."""
    freqs, ws, wc = style_basis()
    theta = 2 * math.pi * (np.asarray(q, np.float64) @ freqs)
    s = np.sin(theta) @ ws + np.cos(theta) @ wc
    return 0.5 + 0.5 * np.tanh(STYLE_GAIN * s)


def glsl_uniforms() -> dict[str, bytes]:
    """The basis as GLSL uniform arrays: ``u_sfreq`` vec3[K], ``u_ssin``/``u_scos`` vec4[K]."""
    freqs, ws, wc = style_basis()
    return {
        "u_sfreq": np.ascontiguousarray(freqs.T, np.float32).tobytes(),
        "u_ssin": np.ascontiguousarray(ws, np.float32).tobytes(),
        "u_scos": np.ascontiguousarray(wc, np.float32).tobytes(),
    }
