"""The world model's teacher: procedural reference assets rendered with ModernGL.

``Teacher(ctx=None, size=(W, H)).render(spec, cameras)`` returns ``rgb`` (V,H,W,3) linear colour over
a black background, ``alpha`` (V,H,W) and ``depth`` (V,H,W) view-space z in metres (0 where empty),
for a ``worldmodel.spec.ProxySpec`` seen from ``engine.render.camera.Camera``\\ s of that size.
``sample_spec(rng, ...)`` draws specs of a split, ``sample_cameras(spec, n, rng)`` orbit cameras;
``split_of(spec)`` states the held-out rule (see ``sampling``).

What each material looks like (real geometry, within the proxy's bounds plus the material margin):

- grass: a dark soil surface with tufts of 4–7 bent blades standing out of every non-downward face.
- dirt: a bumpy brown surface (noise displacement) strewn with small faceted clods.
- sand: a surface displaced into parallel ripples (seeded direction and wavelength), a few grains.
- stone: faceted cobbles of varied greys packed over a dark base; faint cracks.
- brick: running-bond courses of protruding bricks of varied reds over a mortar-coloured base.
- plaster: an off-white, gently uneven surface with hairline cracks; damage exposes brick.
- wood_planks: staggered planks of varied wood tones with grain streaks, separated by dark grooves.
- bark: dense vertical ridges (stretched faceted pieces) over a dark base.
- foliage: clumps of 6–11 leaf cards floating up to the margin above a dark green base.
- roof_tiles: rows of tilted overlapping tiles (lower edge proud), terracotta shades.
- water: a rippled surface (three seeded waves) with a small specular highlight and sky tint.
- metal: grey panels with seams and rows of rivets along their long edges.

States are applied in the shader as smooth functions of the value (so s and s+0.05 differ a little):
damage shrinks detail pieces away (each piece has its own threshold), widens cracks and darkens
patches; wetness darkens, saturates and adds a small highlight; snow whitens upward-facing surfaces
first, then the sides, and buries grass; burn chars to black with embers on the char's fringe and
burns grass and leaves away. Lighting is a fixed sun plus ambient (lambert; two-sided for blades and
leaves), linear colour.

How the seed maps to variation: the seed selects an offset ``style_offset(seed)`` (``worldmodel.spec``),
the same one the world model is given, and the asset is laid out in noise space ``q = p + offset``.
Everything visible at the model's resolution is a function of the smooth style field
(``worldmodel.style``: 12 sinusoids whose frequencies are the model's first Fourier features) at q:
the colour tone between two tints, secondary patches (moss, rust, soot, stains, autumn leaves),
the density and size of detail pieces (kept on a jittered lattice fixed in q, with a probability
set by the field), how far bricks, planks, tiles and panels stand proud, and where damage, char
and snow settle first. Fine texture (mottling, cracks, wood grain) is a fixed value-noise field seen
at q; only sub-piece detail (blade bend, rock facets, per-piece palette pick) comes from a
generator seeded with (style_seed, material id, shape index). The mesh is a pure function of
(shape, half-extents, material, style_seed); the picture of (spec, camera).
Same spec ⇒ bit-identical render on the same machine. Every vertex is clipped into the proxy's
half-extent box plus the material margin (``engine.splats.vocab.Material.margin``); detail budgets
are counted in vertices (240k per asset), so huge proxies get larger, sparser pieces.

Splits: ``split_of`` / ``sampling`` — held-out specs have style seeds ≥ 1_000_000 and sizes and
non-zero states in interleaved bands never drawn for training. Datasets on disk: ``worldmodel.data``
(``anchorworld worldmodel data --out DIR ...``). Speed probe: ``python -m worldmodel.teacher``.

Smoothness of the teacher itself (masked PSNR between s and s+0.05, 128 px orbit views): damage
≈ 43 dB, wetness ≈ 57 dB, burn ≈ 45 dB, snow ≈ 33 dB (worst ≈ 21 dB: snow is a large change of
colour, so even a perfectly linear fade from dark to white moves each pixel ~0.04 per 0.05 step).
"""

from worldmodel.teacher.renderer import Teacher, mesh_key
from worldmodel.teacher.sampling import HELDOUT_SEED, sample_cameras, sample_spec, split_of

__all__ = ["HELDOUT_SEED", "Teacher", "mesh_key", "sample_cameras", "sample_spec", "split_of"]
