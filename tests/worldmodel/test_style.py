"""The style field: one smooth field drives the teacher's per-seed variation and the model sees it.

Checks that the GLSL twin in ``teacher.glsl`` computes the numpy field, that the field is exactly
linear in the model's style tokens, that renders follow the field (a seed is a place in it), and
that older checkpoints keep their random Fourier basis.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from engine.errors import InputError
from worldmodel.checkpoint import SHIPPED, load_inference
from worldmodel.model import ModelConfig, WorldModel, encode, fourier_matrices
from worldmodel.spec import ProxySpec, style_offset
from worldmodel.style import (
    GROWTH,
    STYLE_CHANNELS,
    STYLE_K,
    TONE,
    WEAR,
    glsl_uniforms,
    style_basis,
    style_field,
)
from worldmodel.teacher.renderer import SHADER
from worldmodel.train import warm_start


def test_field_is_smooth_bounded_and_spread() -> None:
    rng = np.random.default_rng(0)
    q = rng.uniform(0, 64, size=(4000, 3))
    f = style_field(q)
    assert f.shape == (4000, STYLE_CHANNELS) and ((f > 0) & (f < 1)).all()
    assert (f.std(0) > 0.25).all(), f.std(0)  # places differ a lot ...
    near = style_field(q + 0.01)  # ... but 1-2 cm apart they hardly do
    assert np.abs(near - f).mean() < 0.02 and np.abs(near - f).max() < 0.15


@pytest.mark.gl
def test_glsl_twin_matches_numpy() -> None:
    from engine.render.context import headless_context

    src = SHADER.read_text()
    body = re.search(r"vec4 style_at\(vec3 q\) \{.*?\n\}\n", src, re.S).group(0)
    uniforms = "\n".join(line for line in src.splitlines() if re.match(r"uniform vec[34] u_s(freq|sin|cos)\[", line))
    ctx = headless_context(330)
    n = 512
    # One point per pixel of an n x 1 float target; the fragment shader evaluates the field there.
    vs = ("#version 330\nin vec3 in_q;\nflat out vec3 v_q;\nuniform float u_n;\n"
          "void main() { v_q = in_q; gl_PointSize = 1.0;"
          " gl_Position = vec4((2.0 * float(gl_VertexID) + 1.0) / u_n - 1.0, 0.0, 0.0, 1.0); }")
    fs = f"#version 330\n{uniforms}\nflat in vec3 v_q;\nout vec4 f_s;\n{body}\nvoid main() {{ f_s = style_at(v_q); }}"
    prog = ctx.program(vertex_shader=vs, fragment_shader=fs)
    for name, data in glsl_uniforms().items():
        prog[name].write(data)
    prog["u_n"].value = float(n)
    q = np.random.default_rng(1).uniform(0, 66, size=(n, 3)).astype(np.float32)
    tex = ctx.texture((n, 1), 4, dtype="f4")
    fbo = ctx.framebuffer([tex])
    fbo.use()
    fbo.clear(0.0, 0.0, 0.0, 0.0)
    vbo = ctx.buffer(q.tobytes())
    vao = ctx.vertex_array(prog, [(vbo, "3f", "in_q")])
    import moderngl

    vao.render(moderngl.POINTS, vertices=n)
    got = np.frombuffer(tex.read(), np.float32).reshape(n, 4)
    for o in (vao, vbo, fbo, tex, prog):
        o.release()
    assert np.abs(got - style_field(q.astype(np.float64))).max() < 2e-3


def test_field_is_linear_in_the_models_style_tokens() -> None:
    cfg = ModelConfig()
    fmat, _ = fourier_matrices(cfg)
    freqs, ws, wc = style_basis()
    assert np.array_equal(fmat[:, :STYLE_K], freqs)
    spec = ProxySpec("capsule", (0.4, 0.9, 0.4), "stone", 1_234_567)
    enc = encode([spec], 0, cfg)
    tok = enc.tokens[0].double().numpy()
    nf = cfg.style_freqs
    s = tok[:, 6:6 + STYLE_K] @ ws + tok[:, 6 + nf:6 + nf + STYLE_K] @ wc  # the field's pre-tanh sum
    q = enc.anchors[0].double().numpy() + style_offset(spec.style_seed)
    assert np.allclose(0.5 + 0.5 * np.tanh(1.6 * s), style_field(q), atol=2e-5)


@pytest.mark.gl
def test_renders_follow_the_field_a_seed_selects() -> None:
    """Top-down renders of a plaster plane: the more ochre (less blue) the picture, the higher its TONE field."""
    from engine.render.camera import Camera
    from worldmodel.teacher import Teacher

    t = Teacher(size=(32, 32))
    cam = [Camera(np.array([0.0, 2.2, 0.01]), (0, 0, 0), 32, 32, fov_y=40)]
    tone, ratio = [], []
    for seed in range(8):
        spec = ProxySpec("plane", (0.5, 0.05, 0.5), "plaster", 1_000_000 + 97 * seed)
        img = t.render(spec, cam)["rgb"][0]
        ratio.append(img[..., 0].mean() / img[..., 2].mean())
        x, z = np.meshgrid(np.linspace(-0.5, 0.5, 9), np.linspace(-0.5, 0.5, 9))
        q = np.stack([x, np.zeros_like(x), z], -1).reshape(-1, 3) + style_offset(spec.style_seed)
        tone.append(style_field(q)[:, TONE].mean())
    rank = np.corrcoef(np.argsort(np.argsort(tone)), np.argsort(np.argsort(ratio)))[0, 1]
    assert rank > 0.7, (tone, ratio)


def test_pieces_follow_the_growth_field() -> None:
    """Grass tufts stand where the growth field is high: more blades there than where it is low."""
    from worldmodel.teacher.assets import Asset, grass

    a = Asset("plane", (2.0, 0.1, 2.0), "grass", 1_000_003)
    pos, _, _, _ = a.scatter(120.0, up_only=-0.3, cost=50, keep=(0.1, 1.0))
    x, z = np.meshgrid(np.linspace(-2, 2, 41), np.linspace(-2, 2, 41))
    grid = np.stack([x, np.zeros_like(x), z], -1).reshape(-1, 3)
    g = a.growth(grid)
    hi, lo = grid[g > 0.75], grid[g < 0.25]
    assert len(hi) > 20 and len(lo) > 20

    def density(pts: np.ndarray) -> float:
        d = np.linalg.norm(pos[None, :, [0, 2]] - pts[:, None, [0, 2]], axis=-1)
        return float((d < 0.1).sum(1).mean())

    assert density(hi) > 2.0 * density(lo)
    grass(a)  # and the builder runs on it
    assert len(a.mesh()) > 0


def test_old_checkpoints_keep_their_random_basis_and_warm_start_zeroes_new_features(tmp_path) -> None:
    old, _, _ = load_inference(SHIPPED)
    new = WorldModel(ModelConfig(**{**old.cfg.to_dict(), "style_basis": "teacher"}))
    if old.cfg.style_basis == "random":
        assert not torch.allclose(old.fourier[:, :STYLE_K], new.fourier[:, :STYLE_K])
    warm_start(new, SHIPPED)
    nf = new.cfg.style_freqs
    changed = ~torch.isclose(old.fourier, new.fourier).all(0)
    cols = torch.nonzero(changed).flatten() + 6
    assert torch.all(new.embed.weight[:, cols] == 0) and torch.all(new.embed.weight[:, cols + nf] == 0)
    assert torch.equal(new.head.weight, old.head.weight)
    with pytest.raises(ValueError, match="style_basis"):
        ModelConfig.from_dict({**old.cfg.to_dict(), "style_basis": "wavelets"})
    small = WorldModel(ModelConfig(d_model=32, n_layers=1, n_heads=2))
    with pytest.raises(InputError, match="same architecture"):
        warm_start(small, SHIPPED)
    assert math.isfinite(float(new.embed.weight.detach().sum()))
    assert GROWTH < STYLE_CHANNELS


def test_style_head_reads_the_field_at_each_anchor() -> None:
    """A zero style head changes nothing; a tone-only head shifts colour logits by the numpy field."""
    torch.manual_seed(0)
    with_head = WorldModel(ModelConfig(style_head=True, style_tokens=False, style_per_gaussian=False, style_mlp=0)).eval()
    plain = WorldModel(ModelConfig(style_head=False, style_tokens=False, style_per_gaussian=False, style_mlp=0)).eval()
    plain.load_state_dict({k: v for k, v in with_head.state_dict().items() if not k.startswith("style_")})
    spec = ProxySpec("box", (0.6, 0.5, 0.7), "plaster", 1_000_777)
    enc = encode([spec], 0, with_head.cfg)
    with torch.no_grad():
        assert torch.equal(with_head(enc), plain(enc))
        w = torch.zeros_like(with_head.style_head.weight)
        w[spec.material_id, 0:3] = torch.tensor([1.0, 2.0, -1.0])  # tone → colour logits
        with_head.style_head.weight.copy_(w)
        delta = (with_head(enc) - plain(enc))[0, :, 0, 11:14].double().numpy()
    q = enc.anchors[0].double().numpy() + style_offset(spec.style_seed)
    tone = style_field(q)[:, TONE] - 0.5
    assert np.allclose(delta, tone[:, None] * np.array([1.0, 2.0, -1.0]), atol=1e-4)
    older = ModelConfig.from_dict({k: v for k, v in ModelConfig().to_dict().items()
                                   if k not in ("style_head", "style_tokens", "style_per_gaussian", "style_mlp")})
    assert older.style_head is False and older.style_tokens is False and older.style_per_gaussian is False
    assert older.style_mlp == 0


def test_style_tokens_warm_start_unchanged_and_cover_follows_the_states(tmp_path) -> None:
    """``style_tokens``: warm-started from a checkpoint without them the output is unchanged (the
    new weights start at zero); the cover features are the teacher's ``cover_at`` of its smooth wear
    threshold at each state (zero at state 0), snow also by slope."""
    from worldmodel.checkpoint import save_inference

    torch.manual_seed(1)
    old = WorldModel(ModelConfig(style_tokens=False, style_per_gaussian=False, style_mlp=0)).eval()
    with torch.no_grad():
        old.style_head.weight.normal_(0.0, 0.5)
    save_inference(tmp_path / "old.pt", old)
    new = WorldModel(ModelConfig(style_per_gaussian=False, style_mlp=0)).eval()
    warm_start(new, tmp_path / "old.pt")
    spec = ProxySpec("box", (0.6, 0.5, 0.7), "plaster", 1_000_777, (0.9, 0.2, 0.7, 0.6))
    enc = encode([spec], 0, new.cfg)
    with torch.no_grad():
        assert torch.equal(new(enc), old(enc))
        assert torch.equal(new.style_head.weight[:, :12], old.style_head.weight)
        assert not new.style_head.weight[:, 12:].any() and not new.style_embed.weight.any()
        feats = new.style_features(enc)[0].double().numpy()
        bare = new.style_features(encode([ProxySpec("box", (0.6, 0.5, 0.7), "plaster", 1_000_777)], 0, new.cfg))
    assert feats.shape == (enc.anchors.shape[1], 7)
    assert not bare[..., 4:].any()  # no state, no cover
    q = enc.anchors[0].double().numpy() + style_offset(spec.style_seed)
    wear = style_field(q)[:, WEAR]
    st = np.array(spec.quantised_state()) / 1024.0

    def threshold(w):
        return np.clip(0.5 + 1.6 * 0.75 * (w - 0.5), 0, 1)

    def cover(t, s):
        return np.clip((s * 1.8 - t) / 0.8, 0, 1)

    slope = np.clip(1 - enc.normals[0, :, 1].double().numpy(), 0, 1)
    want = np.stack([cover(threshold(wear), 0.6 * st[0]), cover(threshold(wear), st[3]),
                     cover(0.45 * threshold(1 - wear) + 0.55 * slope, st[2])], axis=1)
    assert np.allclose(feats[:, 4:], want, atol=1e-4)
    assert 0 < feats[:, 4:].mean() < 1  # the states chosen cover part of the surface
    with pytest.raises(ValueError, match="style_tokens needs style_head"):
        ModelConfig(style_head=False)


def test_cover_features_mirror_the_teacher_shader() -> None:
    """The model's cover features restate four lines of ``teacher.glsl``; if the teacher's
    wear threshold, coverage ramp or per-state settling changes, this fails until the model follows."""
    src = " ".join(SHADER.read_text().split())
    for line in (
        "clamp(0.5 + 1.6 * (0.75 * (wear - 0.5) + 0.25 * (fbm(p) - 0.5)), 0.0, 1.0)",  # 1.6·0.75 = 1.2
        "float cover_at(float t, float s) { return clamp((s * 1.8 - t) / 0.8, 0.0, 1.0); }",
        "cover_at(wear_threshold(sty.w, q * 1.7 + 11.0), damage * 0.6)",
        "char_ = cover_at(wear_threshold(sty.w, q * 2.3 + 23.0), burn)",
        "cover_at(0.45 * wear_threshold(1.0 - sty.w, q * 4.0 + 57.0) + 0.55 * slope, snow)",
    ):
        assert line in src, line


def test_style_per_gaussian_reads_the_field_at_each_gaussians_start() -> None:
    """``style_per_gaussian``: the head's features at each Gaussian's start position (anchor + slot
    offset, as ``decode`` places it) equal the numpy field there; a tone-only head shifts each
    Gaussian's colour logits by the field at its own start, not its anchor's."""
    from worldmodel.model import _SLOT_OFFSETS, G_MAX, _rotate

    torch.manual_seed(2)
    m = WorldModel(ModelConfig()).eval()
    spec = ProxySpec("capsule", (0.9, 0.5, 1.2), "plaster", 987_654_321, (0.4, 0.0, 0.3, 0.2))
    enc = encode([spec], 0, m.cfg)
    qb = enc.base_quat.double().unsqueeze(2)
    slot = torch.from_numpy(_SLOT_OFFSETS).view(1, 1, G_MAX, 3)
    start = enc.anchors.double().unsqueeze(2) + _rotate(qb, slot) * enc.spacing.double().view(1, 1, 1, 1)
    field = style_field(start[0].numpy() + style_offset(spec.style_seed))  # (N, G, C)
    with torch.no_grad():
        fg = m.gaussian_style_features(enc)[0].double().numpy()  # (N, G, F)
        assert np.allclose(fg[..., 0] + 0.5, field[..., TONE], atol=1e-5)
        assert np.allclose(fg[..., 2:4] + 0.5, field[..., 2:4], atol=1e-5)
        assert np.abs(fg[..., 0] - fg[:, :1, 0]).max() > 1e-3  # the slots see different field values
        base = m(enc)
        w = torch.zeros_like(m.style_head.weight)
        w[spec.material_id, 0:3] = torch.tensor([1.0, 2.0, -1.0])
        m.style_head.weight.copy_(w)
        delta = (m(enc) - base)[0, :, :, 11:14].double().numpy()  # (N, G, 3)
    assert np.allclose(delta, (field[..., TONE] - 0.5)[..., None] * np.array([1.0, 2.0, -1.0]), atol=1e-4)
    # the colour MLP (zero output layer at init) adds colour logits only, per Gaussian
    with torch.no_grad():
        before = m(enc)
        m.style_mlp_out.weight.normal_(0.0, 0.3)
        after = m(enc)
    assert torch.equal(after[..., :11], before[..., :11]) and not torch.equal(after[..., 11:], before[..., 11:])
    assert (after[0, :, 0, 11:] - after[0, :, 1, 11:]).abs().max() > 1e-4
    with pytest.raises(ValueError, match="style_per_gaussian needs style_tokens"):
        ModelConfig(style_tokens=False)
    with pytest.raises(ValueError, match="style_mlp"):
        ModelConfig(style_per_gaussian=False)
