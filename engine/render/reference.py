"""Reference renderer: plain numpy (float64) twin of the splat pass, one splat at a time.

Same math as ``shaders/splat.glsl`` (gsplat "classic", see DESIGN.md) written independently and
slowly: world = M·p per anchor, Σ = AΣAᵀ, EWA projection with the 1.3×FOV tan-space clamp, +0.3 on
the 2D covariance diagonal, alpha = min(0.99, o·exp(−q)) with alpha < 1/255 skipped, pixel centres at
+0.5, near-plane culling, SH colour max(0.5 + SH(dir), 0) with dir from the camera to the mean in
anchor space, back-to-front "over" compositing ordered by view-space z (ties keep input order).
"""

from __future__ import annotations

import numpy as np

from engine.render.camera import Camera
from engine.splats.gaussians import SH_C0, GaussianSet

C1 = 0.4886025119029199
C2 = (1.0925484305920792, -1.0925484305920792, 0.31539156525252005, -1.0925484305920792, 0.5462742152960396)
C3 = (
    -0.5900435899266435,
    2.890611442640554,
    -0.4570457994644658,
    0.3731763325901154,
    -0.4570457994644658,
    1.445305721320277,
    -0.5900435899266435,
)


def quat_to_rotmat(quats: np.ndarray) -> np.ndarray:
    """Quaternions (N, 4) w-first → rotation matrices (N, 3, 3) (normalised first)."""
    q = np.asarray(quats, np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    w, x, y, z = q.T
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        1,
    )


