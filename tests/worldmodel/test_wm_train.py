"""Tiny CPU training through the torch compositor: the loss goes down, and a run resumes."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from wm_standin import StandinSource

from worldmodel import Generator, ProxySpec
from worldmodel.eval import violations
from worldmodel.train import TINY, TrainConfig, train


def test_tiny_cpu_training_decreases_the_loss_and_resumes(tmp_path: Path) -> None:
    cfg = TrainConfig(**TINY)
    cfg.steps = 24
    src = StandinSource(cfg.size, cfg.views)
    first = train(cfg, tmp_path, source=src, progress=False, max_steps=12)
    assert first["step"] == 12
    assert first["pool_loss_end"] < 0.85 * first["pool_loss_start"], first
    for name in ("state.pt", "worldmodel.pt", "history.json", "loss.png"):
        assert (tmp_path / name).stat().st_size > 0
    second = train(cfg, tmp_path, source=src, progress=False)  # resumes from state.pt
    assert second["step"] == 24
    assert len(json.loads((tmp_path / "history.json").read_text())) == 24
    # the exported EMA checkpoint is a working model
    gen = Generator(tmp_path / "worldmodel.pt")
    spec = ProxySpec("cylinder", (0.4, 0.6, 0.4), "bark", 11)
    [gs] = gen.generate([spec])
    assert violations(gs, spec, 0) == 0
    assert gen.version != Generator().version
    assert torch.isfinite(torch.from_numpy(gs.means)).all()


def test_cli_tiny_training_with_the_real_teacher(tmp_path: Path, capsys) -> None:
    """`anchorworld worldmodel train --tiny`: the CI path, live teacher renders (EGL), torch compositor."""
    from engine.cli import main

    code = main(["worldmodel", "train", "--tiny", "--max-steps", "8", "--out", str(tmp_path / "run"),
                 "--no-progress", "--device", "cpu", "--refresh", "1"])
    assert code == 0
    res = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert res["step"] == 8
    assert res["teacher_items"] == 6 + 8  # the pool, then one fresh item per step rendered in-process
    assert res["pool_loss_end"] < res["pool_loss_start"], res
    assert Generator(tmp_path / "run" / "worldmodel.pt").generate([ProxySpec("plane", (1, 0.1, 1), "grass", 2)])


def test_cli_rejects_bad_training_arguments(tmp_path: Path, capsys) -> None:
    from engine.cli import main

    assert main(["worldmodel", "train", "--tiny", "--batch", "0", "--out", str(tmp_path)]) == 1
    assert "--batch" in capsys.readouterr().err


def test_train_only_a_prefix_leaves_the_rest_untouched(tmp_path: Path) -> None:
    """`--init CKPT --train-only style_head,style_mlp`: a warm start whose other weights (the token
    map ``style_embed`` among them) stay as they were."""
    from worldmodel.checkpoint import load_inference, save_inference
    from worldmodel.model import WorldModel

    cfg = TrainConfig(**TINY)
    cfg.steps, cfg.warmup, cfg.lr = 4, 1, 0.05
    torch.manual_seed(3)
    base = WorldModel(cfg.model)
    save_inference(tmp_path / "init.pt", base)
    cfg.train_only = "style_head,style_mlp"
    train(cfg, tmp_path / "run", source=StandinSource(cfg.size, cfg.views), progress=False,
          init=tmp_path / "init.pt")
    st = torch.load(tmp_path / "run" / "state.pt", map_location="cpu", weights_only=False)["model"]
    for name, t in base.state_dict().items():
        if name.startswith(("style_head", "style_mlp")):
            assert not torch.equal(st[name], t), name
        else:
            assert torch.equal(st[name], t), name
    assert load_inference(tmp_path / "run" / "worldmodel.pt")[0].cfg.style_head


def test_material_mix_is_drawn_saved_and_overridable_on_resume(tmp_path: Path) -> None:
    """``--materials``: the teacher draws only (and as often as) the listed tags; the mix is saved
    in the run's state and a resumed run may change it."""
    import numpy as np

    from worldmodel.train import TeacherSource

    src = TeacherSource(24, 1, materials=["water", "water", "metal"])
    drawn = [src.sample(np.random.default_rng(i)).spec.material for i in range(6)]
    assert set(drawn) <= {"water", "metal"} and "water" in drawn
    cfg = TrainConfig(**TINY)
    cfg.steps, cfg.materials = 2, ["water"]
    train(cfg, tmp_path, source=StandinSource(cfg.size, cfg.views), progress=False)
    assert torch.load(tmp_path / "state.pt", weights_only=False)["train_config"]["materials"] == ["water"]
    cfg.steps, cfg.materials = 3, ["metal"]
    train(cfg, tmp_path, source=StandinSource(cfg.size, cfg.views), progress=False, steps_override=True)
    assert torch.load(tmp_path / "state.pt", weights_only=False)["train_config"]["materials"] == ["water"]
    cfg.steps = 4
    train(cfg, tmp_path, source=StandinSource(cfg.size, cfg.views), progress=False, steps_override=True,
          materials_override=True)
    assert torch.load(tmp_path / "state.pt", weights_only=False)["train_config"]["materials"] == ["metal"]
