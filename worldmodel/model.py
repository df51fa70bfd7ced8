"""The world model: proxy spec → Gaussians in the anchor's local frame (one legible file).

Pipeline for one proxy (all entities of a call share the anchor count N):

1. ``encode``: anchor points on the proxy surface (``anchors.py``) become tokens: position in the
   unit box, normal, and random Fourier features of ``p + style_offset(seed)`` (the same noise-field
   offset the teacher uses). The entity gets a conditioning vector: material embedding, state
   vector, shape, log half-extents, lod and low-frequency features of the style offset.
2. ``WorldModel``: a small pre-LN transformer over the N tokens; every LayerNorm output is
   FiLM-modulated by the conditioning vector. A linear head emits ``G_MAX`` Gaussians per anchor.
3. ``decode``: raw outputs become Gaussians whose constraints hold *by parametrisation*:
   centres ``(h+m)·tanh(atanh(p/(h+m)) + δ)`` stay inside the proxy box grown by the material margin
   m; scales ``s_min + (s_max − s_min)·sigmoid(·)`` with both bounds tied to the anchor spacing;
   unit quaternions (a fixed surface-aligned rotation times a normalised w>0 quaternion);
   opacity ``o_min + (o_max − o_min)·sigmoid(·)`` in (0, 1); colour SH degree 0 from
   ``sigmoid(·)`` in (0, 1), biased to the material's mean colour.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from engine.splats.gaussians import SH_C0
from engine.splats.vocab import MATERIAL_NAMES, MATERIALS, SHAPES, STATES
from worldmodel.anchors import (
    LODS,
    anchor_count,
    anchor_points,
    anchor_points_batch,
    gaussians_per_anchor,
    surface_area,
)
from worldmodel.spec import ProxySpec, style_offset, style_offsets
from worldmodel.style import STYLE_GAIN, STYLE_K

STYLE_FEATURES = 4  # style-head inputs: tone, patch coverage, growth, wear
COVER_FEATURES = 3  # with ``style_tokens``: where damage, char and snow cover the anchor (wear × state)
CARD_FEATURES = 1  # with ``style_per_gaussian``: snow cover on two-sided cards (leaves, blades)

G_MAX = max(g for _, g in LODS)  # Gaussians per anchor the head emits; a lod may use fewer
RAW = 14  # raw numbers per Gaussian: δ centre 3, scale 3, quat 4, opacity 1, colour 3
SCALE_MIN = 0.03  # × anchor spacing: the smallest standard deviation a Gaussian may have
SCALE_MAX = 1.2  # × anchor spacing: the largest
OPACITY_MIN, OPACITY_MAX = 0.004, 0.996
ATANH_LIMIT = 1.0 - 1e-4  # anchor points sit strictly inside the grown box (margin 0 → on its face)


@dataclass
class ModelConfig:
    """Every setting of the network; saved inside each checkpoint."""

    d_model: int = 64  # token width
    n_layers: int = 2  # transformer blocks
    n_heads: int = 4  # attention heads (d_model must divide evenly)
    mlp_ratio: int = 2  # hidden width of each block's MLP = mlp_ratio × d_model
    material_dim: int = 16  # learned material embedding width
    style_freqs: int = 24  # random Fourier directions for the per-anchor style features
    style_freq_min: float = 0.5  # cycles per metre, lowest per-anchor style frequency
    style_freq_max: float = 6.0  # cycles per metre, highest
    global_style_freqs: int = 8  # Fourier directions for the whole-entity style features
    fourier_seed: int = 1234  # seed of the fixed random frequency matrices (stored as buffers)
    # "teacher": the first min(style_freqs, STYLE_K) per-anchor frequencies are the teacher's style
    # field frequencies (worldmodel/style.py), so the field is linear in the tokens; the rest random.
    # "random": all random (checkpoints written before the style field; their configs lack the key).
    style_basis: str = "teacher"
    # A per-material linear map from the style field's channels (computed exactly from the teacher-
    # frequency tokens) to colour logits, added to the head's colour output (zero-initialised).
    # Off for checkpoints written before it (their configs lack the key).
    style_head: bool = True
    # The style features (the head's four plus damage, char and snow cover: the teacher's wear
    # threshold against each state) also enter every token through a zero-initialised linear map,
    # so geometry and opacity can follow the field too, and the head sees the cover features.
    # Off for checkpoints written before it (their configs lack the key).
    style_tokens: bool = True
    # The style head's colour term reads the field at each Gaussian's start position (anchor plus
    # its slot offset) instead of once per anchor: G_MAX samples of the field per anchor, so tone
    # and patch edges are drawn at the Gaussians' spacing; one more feature, the teacher's snow
    # cover on two-sided cards (its slope term fixed at 0.5). Off for checkpoints written before it.
    style_per_gaussian: bool = True
    # Hidden width of a small MLP from those per-Gaussian features (and the material) to colour
    # logits, added to the linear head: the teacher composes its effects nonlinearly (snow and char
    # hide tone and patches). 0: none (checkpoints written before it). Output layer zero-initialised.
    style_mlp: int = 32

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        """Build from a dict; unknown keys raise ``TypeError``; a missing ``style_basis`` is "random",
        a missing ``style_head``, ``style_tokens``, ``style_per_gaussian`` or ``style_mlp`` off
        (checkpoints written before them)."""
        d = dict(d)
        d.setdefault("style_basis", "random")
        d.setdefault("style_head", False)
        d.setdefault("style_tokens", False)
        d.setdefault("style_per_gaussian", False)
        d.setdefault("style_mlp", 0)
        return cls(**d)

    def __post_init__(self) -> None:
        if self.style_basis not in ("teacher", "random"):
            raise ValueError(f"style_basis: expected 'teacher' or 'random', got {self.style_basis!r}")
        if self.style_head and self.style_basis != "teacher":
            raise ValueError("style_head needs style_basis 'teacher'")
        if self.style_tokens and not self.style_head:
            raise ValueError("style_tokens needs style_head")
        if self.style_per_gaussian and not self.style_tokens:
            raise ValueError("style_per_gaussian needs style_tokens")
        if self.style_mlp < 0 or (self.style_mlp and not self.style_per_gaussian):
            raise ValueError(f"style_mlp: a width >= 0, and > 0 needs style_per_gaussian; got {self.style_mlp}")

    def to_dict(self) -> dict:
        """Plain-dict form for checkpoints."""
        return asdict(self)


TOKEN_IN = 3 + 3  # + 2 * style_freqs, see token_features
COND_IN = len(STATES) * 2 + len(SHAPES) + 3 + len(LODS)  # + 2 * global_style_freqs + material_dim


def fourier_matrices(cfg: ModelConfig) -> tuple[np.ndarray, np.ndarray]:
    """The fixed frequency matrices (3, F) and (3, Fg) in cycles per metre, float64."""
    return _fourier(cfg.fourier_seed, cfg.style_freqs, cfg.style_freq_min, cfg.style_freq_max, cfg.global_style_freqs,
                    cfg.style_basis)


@lru_cache(maxsize=8)
def _fourier(seed: int, n: int, fmin: float, fmax: float, ng: int, basis: str = "random") -> tuple[np.ndarray, np.ndarray]:
    cfg = ModelConfig(fourier_seed=seed, style_freqs=n, style_freq_min=fmin, style_freq_max=fmax, global_style_freqs=ng)
    rng = np.random.default_rng(cfg.fourier_seed)
    d = rng.normal(size=(3, cfg.style_freqs))
    d /= np.linalg.norm(d, axis=0, keepdims=True)
    f = np.exp(rng.uniform(math.log(cfg.style_freq_min), math.log(cfg.style_freq_max), cfg.style_freqs))
    g = rng.normal(size=(3, cfg.global_style_freqs)) * 0.15
    fmat = d * f
    if basis == "teacher":
        from worldmodel.style import style_basis

        k = min(n, STYLE_K)
        fmat = np.concatenate([style_basis()[0][:, :k], fmat[:, :n - k]], axis=1)
    return fmat, g


@dataclass
class Encoded:
    """Model inputs for B entities with N anchors each (float32 tensors unless noted).

    tokens (B, N, T); cond (B, C); material (B,) int64; anchors (B, N, 3) metric positions;
    normals (B, N, 3); bound (B, 3) half-extents + margin; spacing (B,); n_gauss G for the lod;
    base_rgb (B, 3) the material's mean colour.
    """

    tokens: torch.Tensor
    cond: torch.Tensor
    material: torch.Tensor
    anchors: torch.Tensor
    normals: torch.Tensor
    bound: torch.Tensor
    spacing: torch.Tensor
    n_gauss: int
    base_rgb: torch.Tensor
    base_quat: torch.Tensor  # (B, N, 4) rotating local +Z onto each anchor's normal


def _quat_z_to(n: np.ndarray) -> np.ndarray:
    """(N, 4) w-first unit quaternions rotating +Z onto the unit normals ``n`` (N, 3)."""
    z = np.array([0.0, 0.0, 1.0])
    d = n @ z
    axis = np.cross(np.broadcast_to(z, n.shape), n)
    q = np.concatenate([(1.0 + d)[:, None], axis], axis=1)
    flip = d < -1 + 1e-9  # normal = −Z: rotate π about X
    q[flip] = [0.0, 1.0, 0.0, 0.0]
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def encode(specs: list[ProxySpec], lod: int, cfg: ModelConfig, device: str | torch.device = "cpu",
           pad_to: int | None = None, device_features: bool | None = None) -> Encoded:
    """Build model inputs for ``specs`` (all must give the same anchor count at ``lod``).

    Vectorised over the entities (float64 numpy), every element computed by the same operations
    in the same order as ``encode_reference`` (one entity at a time), so each entity's inputs are
    bit-identical to the reference and do not depend on what else is in the batch.
    ``pad_to``: repeat the first entity until there are ``pad_to`` rows (fixed launch shapes).
    ``device_features`` (default: ``device`` is not the CPU): pack all float inputs into one
    host→device copy and compute the Fourier features on the device (``_device_tokens``).
    """
    n = anchor_count(specs[0].shape, specs[0].half_extents, lod)
    for s in specs:
        if anchor_count(s.shape, s.half_extents, lod) != n:
            raise ValueError("encode: every spec of one call must share the anchor count")
    b = len(specs)
    fmat, gmat = fourier_matrices(cfg)
    he = np.array([s.half_extents for s in specs], dtype=np.float64)  # (B, 3)
    mats = [MATERIALS[s.material] for s in specs]
    pts = np.empty((b, n, 3))
    nrm = np.empty((b, n, 3))
    by_shape: dict[str, list[int]] = {}
    for i, s in enumerate(specs):
        by_shape.setdefault(s.shape, []).append(i)
    for shape, idx in by_shape.items():
        pts[idx], nrm[idx] = anchor_points_batch(shape, he[idx], n)
    off = style_offsets([s.style_seed for s in specs])  # (B, 3)
    dev = torch.device(device)
    on_host = dev.type == "cpu" if device_features is None else not device_features
    if on_host:
        phase = 2 * math.pi * np.stack([(pts[i] + off[i]) @ fmat for i in range(b)])  # per entity: BLAS shapes as ref
        tokens = np.concatenate([pts / he[:, None, :], nrm, np.sin(phase), np.cos(phase)], axis=2)
    else:  # the Fourier features are computed on the device (see _device_tokens)
        tokens = np.concatenate([pts / he[:, None, :], nrm], axis=2)
        shifted = pts + off[:, None, :]  # (B, N, 3) float64
    gphase = 2 * math.pi * np.stack([off[i] @ gmat for i in range(b)])
    st = np.array([s.quantised_state() for s in specs], dtype=np.float64) / 1024.0
    shape_oh = np.eye(len(SHAPES))[[SHAPES.index(s.shape) for s in specs]]
    lod_oh = np.broadcast_to(np.eye(len(LODS))[lod], (b, len(LODS)))
    loghe = np.clip(np.log(he), -4.0, 4.0) / 2.0
    cond = np.concatenate([st, np.sqrt(st), shape_oh, loghe, lod_oh, np.sin(gphase), np.cos(gphase)], axis=1)
    bq = _quat_z_to(nrm.reshape(-1, 3)).reshape(b, n, 4)
    bounds = he + np.array([m.margin for m in mats])[:, None]
    area = surface_area_batch_of(specs)
    spacing = np.array([math.sqrt(a / n) for a in area])
    base = np.stack([np.asarray(m.colour, dtype=np.float64) for m in mats])
    ids = np.array([m.id for m in mats], dtype=np.int64)
    fields = {"tokens": tokens, "cond": cond, "anchors": pts, "normals": nrm, "bound": bounds,
              "spacing": spacing, "base_rgb": base, "base_quat": bq}
    if pad_to is not None and pad_to > b:
        rows = np.concatenate([np.arange(b), np.zeros(pad_to - b, dtype=np.int64)])
        fields = {k: v[rows] for k, v in fields.items()}
        ids = ids[rows]
        if not on_host:
            shifted = shifted[rows]
    if on_host:  # float64 → float32 rounds to nearest either way; numpy's cast is the faster one
        out = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in fields.items()}
        material = torch.from_numpy(ids)
    else:  # one packed float32 buffer, one copy to the device, then views
        flat = [np.ascontiguousarray(v, dtype=np.float32).ravel() for v in fields.values()]
        host = torch.from_numpy(np.concatenate(flat))
        buf = host.pin_memory().to(dev, non_blocking=True) if dev.type == "cuda" else host.to(dev)
        out, o = {}, 0
        for (k, v), f in zip(fields.items(), flat, strict=True):
            out[k] = buf[o:o + f.size].view(*v.shape)
            o += f.size
        material = torch.from_numpy(ids).to(dev)
        q = torch.from_numpy(np.ascontiguousarray(shifted)).to(dev)
        out["tokens"] = _device_tokens(out["tokens"], q, fmat)
    return Encoded(tokens=out["tokens"], cond=out["cond"], material=material, anchors=out["anchors"],
                   normals=out["normals"], bound=out["bound"], spacing=out["spacing"],
                   n_gauss=gaussians_per_anchor(lod), base_rgb=out["base_rgb"], base_quat=out["base_quat"])


def _device_tokens(pre: torch.Tensor, q: torch.Tensor, fmat: np.ndarray) -> torch.Tensor:
    """Device-side Fourier features: ``pre`` (B, N, 6) float32, ``q`` = anchor + style offset (B, N, 3)
    float64 → tokens (B, N, 6 + 2F) float32.

    Elementwise float64 (no reduction whose order could depend on the batch), so an entity's tokens
    do not depend on the rest of its chunk; they agree with the host features to float32 rounding
    (not bit for bit: the device's sin/cos are not numpy's). Used for non-CPU devices only.
    """
    f = torch.from_numpy(fmat).to(q.device)  # (3, F) float64
    phase = 2 * math.pi * (q[..., 0:1] * f[0] + q[..., 1:2] * f[1] + q[..., 2:3] * f[2])
    return torch.cat([pre, torch.sin(phase).float(), torch.cos(phase).float()], dim=-1)


def surface_area_batch_of(specs: list[ProxySpec]) -> list[float]:
    """Surface area (m²) of each spec's proxy, the reference's scalar math."""
    return [surface_area(s.shape, s.half_extents) for s in specs]


def encode_reference(specs: list[ProxySpec], lod: int, cfg: ModelConfig, device: str | torch.device = "cpu") -> Encoded:
    """Reference twin of ``encode``: the same inputs built one entity at a time (plain, slow).

    Features are computed per entity in float64 numpy, so each entity's inputs do not depend on
    what else is in the batch. ``encode`` must match it bit for bit (tests compare them).
    """
    n = anchor_count(specs[0].shape, specs[0].half_extents, lod)
    fmat, gmat = fourier_matrices(cfg)
    toks, conds, anchors, normals, bounds, spacings, base, bq = [], [], [], [], [], [], [], []
    for s in specs:
        if anchor_count(s.shape, s.half_extents, lod) != n:
            raise ValueError("encode: every spec of one call must share the anchor count")
        he = np.array(s.half_extents)
        mat = MATERIALS[s.material]
        p, nrm = anchor_points(s.shape, s.half_extents, n)
        off = style_offset(s.style_seed)
        phase = 2 * math.pi * ((p + off) @ fmat)
        toks.append(np.concatenate([p / he, nrm, np.sin(phase), np.cos(phase)], axis=1))
        gphase = 2 * math.pi * (off @ gmat)
        st = np.array(s.quantised_state(), dtype=np.float64) / 1024.0
        shape_oh = np.eye(len(SHAPES))[SHAPES.index(s.shape)]
        lod_oh = np.eye(len(LODS))[lod]
        loghe = np.clip(np.log(he), -4.0, 4.0) / 2.0
        conds.append(np.concatenate([st, np.sqrt(st), shape_oh, loghe, lod_oh, np.sin(gphase), np.cos(gphase)]))
        anchors.append(p)
        normals.append(nrm)
        bq.append(_base_quats(s.shape, s.half_extents, n))
        bounds.append(he + mat.margin)
        spacings.append(math.sqrt(surface_area(s.shape, s.half_extents) / n))
        base.append(mat.colour)

    def t(a: list, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        return torch.from_numpy(np.stack(a)).to(device=device, dtype=dtype)

    return Encoded(
        tokens=t(toks), cond=t(conds), material=torch.tensor([MATERIALS[s.material].id for s in specs], device=device),
        anchors=t(anchors), normals=t(normals), bound=t(bounds), spacing=t(spacings),
        n_gauss=gaussians_per_anchor(lod), base_rgb=t(base), base_quat=t(bq),
    )


@lru_cache(maxsize=512)
def _base_quats(shape: str, he: tuple[float, float, float], n: int) -> np.ndarray:
    return _quat_z_to(anchor_points(shape, he, n)[1])


class FiLM(nn.Module):
    """Feature-wise affine modulation ``(1 + γ(c)) · x + β(c)``, initialised to the identity."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.proj = nn.Linear(d, 2 * d)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:  # x (B,N,D), c (B,D)
        gamma, beta = self.proj(c).unsqueeze(1).chunk(2, dim=-1)
        return x * (1 + gamma) + beta


