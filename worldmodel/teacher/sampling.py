"""Drawing training / held-out specs and cameras, and the rule that keeps the two splits disjoint.

Held-out rule (``split_of``): a spec is **held out** when its style seed is ≥ ``HELDOUT_SEED``
(1_000_000), every half-extent lies in a held-out size band and every non-zero state lies in a
held-out state band; it is **train** when its seed is below ``HELDOUT_SEED``, every half-extent lies
in a train size band and every state in a train state band. Bands interleave, so held-out sizes
and states are never seen in training but lie between ones that are:

- size bands: ``ln(h) / 0.1`` has fractional part in [0, 0.5) → train, [0.5, 1) → held out;
- state bands: ``20 s`` has fractional part in [0, 0.5) → train, [0.5, 1) → held out
  (so 0, 0.01, 0.05… are train, 0.03, 0.08… held out; a state of exactly 0, "absent", is shared).

Anything else (say a train seed with a held-out size) is ``"mixed"``, in neither split.
"""

from __future__ import annotations

import math

import numpy as np

from engine.render.camera import Camera
from engine.splats.vocab import MATERIAL_NAMES, MATERIALS, SHAPES, STATES
from worldmodel.spec import ProxySpec

HELDOUT_SEED = 1_000_000
SEED_LIMIT = 2_000_000_000
SIZE_BAND = 0.1   # width of a size band in ln(metres)
STATE_BAND = 0.05  # width of a state band
SIZE_RANGE = (0.12, 2.5)  # half-extent range (metres) drawn for solids
PLANE_HY = (0.02, 0.15)   # detail height drawn for planes
SPLITS = ("train", "heldout")


def _in_band(frac: float, split: str) -> bool:
    return frac < 0.5 if split == "train" else frac >= 0.5


def size_split(h: float) -> str:
    """'train' or 'heldout' for one half-extent (metres)."""
    f = (math.log(h) / SIZE_BAND) % 1.0
    return "train" if f < 0.5 else "heldout"


def state_split(s: float) -> str:
    """'train' or 'heldout' for one state value (0 counts as both: returns 'any')."""
    if s == 0.0:
        return "any"
    f = (s / STATE_BAND) % 1.0
    return "train" if f < 0.5 else "heldout"


def split_of(spec: ProxySpec) -> str:
    """'train', 'heldout' or 'mixed' by the rule in the module docstring."""
    seed = "heldout" if spec.style_seed >= HELDOUT_SEED else "train"
    sizes = {size_split(h) for h in spec.half_extents}
    states = {state_split(s) for s in spec.state} - {"any"}
    if sizes == {seed} and states <= {seed}:
        return seed
    return "mixed"


def _snap(x: float, width: float, split: str) -> float:
    """Move x into the split's half of its band (the band index is kept)."""
    k = math.floor(x / width)
    f = x / width - k
    if split == "train" and f >= 0.5:
        f -= 0.5
    elif split == "heldout" and f < 0.5:
        f += 0.5
    return (k + f) * width


def _draw_size(rng: np.random.Generator, lo: float, hi: float, split: str) -> float:
    for _ in range(64):
        ln = _snap(rng.uniform(math.log(lo), math.log(hi)), SIZE_BAND, split)
        h = math.exp(ln)
        if lo * 0.95 <= h <= hi * 1.05 and size_split(h) == split:
            return h
    raise AssertionError("unreachable: size bands are narrower than the range")


def _draw_state(rng: np.random.Generator, split: str) -> float:
    for _ in range(64):
        s = float(_snap(rng.uniform(0.0, 1.0), STATE_BAND, split))
        s = min(max(s, 1e-3), 1.0)
        if state_split(s) == split:
            return s
    raise AssertionError("unreachable")