def eval_sh(sh: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    """Colour before clamping: 0.5 + Σ_k Y_k(dir)·sh_k; sh (N, K, 3), dirs (N, 3) unit → (N, 3)."""
    k = sh.shape[1]
    x, y, z = (dirs[:, i : i + 1] for i in range(3))
    c = 0.5 + SH_C0 * sh[:, 0]
    if k > 1:
        c = c - C1 * y * sh[:, 1] + C1 * z * sh[:, 2] - C1 * x * sh[:, 3]
    if k > 4:
        xx, yy, zz = x * x, y * y, z * z
        c = (
            c
            + C2[0] * x * y * sh[:, 4]
            + C2[1] * y * z * sh[:, 5]
            + C2[2] * (2 * zz - xx - yy) * sh[:, 6]
            + C2[3] * x * z * sh[:, 7]
            + C2[4] * (xx - yy) * sh[:, 8]
        )
    if k > 9:
        c = (
            c
            + C3[0] * y * (3 * xx - yy) * sh[:, 9]
            + C3[1] * x * y * z * sh[:, 10]
            + C3[2] * y * (4 * zz - xx - yy) * sh[:, 11]
            + C3[3] * z * (2 * zz - 3 * xx - 3 * yy) * sh[:, 12]
            + C3[4] * x * (4 * zz - xx - yy) * sh[:, 13]
            + C3[5] * z * (xx - yy) * sh[:, 14]
            + C3[6] * x * (xx - 3 * yy) * sh[:, 15]
        )
    return c


def project(g: GaussianSet, matrix: np.ndarray, camera: Camera) -> dict[str, np.ndarray]:
    """Project one anchor's Gaussians (anchor-local) with local→world ``matrix`` (4, 4).

    Returns per-Gaussian arrays: mean2d (N, 2) pixels, cov2d (N, 2, 2) with blur, depth (N,),
    rgb (N, 3) clamped ≥ 0, opacity (N,), valid (N,) bool.
    """
    m = np.asarray(matrix, np.float64)
    a_mat, t = m[:3, :3], m[:3, 3]
    view = camera.view.astype(np.float64)
    w_rot, w_t = view[:3, :3], view[:3, 3]
    means = g.means.astype(np.float64)
    world = means @ a_mat.T + t
    cam = world @ w_rot.T + w_t
    rs = quat_to_rotmat(g.quats) * g.scales.astype(np.float64)[:, None, :]  # R·S
    cov_local = rs @ rs.transpose(0, 2, 1)
    tw = w_rot @ a_mat
    cov = tw @ cov_local @ tw.T
    fx = fy = camera.focal
    cx, cy = camera.width / 2.0, camera.height / 2.0
    w, h = float(camera.width), float(camera.height)
    x, y, z = cam[:, 0], cam[:, 1], cam[:, 2]
    valid = (z >= camera.near) & (z <= camera.far)
    zs = np.where(valid, z, 1.0)
    tan_fovx, tan_fovy = 0.5 * w / fx, 0.5 * h / fy
    tx = zs * np.clip(x / zs, -(cx / fx + 0.3 * tan_fovx), (w - cx) / fx + 0.3 * tan_fovx)
    ty = zs * np.clip(y / zs, -(cy / fy + 0.3 * tan_fovy), (h - cy) / fy + 0.3 * tan_fovy)
    jac = np.zeros((len(g), 2, 3))
    jac[:, 0, 0] = fx / zs
    jac[:, 0, 2] = -fx * tx / zs**2
    jac[:, 1, 1] = fy / zs
    jac[:, 1, 2] = -fy * ty / zs**2
    cov2d = jac @ cov @ jac.transpose(0, 2, 1) + 0.3 * np.eye(2)
    det = cov2d[:, 0, 0] * cov2d[:, 1, 1] - cov2d[:, 0, 1] ** 2
    valid &= det > 0
    mean2d = np.stack([fx * x / zs + cx, fy * y / zs + cy], 1)
    # view direction from the camera to the mean, rotated into anchor space (Aᵀ; exact for similarities)
    dirs = (world - camera.eye.astype(np.float64)) @ a_mat
    dirs /= np.maximum(np.linalg.norm(dirs, axis=1, keepdims=True), 1e-30)
    rgb = np.maximum(eval_sh(g.sh.astype(np.float64), dirs), 0.0)
    return {
        "mean2d": mean2d,
        "cov2d": cov2d,
        "depth": z,
        "rgb": rgb,
        "opacity": g.opacities.astype(np.float64),
        "valid": valid,
    }


def render_reference(
    anchors: list[tuple[GaussianSet, np.ndarray]] | GaussianSet,
    camera: Camera,
    background: tuple[float, float, float] = (0.0, 0.0, 0.0),
) -> np.ndarray:
    """Render anchors [(gaussians, local→world (4, 4))] (or one set at identity) → (H, W, 4) float32.

    RGB is composited over ``background``; alpha = 1 − final transmittance; row 0 is the top.
    """
    if isinstance(anchors, GaussianSet):
        anchors = [(anchors, np.eye(4))]
    parts = [project(g, m, camera) for g, m in anchors if len(g)]
    h, w = camera.height, camera.width
    color = np.zeros((h, w, 3))
    trans = np.ones((h, w))
    if parts:
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        keep = np.flatnonzero(cat["valid"] & (cat["opacity"] * 255.0 >= 1.0))
        # back to front: descending depth, equal depths in input order
        order = keep[np.argsort(-cat["depth"][keep].astype(np.float32), kind="stable")]
        for i in order:
            _splat(color, trans, cat["mean2d"][i], cat["cov2d"][i], cat["rgb"][i], cat["opacity"][i])
    # front-to-back equivalent: we composited back to front with "over", so colour already holds Σ c α T
    out = np.empty((h, w, 4), np.float32)
    out[..., :3] = color + trans[..., None] * np.asarray(background, np.float64)
    out[..., 3] = 1.0 - trans
    return out


def _splat(color: np.ndarray, trans: np.ndarray, mean: np.ndarray, cov: np.ndarray, rgb: np.ndarray, o: float) -> None:
    """Composite one Gaussian "over" the image so far (back-to-front order)."""
    h, w = trans.shape
    qmax = np.log(255.0 * o)  # alpha ≥ 1/255  ⟺  q ≤ ln(255·o)
    ex = np.sqrt(2.0 * qmax * cov[0, 0])
    ey = np.sqrt(2.0 * qmax * cov[1, 1])
    x0, x1 = max(int(np.floor(mean[0] - ex - 0.5)), 0), min(int(np.ceil(mean[0] + ex + 0.5)), w)
    y0, y1 = max(int(np.floor(mean[1] - ey - 0.5)), 0), min(int(np.ceil(mean[1] + ey + 0.5)), h)
    if x0 >= x1 or y0 >= y1:
        return
    det = cov[0, 0] * cov[1, 1] - cov[0, 1] ** 2
    ca, cb, cc = cov[1, 1] / det, -cov[0, 1] / det, cov[0, 0] / det
    px = np.arange(x0, x1) + 0.5
    py = np.arange(y0, y1) + 0.5
    dx = (mean[0] - px)[None, :]
    dy = (mean[1] - py)[:, None]
    q = 0.5 * (ca * dx * dx + cc * dy * dy) + cb * dx * dy
    alpha = np.minimum(0.99, o * np.exp(-q))
    alpha = np.where((q >= 0) & (alpha >= 1.0 / 255.0), alpha, 0.0)
    region = (slice(y0, y1), slice(x0, x1))
    color[region] = alpha[..., None] * rgb + (1.0 - alpha[..., None]) * color[region]
    trans[region] *= 1.0 - alpha