class Block(nn.Module):
    """Pre-LN transformer block; both LayerNorm outputs are FiLM-modulated by the conditioning."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.n_heads = cfg.n_heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.film1, self.film2 = FiLM(d), FiLM(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, cfg.mlp_ratio * d), nn.GELU(), nn.Linear(cfg.mlp_ratio * d, d))

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:  # x (B,N,D), c (B,D)
        b, n, d = x.shape
        q, k, v = self.qkv(self.film1(self.ln1(x), c)).split(d, dim=-1)
        q, k, v = (t.view(b, n, self.n_heads, d // self.n_heads).transpose(1, 2) for t in (q, k, v))
        att = F.scaled_dot_product_attention(q, k, v)  # softmax(q kᵀ / √d_head) v
        x = x + self.proj(att.transpose(1, 2).reshape(b, n, d))
        return x + self.mlp(self.film2(self.ln2(x), c))


class WorldModel(nn.Module):
    """Tokens + conditioning → raw Gaussian parameters (B, N, G_MAX, RAW)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        fmat, gmat = fourier_matrices(cfg)
        self.register_buffer("fourier", torch.from_numpy(fmat).float())  # (3, F) kept for the record
        self.register_buffer("global_fourier", torch.from_numpy(gmat).float())
        self.material = nn.Embedding(len(MATERIAL_NAMES), cfg.material_dim)
        self.embed = nn.Linear(TOKEN_IN + 2 * cfg.style_freqs, d)
        cond_in = COND_IN + 2 * cfg.global_style_freqs + cfg.material_dim
        self.cond = nn.Sequential(nn.Linear(cond_in, d), nn.GELU(), nn.Linear(d, d))
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.ln_f = nn.LayerNorm(d)
        self.film_f = FiLM(d)
        self.head = nn.Linear(d, G_MAX * RAW)
        nn.init.normal_(self.head.weight, std=0.01)
        nn.init.zeros_(self.head.bias)
        if cfg.style_head:
            from worldmodel.style import STYLE_CHANNELS, style_basis

            _, ws, wc = style_basis()
            k = min(cfg.style_freqs, STYLE_K)
            self.register_buffer("style_ws", torch.from_numpy(ws[:k]).float())  # (k, C)
            self.register_buffer("style_wc", torch.from_numpy(wc[:k]).float())
            self.style_head = nn.Embedding(len(MATERIAL_NAMES), self.n_style_features * 3)
            nn.init.zeros_(self.style_head.weight)
            del STYLE_CHANNELS
        if cfg.style_tokens:
            self.style_embed = nn.Linear(self.n_style_features, d, bias=False)
            nn.init.zeros_(self.style_embed.weight)
        if cfg.style_per_gaussian:  # not saved: a constant of the code (decode's slot layout)
            self.register_buffer("slot_offsets", torch.from_numpy(_SLOT_OFFSETS).float(), persistent=False)
        if cfg.style_mlp:
            h = cfg.style_mlp
            self.style_mlp_in = nn.Linear(self.n_style_features, h)
            self.style_mlp_material = nn.Embedding(len(MATERIAL_NAMES), h)  # a per-material bias
            nn.init.normal_(self.style_mlp_material.weight, std=0.5)
            self.style_mlp_out = nn.Linear(h, 3)
            nn.init.zeros_(self.style_mlp_out.weight)
            nn.init.zeros_(self.style_mlp_out.bias)

    @property
    def n_style_features(self) -> int:
        """Width of :meth:`style_features` (0 without a style head)."""
        if not self.cfg.style_head:
            return 0
        return (STYLE_FEATURES + (COVER_FEATURES if self.cfg.style_tokens else 0)
                + (CARD_FEATURES if self.cfg.style_per_gaussian else 0))

    def forward(self, enc: Encoded) -> torch.Tensor:
        """Raw outputs (B, N, G_MAX, RAW) for the encoded entities."""
        c = self.cond(torch.cat([enc.cond, self.material(enc.material)], dim=-1))
        x = self.embed(enc.tokens)
        fg = None
        if self.cfg.style_per_gaussian:  # anchors and Gaussians in one pass of the feature ops
            both = self._anchor_and_gaussian_features(enc)
            feats, fg = both[:, :, 0], both[:, :, 1:]
        else:
            feats = self.style_features(enc) if self.cfg.style_head else None
        if self.cfg.style_tokens:
            x = x + self.style_embed(feats)
        for blk in self.blocks:
            x = blk(x, c)
        out = self.head(self.film_f(self.ln_f(x), c))
        out = out.view(*out.shape[:2], G_MAX, RAW)
        if feats is not None:
            m = self.style_head(enc.material).view(-1, 1, self.n_style_features, 3)
            if fg is not None:  # (B, N, G_MAX, F): features at each Gaussian's start
                colour = torch.matmul(fg, m)  # (B, N, G_MAX, 3)
                if self.cfg.style_mlp:
                    bias = self.style_mlp_material(enc.material).view(-1, 1, 1, self.cfg.style_mlp)
                    colour = colour + self.style_mlp_out(F.gelu(self.style_mlp_in(fg) + bias))
                out = out + F.pad(colour, (11, 0))
            else:
                out = out + F.pad(torch.einsum("bnf,bmfc->bnc", feats, m), (11, 0)).unsqueeze(2)
        return out

    def gaussian_style_features(self, enc: Encoded) -> torch.Tensor:
        """:meth:`style_features` at each Gaussian's start position, (B, N, G_MAX, F).

        The start position is where :func:`decode` places the Gaussian before the network's offset:
        the anchor plus its slot offset (tangent plane, × spacing). The field's phases there are the
        anchor's (its tokens' sin/cos, exact) advanced by the small slot offset (angle addition), so
        no large coordinate is rounded to float32.
        """
        return self._anchor_and_gaussian_features(enc)[:, :, 1:]

    def _anchor_and_gaussian_features(self, enc: Encoded) -> torch.Tensor:
        """(B, N, 1 + G_MAX, F): the anchor's features, then each Gaussian start's (one pass)."""
        return self._features_at(enc, self._gaussian_field_sums(enc, self._anchor_field_sums(enc)))

    def style_features(self, enc: Encoded) -> torch.Tensor:
        """The style field's features at each anchor, (B, N, :attr:`n_style_features`).

        The field's channels are recomputed from the tokens' teacher-frequency sin/cos features
        (exactly the teacher's sum, ``worldmodel.style``); features: tone, patch coverage
        (the teacher's smoothstep), growth and wear, centred. With ``style_tokens`` three more:
        how far damage, char and snow cover the anchor, the teacher's ``cover_at`` of its smooth
        wear threshold (its fine-noise fringe left out) at the entity's damage, burn and snow
        states (snow also by the normal's slope); with ``style_per_gaussian`` the snow cover of
        two-sided cards. The head maps them per material to colour logits (a zero-initialised F×3
        matrix) added to every Gaussian of the anchor (or, with ``style_per_gaussian``, the same
        features at each Gaussian's start, :meth:`gaussian_style_features`).
        """
        return self._features_at(enc, self._anchor_field_sums(enc).unsqueeze(2))[:, :, 0]

    def _anchor_field_sums(self, enc: Encoded) -> torch.Tensor:
        """The field's pre-tanh sums at the anchors, (B, N, C): linear in the teacher-frequency tokens."""
        k, nf = self.style_ws.shape[0], self.cfg.style_freqs
        t = enc.tokens
        return t[..., 6:6 + k] @ self.style_ws + t[..., 6 + nf:6 + nf + k] @ self.style_wc

    def _gaussian_field_sums(self, enc: Encoded, s_anchor: torch.Tensor) -> torch.Tensor:
        """(B, N, 1 + G_MAX, C): the anchor's sums ``s_anchor`` then each Gaussian start's.

        A slot offset (sx, sy, 0) × spacing in the anchor's frame is sx·e₁ + sy·e₂ (the base
        rotation's first two columns), so its phase step is a sum of two per-anchor products.
        """
        k, nf = self.style_ws.shape[0], self.cfg.style_freqs
        b = enc.tokens.shape[0]
        w, x, y, z = enc.base_quat.unbind(-1)
        e1 = torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)], dim=-1)
        e2 = torch.stack([2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)], dim=-1)
        f = self.fourier[:, :k]  # (3, k) the teacher's frequencies, cycles per metre
        step = (2 * math.pi) * enc.spacing.view(b, 1, 1)
        pa, pb = ((e1 @ f) * step).unsqueeze(2), ((e2 @ f) * step).unsqueeze(2)  # (B, N, 1, k)
        so = self.slot_offsets
        db = pa * so[:, 0:1] + pb * so[:, 1:2]  # (B, N, G, k)
        t = enc.tokens.unsqueeze(2)
        sa, ca = t[..., 6:6 + k], t[..., 6 + nf:6 + nf + k]
        sb, cb = torch.sin(db), torch.cos(db)
        s = (sa * cb + ca * sb) @ self.style_ws + (ca * cb - sa * sb) @ self.style_wc  # (B, N, G, C)
        return torch.cat([s_anchor.unsqueeze(2), s], dim=2)

    def _features_at(self, enc: Encoded, s: torch.Tensor) -> torch.Tensor:
        """Features from pre-tanh sums ``s`` (B, N, P, C) at P points per anchor."""
        st = enc.cond[:, None, None, 0:len(STATES)]  # (B, 1, 1, 4) damage, wetness, snow, burn
        slope = (1.0 - enc.normals[..., 1:2]).clamp(0.0, 1.0).unsqueeze(2)  # (B, N, 1, 1)
        return self._field_features(s, st, slope)

    def _field_features(self, s: torch.Tensor, st: torch.Tensor, slope: torch.Tensor) -> torch.Tensor:
        """Features from the field's pre-tanh sums ``s`` (..., C), states ``st`` and normal slope
        (both broadcastable to ``s``'s leading shape)."""
        f = 0.5 + 0.5 * torch.tanh(STYLE_GAIN * s)
        p = ((f[..., 1:2] - 0.55) / 0.2).clamp(0.0, 1.0)
        feats = [f[..., 0:1] - 0.5, p * p * (3 - 2 * p), f[..., 2:4] - 0.5]
        if self.cfg.style_tokens:
            wear = f[..., 3:4]

            def threshold(w: torch.Tensor) -> torch.Tensor:
                return (0.5 + 1.2 * (w - 0.5)).clamp(0.0, 1.0)

            def cover(th: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
                return ((state * 1.8 - th) / 0.8).clamp(0.0, 1.0)

            feats += [cover(threshold(wear), 0.6 * st[..., 0:1]), cover(threshold(wear), st[..., 3:4]),
                      cover(0.45 * threshold(1.0 - wear) + 0.55 * slope, st[..., 2:3])]
            if self.cfg.style_per_gaussian:  # two-sided cards: the teacher fixes their slope at 0.5
                feats.append(cover(0.45 * threshold(1.0 - wear) + 0.55 * 0.5, st[..., 2:3]))
        return torch.cat(feats, dim=-1)


# Fixed per-slot layout of the G_MAX Gaussians around an anchor (tangent-plane offsets, × spacing),
# so that at initialisation they tile the surface instead of stacking on the anchor point.
_SLOT_OFFSETS = np.array([[0.25, 0.25, 0.0], [-0.25, 0.25, 0.0], [0.25, -0.25, 0.0], [-0.25, -0.25, 0.0]])


def decode_constants(device: str | torch.device) -> dict[str, torch.Tensor]:
    """The constant tensors :func:`decode` needs, made on ``device`` once by a caller that decodes
    often (a CUDA graph cannot capture their host-to-device copies); float64, cast per call."""
    return {"slot": torch.from_numpy(_SLOT_OFFSETS).to(device, torch.float64),
            "scale_bias": torch.tensor(_SCALE_BIAS, device=device, dtype=torch.float64)}


_SCALE_BIAS = (0.0, 0.0, -2.5)  # start thin along the normal


def decode(raw: torch.Tensor, enc: Encoded, consts: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """Constrained Gaussian parameters from raw outputs ``raw`` (B, N, G_MAX, RAW).

    Returns means (B, M, 3), scales (B, M, 3), quats (B, M, 4) w-first, opacities (B, M),
    rgb (B, M, 3) with M = N·G for the lod, plus ``s_min``/``s_max`` (B,) for checking.
    ``consts``: :func:`decode_constants` on raw's device, or None to make them in this call.
    """
    g = enc.n_gauss
    raw = raw[:, :, :g]
    b, n = raw.shape[:2]
    dev, dt = raw.device, raw.dtype
    sp = enc.spacing.view(b, 1, 1, 1)
    bound = enc.bound.view(b, 1, 1, 3)
    # base rotation: local +Z along the surface normal (computed per anchor in float64)
    qb = enc.base_quat.to(dt).view(b, n, 1, 4)
    if consts is None:
        consts = decode_constants(dev)
    slot = consts["slot"][:g].to(dt).view(1, 1, g, 3)
    start = enc.anchors.unsqueeze(2) + _rotate(qb, slot) * sp  # (B,N,G,3)
    u0 = torch.atanh((start / bound).clamp(-ATANH_LIMIT, ATANH_LIMIT))
    means = bound * torch.tanh(u0 + raw[..., 0:3] * sp / bound * 2.0)
    s_min, s_max = SCALE_MIN * sp, SCALE_MAX * sp
    scales = s_min + (s_max - s_min) * torch.sigmoid(raw[..., 3:6] - 1.0 + consts["scale_bias"].to(dt))
    qd = torch.cat([F.softplus(raw[..., 6:7] + 3.0) + 0.05, raw[..., 7:10]], dim=-1)
    quats = F.normalize(_qmul(qb.expand(-1, -1, g, -1), F.normalize(qd, dim=-1)), dim=-1)
    opac = OPACITY_MIN + (OPACITY_MAX - OPACITY_MIN) * torch.sigmoid(raw[..., 10] + 2.0)
    base = enc.base_rgb.clamp(0.02, 0.98)
    rgb = torch.sigmoid(raw[..., 11:14] + torch.logit(base).view(b, 1, 1, 3))
    m = n * g
    return {
        "means": means.reshape(b, m, 3), "scales": scales.reshape(b, m, 3), "quats": quats.reshape(b, m, 4),
        "opacities": opac.reshape(b, m), "rgb": rgb.reshape(b, m, 3),
        "s_min": s_min.view(b), "s_max": s_max.view(b),
    }


def rgb_to_sh0(rgb: torch.Tensor) -> torch.Tensor:
    """Linear colour (..., 3) → SH degree-0 coefficient (..., 1, 3)."""
    return ((rgb - 0.5) / SH_C0).unsqueeze(-2)


def _qmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product of w-first quaternions (..., 4)."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ], dim=-1)


def _rotate(q: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """Rotate vectors ``v`` (..., 3) by unit w-first quaternions ``q`` (..., 4)."""
    q, v = torch.broadcast_tensors(q, torch.cat([torch.zeros_like(v[..., :1]), v], dim=-1))
    w, xyz, v = q[..., :1], q[..., 1:], v[..., 1:]
    t = 2.0 * torch.cross(xyz, v, dim=-1)
    return v + w * t + torch.cross(xyz, t, dim=-1)
