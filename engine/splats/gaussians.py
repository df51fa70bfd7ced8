"""`GaussianSet`: a struct of numpy arrays holding activated 3D Gaussian parameters.

Conventions (see DESIGN.md): right-handed, Y up, metres; quaternions w-first and unit; scales
linear (not log); opacities in (0, 1); colour as real spherical-harmonic coefficients where
colour(dir) = max(0.5 + SH(dir), 0), so ``sh[:, 0] = (rgb - 0.5) / C0`` for a flat colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SH_C0 = 0.28209479177387814


def sh_coeffs(degree: int) -> int:
    """Number of SH coefficients per channel, K = (degree + 1)²."""
    return (degree + 1) ** 2


def sh_degree(k: int) -> int:
    """Inverse of :func:`sh_coeffs`; raises ``ValueError`` when K is not a square of 1..4."""
    for d in range(4):
        if sh_coeffs(d) == k:
            return d
    raise ValueError(f"{k} SH coefficients per channel is not (degree+1)^2 for degree 0..3")


def rgb_to_sh0(rgb: np.ndarray) -> np.ndarray:
    """Flat linear colour (..., 3) → DC coefficient (..., 3)."""
    return ((np.asarray(rgb, np.float32) - 0.5) / SH_C0).astype(np.float32)


def sh0_to_rgb(sh0: np.ndarray) -> np.ndarray:
    """DC coefficient (..., 3) → linear colour (..., 3) (unclamped)."""
    return (np.asarray(sh0, np.float32) * SH_C0 + 0.5).astype(np.float32)


@dataclass(eq=False)
class GaussianSet:
    """N Gaussians, activated values, float32.

    means:     (N, 3)    centres
    scales:    (N, 3)    standard deviations along the local axes, linear, > 0
    quats:     (N, 4)    unit rotations, w-first (w, x, y, z)
    opacities: (N,)      in (0, 1)
    sh:        (N, K, 3) SH coefficients, K = (degree+1)², degree 0..3
    """

    means: np.ndarray
    scales: np.ndarray
    quats: np.ndarray
    opacities: np.ndarray
    sh: np.ndarray

    def __post_init__(self) -> None:
        self.means = np.ascontiguousarray(self.means, dtype=np.float32)
        self.scales = np.ascontiguousarray(self.scales, dtype=np.float32)
        self.quats = np.ascontiguousarray(self.quats, dtype=np.float32)
        self.opacities = np.ascontiguousarray(self.opacities, dtype=np.float32)
        self.sh = np.ascontiguousarray(self.sh, dtype=np.float32)
        n = self.means.shape[0] if self.means.ndim == 2 else -1
        expect = {
            "means": (self.means, (n, 3)),
            "scales": (self.scales, (n, 3)),
            "quats": (self.quats, (n, 4)),
            "opacities": (self.opacities, (n,)),
        }
        for name, (arr, shape) in expect.items():
            if arr.shape != shape:
                raise ValueError(f"GaussianSet.{name}: expected shape {shape}, got {arr.shape}")
        if self.sh.ndim != 3 or self.sh.shape[0] != n or self.sh.shape[2] != 3:
            raise ValueError(f"GaussianSet.sh: expected shape ({n}, K, 3), got {self.sh.shape}")
        sh_degree(self.sh.shape[1])

    def __len__(self) -> int:
        return int(self.means.shape[0])

    @property
    def sh_degree(self) -> int:
        """SH degree 0..3 of the colour coefficients."""
        return sh_degree(self.sh.shape[1])

    @classmethod
    def empty(cls, degree: int = 0) -> GaussianSet:
        """A set with no Gaussians."""
        k = sh_coeffs(degree)
        z = np.zeros
        return cls(z((0, 3)), z((0, 3)), z((0, 4)), z((0,)), z((0, k, 3)))

    def validate(self, source: str = "GaussianSet") -> GaussianSet:
        """Check values: finite everywhere, scales > 0, opacities in (0,1], quaternions non-zero.

        Raises ``ValueError`` naming ``source`` and the offending field and index.
        """
        for name in ("means", "scales", "quats", "opacities", "sh"):
            arr = getattr(self, name)
            bad = ~np.isfinite(arr)
            if bad.any():
                idx = int(np.argwhere(bad)[0][0])
                raise ValueError(f"{source}: {name} has a non-finite value at Gaussian {idx}")
        if len(self) and (self.scales <= 0).any():
            idx = int(np.argwhere(self.scales <= 0)[0][0])
            raise ValueError(f"{source}: scales must be > 0 (Gaussian {idx})")
        if len(self) and ((self.opacities <= 0) | (self.opacities > 1)).any():
            idx = int(np.argwhere((self.opacities <= 0) | (self.opacities > 1))[0][0])
            raise ValueError(f"{source}: opacities must be in (0, 1] (Gaussian {idx})")
        if len(self) and (np.linalg.norm(self.quats, axis=1) == 0).any():
            idx = int(np.argwhere(np.linalg.norm(self.quats, axis=1) == 0)[0][0])
            raise ValueError(f"{source}: quats must be non-zero (Gaussian {idx})")
        return self

    def normalised(self) -> GaussianSet:
        """A copy with unit quaternions (importers see files with unnormalised ones)."""
        q = self.quats / np.linalg.norm(self.quats, axis=1, keepdims=True)
        return GaussianSet(self.means.copy(), self.scales.copy(), q, self.opacities.copy(), self.sh.copy())

    def with_degree(self, degree: int) -> GaussianSet:
        """A copy truncated or zero-padded to SH ``degree``."""
        k = sh_coeffs(degree)
        sh = np.zeros((len(self), k, 3), np.float32)
        m = min(k, self.sh.shape[1])
        sh[:, :m] = self.sh[:, :m]
        return GaussianSet(self.means.copy(), self.scales.copy(), self.quats.copy(), self.opacities.copy(), sh)

    def subset(self, index: np.ndarray | slice) -> GaussianSet:
        """The Gaussians selected by ``index`` (a slice, boolean mask or index array)."""
        return GaussianSet(self.means[index], self.scales[index], self.quats[index], self.opacities[index], self.sh[index])

    @staticmethod
    def concat(sets: list[GaussianSet]) -> GaussianSet:
        """Concatenate sets of equal SH degree."""
        if not sets:
            return GaussianSet.empty()
        return GaussianSet(
            np.concatenate([s.means for s in sets]),
            np.concatenate([s.scales for s in sets]),
            np.concatenate([s.quats for s in sets]),
            np.concatenate([s.opacities for s in sets]),
            np.concatenate([s.sh for s in sets]),
        )

    def equals(self, other: GaussianSet) -> bool:
        """Bit-identical comparison of every array."""
        return all(
            a.shape == b.shape and a.tobytes() == b.tobytes()
            for a, b in zip(self.arrays(), other.arrays(), strict=True)
        )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(means, scales, quats, opacities, sh)."""
        return (self.means, self.scales, self.quats, self.opacities, self.sh)