def sample_spec(rng: np.random.Generator, materials: list[str] | tuple[str, ...] | None = None,
                seeds: range | None = None, split: str = "train", shapes: tuple[str, ...] = SHAPES,
                state_p: float = 0.35) -> ProxySpec:
    """Draw one spec of the given split.

    materials: tags to draw from (default all); seeds: style seeds to draw from (default the split's:
    [0, HELDOUT_SEED) or [HELDOUT_SEED, SEED_LIMIT)); each state is non-zero with probability
    ``state_p``; sizes are log-uniform in ``SIZE_RANGE`` (planes: hy in ``PLANE_HY``), snapped into the
    split's bands.
    """
    if split not in SPLITS:
        raise ValueError(f"sample_spec: split must be one of {SPLITS}, got {split!r}")
    names = tuple(materials) if materials else MATERIAL_NAMES
    for m in names:
        if m not in MATERIALS:
            raise ValueError(f"sample_spec: unknown material {m!r}")
    if seeds is None:
        seeds = range(0, HELDOUT_SEED) if split == "train" else range(HELDOUT_SEED, SEED_LIMIT)
    if len(seeds) == 0:
        raise ValueError("sample_spec: empty seed range")
    shape = shapes[int(rng.integers(len(shapes)))]
    mat = names[int(rng.integers(len(names)))]
    seed = int(seeds[int(rng.integers(len(seeds)))])
    lo, hi = SIZE_RANGE
    he = [_draw_size(rng, lo, hi, split) for _ in range(3)]
    if shape == "plane":
        he[1] = _draw_size(rng, *PLANE_HY, split)
    if shape in ("cylinder", "capsule") and rng.random() < 0.6:
        he[2] = he[0]  # round trunks and pillars are common
    state = tuple(_draw_state(rng, split) if rng.random() < state_p else 0.0 for _ in STATES)
    return ProxySpec(shape, tuple(he), mat, seed, state)


def bounds_radius(spec: ProxySpec) -> float:
    """Radius of the sphere around the proxy's bounds plus its material margin."""
    m = MATERIALS[spec.material].margin
    return float(np.linalg.norm(np.asarray(spec.half_extents) + m))


def sample_cameras(spec: ProxySpec, n: int, rng: np.random.Generator, size: tuple[int, int] = (128, 128),
                   fov_y: float = 50.0, closeup: float = 0.2) -> list[Camera]:
    """``n`` cameras orbiting the proxy, looking at it.

    Most frame the whole bounds (distance 1.0–1.5× the framing distance, target near the centre);
    a ``closeup`` fraction sits at 0.35–0.7× that distance aimed at a point on the bounds. Elevations
    are mostly above the horizon (85 % in [5°, 70°], the rest in [−15°, 5°]; planes stay ≥ 10°).
    The eye always lies outside the proxy's bounds plus margin.
    """
    if n < 1:
        raise ValueError(f"sample_cameras: n must be >= 1, got {n}")
    w, h = size
    r = bounds_radius(spec)
    half = math.radians(fov_y) / 2 * min(1.0, w / h)
    frame = r / math.sin(half)
    he = np.asarray(spec.half_extents)
    cams = []
    for _ in range(n):
        az = rng.uniform(0, 2 * math.pi)
        if spec.shape == "plane":
            el = rng.uniform(10, 75)
        else:
            el = rng.uniform(5, 70) if rng.random() < 0.85 else rng.uniform(-15, 5)
        el = math.radians(el)
        d = np.array([math.cos(el) * math.cos(az), math.sin(el), math.cos(el) * math.sin(az)])
        if rng.random() < closeup:
            target = (rng.random(3) * 2 - 1) * he * 0.8
            dist = frame * rng.uniform(0.35, 0.7)
        else:
            target = (rng.random(3) * 2 - 1) * he * 0.1
            dist = frame * rng.uniform(1.0, 1.5)
        # Keep the eye outside the bounds + margin (elongated proxies, close-ups): leave along d.
        lim = he + MATERIALS[spec.material].margin
        with np.errstate(divide="ignore", invalid="ignore"):
            exit_t = np.min(np.where(np.abs(d) > 1e-9, (lim * np.sign(d) - target) / d, np.inf))
        dist = max(dist, 1.1 * exit_t + 0.05)
        eye = target + d * dist
        cams.append(Camera(eye, target, w, h, fov_y=fov_y))
    return cams
