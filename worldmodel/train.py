"""Training: `anchorworld worldmodel train` — teacher views in, checkpoint + plots + EMA out.

One step: draw a batch of teacher items (spec, cameras, rgb, alpha, depth) from a pool that the
teacher keeps refreshing; for each, run the model, decode constrained Gaussians, render them into
the item's cameras (gsplat on CUDA, the torch compositor on CPU) and take
``0.8 L1 + 0.2 D-SSIM + alpha + depth + state smoothness``; AdamW, warm-up + cosine learning rate,
EMA of the weights. Runs survive being cut into chunks (``--minutes``): the whole training state
is saved atomically every ``--save-minutes`` and at the end, and a run resumes from it; every save
also exports the EMA weights as an inference checkpoint and redraws the loss plot.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from engine.errors import InputError
from engine.splats.vocab import STATES
from worldmodel.checkpoint import save_inference, torch_save_atomic
from worldmodel.compositor import render
from worldmodel.losses import LossWeights, depth_l1, photometric, smoothness
from worldmodel.model import ModelConfig, WorldModel, decode, encode
from worldmodel.spec import ProxySpec

LOD_PROBS = (0.7, 0.2, 0.1)  # how often each level of detail is trained


@dataclass
class Item:
    """One teacher sample: a spec and V views of it.

    viewmats (V, 4, 4) world→camera (OpenCV axes); Ks (V, 3, 3); rgb (V, H, W, 3) premultiplied
    linear colour; alpha (V, H, W); depth (V, H, W) view-space z (anything where alpha is 0).
    """

    spec: ProxySpec
    viewmats: np.ndarray
    Ks: np.ndarray
    rgb: np.ndarray
    alpha: np.ndarray
    depth: np.ndarray


class Source(Protocol):
    """Where training items come from (the teacher, or a stand-in in tests)."""

    def sample(self, rng: np.random.Generator) -> Item: ...


@dataclass
class TrainConfig:
    """Settings of one training run (saved in the training state)."""

    steps: int = 20000  # total optimiser steps of the whole run (the schedule's length)
    batch: int = 8  # entities per step
    views: int = 4  # cameras per entity
    size: int = 96  # rendered image side (pixels)
    lr: float = 2e-3
    warmup: int = 300
    weight_decay: float = 0.01
    ema: float = 0.998
    pool: int = 256  # teacher items held at once
    refresh: int = 2  # teacher items replaced per step
    seed: int = 0
    device: str = "cpu"
    backend: str = "auto"  # rasteriser: auto (gsplat on CUDA), torch, gsplat
    train_only: str = ""  # if set, only parameters whose name starts with one of these prefixes (comma-separated)
    # materials the teacher draws from (empty: all); a tag listed k times is drawn k times as often
    materials: list[str] = field(default_factory=list)
    weights: LossWeights = field(default_factory=LossWeights)
    model: ModelConfig = field(default_factory=ModelConfig)


TINY = dict(batch=2, views=2, size=24, pool=6, refresh=0, warmup=5, lr=3e-3,
            model=ModelConfig(d_model=32, n_layers=1, n_heads=2, style_freqs=8, global_style_freqs=4))


def _teacher_worker(size: int, views: int, seed: int, queue: Any, materials: list[str] | None = None) -> None:
    """Worker process: render teacher items forever into ``queue`` (own EGL context)."""
    from worldmodel.teacher import Teacher, sample_cameras, sample_spec

    teacher = Teacher(size=(size, size))
    rng = np.random.default_rng(seed)
    while True:
        spec = sample_spec(rng, materials=materials or None, split="train")
        cams = sample_cameras(spec, views, rng, size=(size, size))
        queue.put(item_from_render(spec, cams, teacher.render(spec, cams)))


class TeacherSource:
    """The procedural teacher as a training source (ModernGL, headless EGL).

    With ``workers`` > 0, that many processes render ahead into a queue, so training never waits
    for the teacher; ``drain`` hands over whatever is ready. With 0, items render in this process.
    """

    def __init__(self, size: int, views: int, workers: int = 0, seed: int = 0, materials: list[str] | None = None) -> None:
        self.size, self.views = size, views
        self.materials = list(materials or [])
        self.procs: list[Any] = []
        if workers > 0:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            self.queue = ctx.Queue(maxsize=512)
            for w in range(workers):
                p = ctx.Process(target=_teacher_worker, args=(size, views, seed * 1000 + w + 1, self.queue, self.materials), daemon=True)
                p.start()
                self.procs.append(p)
        else:
            from worldmodel.teacher import Teacher

            self.teacher = Teacher(size=(size, size))

    def sample(self, rng: np.random.Generator) -> Item:
        """One item (blocks until a worker has one)."""
        if self.procs:
            return self.queue.get(timeout=300)
        from worldmodel.teacher import sample_cameras, sample_spec

        spec = sample_spec(rng, materials=self.materials or None, split="train")
        cams = sample_cameras(spec, self.views, rng, size=(self.size, self.size))
        return item_from_render(spec, cams, self.teacher.render(spec, cams))

    def drain(self, limit: int) -> list[Item]:
        """Up to ``limit`` ready items without waiting (workers only)."""
        import queue as q

        out: list[Item] = []
        while self.procs and len(out) < limit:
            try:
                out.append(self.queue.get_nowait())
            except q.Empty:
                break
        return out

    def close(self) -> None:
        """Stop the worker processes."""
        for p in self.procs:
            p.terminate()


class DatasetSource:
    """A dataset written by `anchorworld worldmodel data` as a training source (random items)."""

    def __init__(self, root: str | Path) -> None:
        from worldmodel.data import Dataset

        self.ds = Dataset(root)
        if len(self.ds) == 0:
            raise InputError(str(root), "", "a dataset with at least one spec")

    def sample(self, rng: np.random.Generator) -> Item:
        """A random stored item."""
        smp = self.ds[int(rng.integers(len(self.ds)))]
        return item_from_render(smp.spec, smp.cameras, {"rgb": smp.rgb, "alpha": smp.alpha, "depth": smp.depth})


def item_from_render(spec: ProxySpec, cams: list, out: dict[str, np.ndarray]) -> Item:
    """Build an ``Item`` from a teacher render dict (rgb over black, i.e. premultiplied; alpha; depth)."""
    alpha = np.asarray(out["alpha"], np.float32)
    rgb = np.asarray(out["rgb"], np.float32)
    return Item(spec, np.stack([c.view for c in cams]).astype(np.float32),
                np.stack([c.intrinsics for c in cams]).astype(np.float32),
                rgb, alpha, np.nan_to_num(np.asarray(out["depth"], np.float32), posinf=0.0))


def bump_state(spec: ProxySpec, rng: np.random.Generator, delta: float = 0.05) -> ProxySpec:
    """The spec with one random state moved by ``delta`` (towards the inside of [0, 1])."""
    i = int(rng.integers(len(STATES)))
    st = list(spec.state)
    st[i] = st[i] + delta if st[i] + delta <= 1.0 else st[i] - delta
    return dataclasses.replace(spec, state=tuple(st))


def entity_loss(model: WorldModel, item: Item, lod: int, cfg: TrainConfig, rng: np.random.Generator,
                dev: torch.device) -> tuple[torch.Tensor, dict[str, float]]:
    """Loss of one teacher item at ``lod`` (all terms weighted and summed) and its parts."""
    w = cfg.weights
    enc = encode([item.spec], lod, cfg.model, dev)
    g = decode(model(enc), enc)
    vm = torch.from_numpy(item.viewmats).to(dev)
    ks = torch.from_numpy(item.Ks).to(dev)
    h, wd = item.rgb.shape[1:3]
    rgb, alpha, depth = render(g["means"][0], g["quats"][0], g["scales"][0], g["opacities"][0], g["rgb"][0],
                               vm, ks, wd, h, backend=cfg.backend)
    t_rgb = torch.from_numpy(item.rgb).to(dev)
    t_a = torch.from_numpy(item.alpha).to(dev)
    t_d = torch.from_numpy(item.depth).to(dev)
    size = float(max(item.spec.half_extents))
    parts = {
        "photo": photometric(rgb.clamp(0, 1), t_rgb),
        "alpha": (alpha - t_a).abs().mean(),
        "depth": depth_l1(depth, t_d, (t_a > 0.5) & (alpha.detach() > 0.5), size),
    }
    if w.smooth > 0:
        enc2 = encode([bump_state(item.spec, rng)], lod, cfg.model, dev)
        g2 = decode(model(enc2), enc2)
        parts["smooth"] = smoothness(g, g2, enc.spacing)
    total = (w.photo * parts["photo"] + w.alpha * parts["alpha"] + w.depth * parts["depth"]
             + w.smooth * parts.get("smooth", torch.zeros((), device=dev)))
    return total, {k: float(v.detach()) for k, v in parts.items()}


def warm_start(model: WorldModel, path: str | Path) -> None:
    """Copy the weights of inference checkpoint ``path`` into ``model`` (same architecture).

    The fixed Fourier buffers stay the model's own (its config decides them); style-head parts the
    checkpoint lacks (``style_tokens``'s embedding and cover features, ``style_per_gaussian``'s card
    feature, ``style_mlp``'s output layer) start at zero, so the warm model's output equals the
    checkpoint's, except that ``style_per_gaussian`` moves the head's field samples from the anchors
    to the Gaussians' start positions. Where the per-anchor
    style frequencies differ from the checkpoint's (say a "random" → "teacher" style basis), the
    embedding's weights for those features are zeroed, so the run starts from the old appearance
    and learns the new features from scratch. Raises ``InputError`` on an architecture mismatch.
    """
    from worldmodel.checkpoint import load_inference

    old, _, _ = load_inference(path)
    src = old.state_dict()
    dst = model.state_dict()
    for name, t in dst.items():
        if name in ("fourier", "global_fourier") or (name.startswith("style_") and name not in src):
            continue  # fixed buffers, and a style head the checkpoint lacks (kept at its zero init)
        if name in ("style_head.weight", "style_embed.weight") and name in src and src[name].shape[1] < t.shape[1]:
            # a head (or token map) over fewer style features (written before ``style_tokens`` or
            # ``style_per_gaussian``): its features are the first ones, so its matrix fills the first
            # entries; the new features start at zero
            w = torch.zeros_like(t)
            w[:, :src[name].shape[1]] = src[name].to(t.dtype)
            dst[name] = w
            continue
        if name not in src or tuple(src[name].shape) != tuple(t.shape):
            raise InputError(str(path), f"state_dict.{name}", f"a tensor of shape {tuple(t.shape)} (--init needs the same architecture)")
        dst[name] = src[name].to(t.dtype)
    changed = ~torch.isclose(old.fourier, model.fourier.cpu()).all(0)  # (F,) per-anchor frequencies that differ
    nf = int(changed.numel())
    if bool(changed.any()):
        w = dst["embed.weight"].clone()
        cols = torch.nonzero(changed).flatten() + 6
        w[:, cols] = 0.0
        w[:, cols + nf] = 0.0
        dst["embed.weight"] = w
    if not torch.equal(old.global_fourier, model.global_fourier.cpu()):
        raise InputError(str(path), "config", "the same whole-entity style features (global_fourier) for --init")
    model.load_state_dict(dst)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10 % of ``cfg.lr`` at ``cfg.steps``."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    t = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))


def _config_to_dict(cfg: TrainConfig) -> dict:
    d = dataclasses.asdict(cfg)
    return d


def _config_from_dict(d: dict) -> TrainConfig:
    d = dict(d)
    d["weights"] = LossWeights(**d["weights"])
    d["model"] = ModelConfig.from_dict(d["model"])
    return TrainConfig(**d)


def train(cfg: TrainConfig, out_dir: str | Path, source: Source | None = None, minutes: float = 1e9,
          save_minutes: float = 3.0, max_steps: int | None = None, progress: bool = True,
          log: Callable[[str], None] = print, workers: int = 0,
          steps_override: bool = False, init: str | Path | None = None,
          materials_override: bool = False) -> dict[str, Any]:
    """Train (or resume) in ``out_dir`` for at most ``minutes`` / ``max_steps`` more steps.

    ``init``: an inference checkpoint to warm-start a *new* run from (ignored when resuming);
    see ``warm_start``. ``steps_override`` / ``materials_override``: a resumed run takes ``cfg``'s
    schedule length / material mix instead of its saved one.

    Writes ``state.pt`` (resumable state), ``worldmodel.pt`` (EMA inference checkpoint),
    ``history.json`` and ``loss.png``. Returns a summary dict (step, losses, elapsed seconds).
    """
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "state.pt"
    dev = torch.device(cfg.device)
    history: list[dict[str, float]] = []
    step, trained_s = 0, 0.0
    if state_path.exists():
        try:
            st = torch.load(state_path, map_location="cpu", weights_only=False)
            steps, materials = cfg.steps, cfg.materials
            cfg = _config_from_dict(st["train_config"])
            cfg.device = str(dev)
            if steps_override:
                cfg.steps = steps  # lengthen or shorten the schedule of a resumed run
            if materials_override:
                cfg.materials = materials  # change the material mix of a resumed run
        except Exception as exc:  # noqa: BLE001
            raise InputError(str(state_path), "", f"a resumable training state ({type(exc).__name__}: {exc})") from None
    torch.manual_seed(cfg.seed)
    model = WorldModel(cfg.model).to(dev)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    rng = np.random.default_rng(cfg.seed)
    if state_path.exists():
        model.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        step, trained_s, history = st["step"], st["trained_s"], st["history"]
        rng.bit_generator.state = st["rng"]
        log(f"resumed {state_path} at step {step} ({trained_s / 60:.1f} min trained)")
    elif init is not None:
        warm_start(model, init)
        ema.load_state_dict(model.state_dict())
        log(f"warm start from {init}")
    for p in ema.parameters():
        p.requires_grad_(False)
    if cfg.train_only:
        for name, p in model.named_parameters():
            p.requires_grad_(name.startswith(tuple(cfg.train_only.split(","))))
        if not any(p.requires_grad for p in model.parameters()):
            raise InputError("command line", "--train-only", "a prefix of at least one parameter name")
    if source is None:
        source = TeacherSource(cfg.size, cfg.views, workers=workers, seed=cfg.seed + step, materials=cfg.materials)
    t_start = time.monotonic()
    pool = [source.sample(rng) for _ in tqdm(range(cfg.pool), desc="teacher pool", disable=not progress)]
    end_step = cfg.steps if max_steps is None else min(cfg.steps, step + max_steps)
    last_save = time.monotonic()
    fed = len(pool)

    def save() -> None:
        nonlocal last_save
        torch_save_atomic({"train_config": _config_to_dict(cfg), "model": model.state_dict(), "ema": ema.state_dict(),
                           "opt": opt.state_dict(), "step": step, "history": history, "rng": rng.bit_generator.state,
                           "trained_s": trained_s + time.monotonic() - t_start}, state_path)
        recent = history[-50:]
        meta = {"step": step, "trained_minutes": round((trained_s + time.monotonic() - t_start) / 60, 2),
                "device": str(dev), "final_loss": float(np.mean([h["total"] for h in recent])) if recent else None,
                "train_config": {k: v for k, v in _config_to_dict(cfg).items() if k != "model"}}
        save_inference(out / "worldmodel.pt", ema, meta)
        (out / "history.json").write_text(json.dumps(history))
        plot_history(history, out / "loss.png")
        last_save = time.monotonic()

    def pool_loss() -> float:
        """Mean loss over the pool at lod 0 (fixed rng): comparable before and after this call."""
        model.eval()
        prng = np.random.default_rng(12345)
        with torch.no_grad():
            v = float(np.mean([float(entity_loss(model, it, 0, cfg, prng, dev)[0]) for it in pool[:16]]))
        model.train()
        return v

    pool_loss_start = pool_loss()
    bar = tqdm(total=end_step, initial=step, desc="train", disable=not progress)
    model.train()
    while step < end_step and (time.monotonic() - t_start) < minutes * 60:
        for g in opt.param_groups:
            g["lr"] = lr_at(step, cfg)
        opt.zero_grad(set_to_none=True)
        totals: dict[str, float] = {}
        loss_sum = 0.0
        for _ in range(cfg.batch):
            item = pool[int(rng.integers(len(pool)))]
            lod = int(rng.choice(len(LOD_PROBS), p=LOD_PROBS))
            loss, parts = entity_loss(model, item, lod, cfg, rng, dev)
            (loss / cfg.batch).backward()
            loss_sum += float(loss.detach()) / cfg.batch
            for k, v in parts.items():
                totals[k] = totals.get(k, 0.0) + v / cfg.batch
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(cfg.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters(), strict=True):
                pe.lerp_(pm, 1 - decay)
            for be, bm in zip(ema.buffers(), model.buffers(), strict=True):
                be.copy_(bm)
        step += 1
        history.append({"step": step, "total": loss_sum, **totals})
        bar.update(1)
        bar.set_postfix(loss=f"{loss_sum:.4f}")
        if not progress and step % 200 == 0:
            recent = history[-200:]
            log(f"step {step}/{end_step} loss {np.mean([h['total'] for h in recent]):.4f} "
                f"photo {np.mean([h['photo'] for h in recent]):.4f} "
                f"{(time.monotonic() - t_start) / 60:.1f} min, teacher items {fed}")
        if getattr(source, "procs", None):  # worker processes: take what is ready, never wait
            fresh = source.drain(cfg.refresh)
        else:  # rendered here (--workers 0), ``refresh`` items every step
            fresh = [source.sample(rng) for _ in range(cfg.refresh)]
        for it in fresh:
            pool[int(rng.integers(len(pool)))] = it
        fed += len(fresh)
        if time.monotonic() - last_save > save_minutes * 60:
            save()
    bar.close()
    save()
    if hasattr(source, "close"):
        source.close()
    recent = history[-20:]
    return {"step": step, "pool_loss_start": pool_loss_start, "pool_loss_end": pool_loss(), "steps": cfg.steps, "loss_first": history[0]["total"] if history else None,
            "loss_recent": float(np.mean([h["total"] for h in recent])) if recent else None,
            "elapsed_s": round(time.monotonic() - t_start, 1), "teacher_items": fed, "out": str(out)}


def plot_history(history: list[dict[str, float]], path: Path) -> None:
    """Loss curves (total and each term, smoothed) to a PNG."""
    if not history:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = np.array([h["step"] for h in history])
    k = max(1, len(history) // 100)
    for key in history[-1]:
        if key == "step":
            continue
        v = np.array([h.get(key, np.nan) for h in history])
        sm = np.convolve(v, np.ones(k) / k, mode="valid")
        ax.plot(steps[k - 1:], sm, label=key)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = path.with_suffix(".tmp.png")
    fig.savefig(buf, dpi=100)
    plt.close(fig)
    buf.replace(path)


def run_train(args: argparse.Namespace) -> int:
    """Entry point of `anchorworld worldmodel train`."""
    dev = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    cfg = TrainConfig(device=dev, seed=args.seed, backend=args.backend, train_only=args.train_only or "",
                      materials=list(args.materials or []), **(TINY if args.tiny else {}))
    for name in ("steps", "batch", "size", "views", "lr", "pool", "refresh", "warmup"):
        v = getattr(args, name)
        if v is not None:
            if v <= 0:
                raise InputError("command line", f"--{name}", "a positive number")
            setattr(cfg, name, v)
    if args.tiny and args.steps is None:
        cfg.steps = 30
    source = DatasetSource(args.data) if args.data else None
    res = train(cfg, args.out, source=source, minutes=args.minutes, save_minutes=args.save_minutes, max_steps=args.max_steps,
                progress=not args.no_progress, workers=args.workers,
                steps_override=args.steps is not None, init=args.init, materials_override=args.materials is not None)
    if args.export:
        import shutil

        Path(args.export).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(Path(args.out) / "worldmodel.pt", args.export)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":  # `python -m worldmodel.train ...` (the GPU machine has no console script)
    import sys

    from worldmodel.cli import add_train_arguments

    _p = argparse.ArgumentParser(prog="python -m worldmodel.train")
    add_train_arguments(_p)
    sys.exit(run_train(_p.parse_args()))
