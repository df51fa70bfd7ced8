"""`anchorworld render`, `anchorworld view`, `anchorworld bench render` and the shared test files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:  # tests/render is not a package; should it become one, import relatively
    from splat_scenes import psnr, random_scene
except ImportError:  # pragma: no cover
    from .splat_scenes import psnr, random_scene

from engine.cli import main
from engine.render.camera import Camera
from engine.render.reference import render_reference
from tools.viewer import FlyCamera, OrbitCamera, initial_cameras

TESTDATA = Path(__file__).resolve().parents[2].parent / "shared/testdata/splats"
SPLAT_FILES = sorted(p for p in TESTDATA.glob("*") if p.suffix in (".ply", ".splat", ".spz")) if TESTDATA.is_dir() else []


@pytest.fixture(scope="module")
def scene_file(tmp_path_factory):
    from engine.splats.io import save_ply

    path = tmp_path_factory.mktemp("splats") / "scene.ply"
    save_ply(path, random_scene(3000, seed=5, degree=1))
    return path


@pytest.mark.gl
def test_render_command_writes_png_and_npy_matching_the_reference(scene_file, tmp_path, capsys):
    from engine.splats.io import load

    out = tmp_path / "shot"
    code = main(
        ["render", str(scene_file), "--size", "96x72", "--eye", "0.3,0.4,2.6", "--target", "0,0,0",
         "--fov-y", "50", "--background", "0.2,0.3,0.4", "--out", str(out)]
    )
    assert code == 0
    img = np.load(out.with_suffix(".npy"))
    assert img.shape == (72, 96, 4) and img.dtype == np.float32
    png = np.asarray(Image.open(out.with_suffix(".png")))
    assert png.shape == (72, 96, 3) and png.dtype == np.uint8
    assert np.abs(png / 255.0 - np.clip(img[..., :3], 0, 1)).max() <= 0.5 / 255 + 1e-6
    cam = Camera(np.array([0.3, 0.4, 2.6]), np.zeros(3), 96, 72, fov_y=50)
    ref = render_reference(load(scene_file), cam, (0.2, 0.3, 0.4))
    assert psnr(img, ref) >= 45
    # transparent pixels show the background
    empty = img[..., 3] < 1e-4
    assert empty.any() and np.allclose(img[empty][:, :3], (0.2, 0.3, 0.4), atol=2e-3)


@pytest.mark.parametrize(
    "bad",
    [
        ["--size", "96by72"],
        ["--size", "0x10"],
        ["--eye", "1,2"],
        ["--eye", "0,0,0"],  # eye == target
        ["--fov-y", "180"],
        ["--background", "2,0,0"],
        ["--up", "0,0,1", "--eye", "0,0,3"],  # up parallel to the view direction
    ],
)
def test_render_command_bad_arguments_exit_2(scene_file, tmp_path, bad, capsys):
    args = {"--size": "32x24", "--eye": "0,0,3", "--target": "0,0,0", "--out": str(tmp_path / "x")}
    for k, v in zip(bad[::2], bad[1::2], strict=True):
        args[k] = v
    argv = ["render", str(scene_file)] + [t for kv in args.items() for t in kv]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.gl
def test_render_command_bad_file_is_one_clear_line(tmp_path, capsys):
    bad = tmp_path / "broken.ply"
    bad.write_bytes(b"ply\nformat binary_little_endian 1.0\nelement vertex 5\nend_header\n\x00")
    code = main(["render", str(bad), "--size", "8x8", "--eye", "0,0,3", "--target", "0,0,0", "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 1 and "broken.ply" in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.gl
@pytest.mark.skipif(not SPLAT_FILES, reason="shared/testdata/splats is absent")
@pytest.mark.parametrize("path", SPLAT_FILES, ids=lambda p: p.name)
def test_every_shared_file_renders_non_blank(path):
    from engine.render.context import headless_context
    from engine.render.splat_pass import SplatPass, render_offscreen
    from engine.splats.io import load
    from tools.render_command import framing

    g = load(path)
    ctx = headless_context(430)
    p = SplatPass(ctx)
    p.set(path.name, g)
    eye, target = framing(g.means)
    img = render_offscreen(p, Camera(eye, target, 48, 36), (0, 0, 0))
    p.release()
    ctx.release()
    assert np.isfinite(img).all()
    covered = (img[..., 3] > 0.05).mean()
    assert covered > 0.02, f"{path.name}: only {covered:.1%} of the image covered"
    assert img[..., :3].std() > 0.01


def test_orbit_and_fly_cameras_respond_to_input():
    means = random_scene(500).means
    orbit, fly = initial_cameras(means, 60.0, np.array([0.0, 1.0, 0.0]))
    e0 = orbit.eye()
    orbit.orbit(50, 0)
    assert not np.allclose(orbit.eye(), e0)
    assert np.isclose(np.linalg.norm(orbit.eye() - orbit.target), orbit.distance)
    d0 = orbit.distance
    orbit.zoom(2)
    assert orbit.distance < d0
    t0 = orbit.target.copy()
    orbit.pan(10, 0)
    assert not np.allclose(orbit.target, t0)
    orbit.orbit(0, 10_000)
    assert orbit.pitch <= 1.55  # never flips over the pole
    # the fly camera starts where the orbit camera is, looking at its target
    orbit2, fly = initial_cameras(means, 60.0, np.array([0.0, 1.0, 0.0]))
    to_target = orbit2.target - fly.eye
    assert np.allclose(fly.forward(), to_target / np.linalg.norm(to_target), atol=1e-6)
    start = fly.eye.copy()
    fly.move(1, 0, 0, 0.5)
    assert np.allclose(fly.eye - start, fly.forward() * fly.speed * 0.5)
    fly.look(100, 0)
    assert isinstance(fly, FlyCamera) and isinstance(orbit, OrbitCamera)


@pytest.mark.window
@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs a display (run under xvfb-run)")
def test_viewer_window_shows_the_file(scene_file, tmp_path):
    # a separate process, as a user runs it (a GLX window and this process's EGL contexts don't mix)
    shot = tmp_path / "view.png"
    cmd = [sys.executable, "-m", "engine.cli", "view", str(scene_file), "--size", "160x120", "--frames", "3",
           "--screenshot", str(shot)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr[-2000:]
    img = np.asarray(Image.open(shot))
    assert img.shape == (120, 160, 3) and img.std() > 5


def test_view_help_documents_the_keys(capsys):
    with pytest.raises(SystemExit):
        main(["view", "--help"])
    out = capsys.readouterr().out
    for word in ("Tab", "orbit", "fly", "W/S", "wheel", "Esc"):
        assert word in out


@pytest.mark.gl
def test_bench_render_prints_json(capsys):
    assert main(["bench", "render", "--splats", "3000", "--size", "64x36", "--frames", "2", "--json"]) == 0
    row = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("fps", "sort_ms", "draw_ms", "upload_bytes_per_frame", "gpu_bytes_per_splat"):
        assert key in row and row[key] >= 0
    assert row["splats"] == 3000
